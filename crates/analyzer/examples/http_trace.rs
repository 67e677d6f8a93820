//! A minimal HTTP trace: one line per request/response exchange with the session number, the
//! client, method, URL, status and how long the exchange took (first request byte to last
//! response byte, in packet time).
//!
//! Shows [`TransactionCollector`], which pairs a session's requests and responses and hands
//! each finished exchange over as a borrowed [`TransactionView`]; one collector per session,
//! dropped when the session ends (`Handler::tcp` sees the end after the HTTP decoder has
//! flushed it).
//!
//! ```text
//! $ cargo run -p pcap-analyzer --example http_trace -- tests/data/sample-http-ws.pcap
//! #0 [2001:db8:1::1]:36510 POST http://static.example.net/index.html?id=94467&page=28 200 0.007 ms
//! $ sudo target/debug/examples/http_trace -i lo
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::ops::ControlFlow;

use pcap_analyzer::{Analyzer, Handler, Stream};
use pcap_capture::Source;
use pcap_capture::live::LiveOptions;
use pcap_http_ws::{HttpEvent, TransactionCollector, TransactionView};
use pcap_tcp_reassembly::Event;

/// One transaction collector per open session.
#[derive(Default)]
struct Trace {
    sessions: HashMap<u64, TransactionCollector>,
}

impl Handler for Trace {
    type Error = Infallible;

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<Infallible> {
        let collector = self.sessions.entry(stream.id).or_default();
        collector.push(event, |tx| print(stream, tx));
        ControlFlow::Continue(())
    }

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<Infallible> {
        if event.kind.ended().is_some() {
            self.sessions.remove(&event.session);
        }
        ControlFlow::Continue(())
    }
}

fn print(stream: &Stream, tx: TransactionView<'_>) {
    let rec = tx.record();
    let ms = match (rec.request_start_ns, rec.response_end_ns) {
        (Some(start), Some(end)) => format!("{:.3} ms", (end - start) as f64 / 1e6),
        _ => "incomplete".to_owned(),
    };
    let status = tx
        .response()
        .map_or("-".to_owned(), |r| r.status.to_string());
    let request = tx.request();
    let host = request.and_then(|r| r.host()).unwrap_or(b"-");
    println!(
        "#{} {} {} http://{}{} {status} {ms}",
        stream.id,
        stream.client,
        request.map_or("-", |r| r.method),
        String::from_utf8_lossy(host),
        request.map_or("-", |r| r.uri),
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut source = match args.as_slice() {
        [flag, device] if flag == "-i" => Source::open_live(device, &LiveOptions::default())?,
        [path] => Source::open_file(path)?,
        _ => return Err("usage: http_trace FILE | http_trace -i IFACE".into()),
    };
    Analyzer::default().run(&mut source, &mut Trace::default())?;
    Ok(())
}
