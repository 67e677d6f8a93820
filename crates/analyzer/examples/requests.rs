//! The README's "Your own analysis in a few lines" program: every HTTP request's client,
//! method and URL, from a capture file.
//!
//! Shows the smallest useful [`Handler`]: implement `http` only, match on
//! [`HttpEvent::Request`], and let [`Analyzer`] do decoding, TCP reassembly and HTTP parsing.
//! The code below this comment is the README's text, word for word (a test checks it).
//!
//! ```text
//! $ cargo run -p pcap-analyzer --example requests -- tests/data/sample-http-ws.pcap
//! [2001:db8:1::1]:36510 POST http://static.example.net/index.html?id=94467&page=28
//! ```

use std::convert::Infallible;
use std::ops::ControlFlow;

use pcap_analyzer::{Analyzer, Handler, Stream};
use pcap_capture::Source;
use pcap_http_ws::HttpEvent;

/// Prints every HTTP request's method and URL.
struct Requests;

impl Handler for Requests {
    type Error = Infallible;

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<Infallible> {
        if let HttpEvent::Request(r) = event {
            let host = r.headers.get("host").unwrap_or_default().escape_ascii();
            println!("{} {} http://{host}{}", stream.client, r.method, r.uri);
        }
        ControlFlow::Continue(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: requests FILE")?;
    let mut source = Source::open_file(path)?;
    Analyzer::default().run(&mut source, &mut Requests)?;
    Ok(())
}
