//! Regular expressions over reassembled TCP streams, node_pcap's `network_grep`: prints the
//! session, the direction (sender -> receiver) and every match, even one split across
//! segments or sent out of order.
//!
//! Shows [`pcap_analyzer::search`] on top of `Handler::tcp` with HTTP decoding off
//! ([`AnalyzerConfig::tcp_only`]): every reassembler event goes to a [`StreamSearch`], which
//! keeps a bounded window per session direction (a session gets one on its first bytes and
//! loses it when it ends; a gap ends the window), shares one memory budget across sessions,
//! and reports each match once its bytes are complete. `pcap-cli grep` is built the same way.
//!
//! ```text
//! $ cargo run -p pcap-analyzer --example network_grep -- 'Host: [a-z.]+' tests/data/sample-http-ws.pcap
//! #0 [2001:db8:1::1]:36510 -> [2001:db8:ffff::82]:80 Host: static.example.net
//! $ sudo target/debug/examples/network_grep '(?i)authorization: .*' -i lo
//! ```

use std::convert::Infallible;
use std::ops::ControlFlow;

use pcap_analyzer::search::{Match, Pattern, SearchConfig, StreamSearch};
use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler};
use pcap_capture::Source;
use pcap_capture::live::LiveOptions;
use pcap_tcp_reassembly::{Direction, Event};

struct Grep {
    search: StreamSearch,
}

impl Handler for Grep {
    type Error = Infallible;

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<Infallible> {
        self.search.event(event, |m: Match<'_>| {
            let (from, to) = match m.dir {
                Direction::ClientToServer => (m.stream.client, m.stream.server),
                Direction::ServerToClient => (m.stream.server, m.stream.client),
            };
            println!(
                "#{} {from} -> {to} {}",
                m.stream.id,
                m.bytes().escape_ascii()
            );
        });
        ControlFlow::Continue(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (pattern, mut source) = match args.as_slice() {
        [p, flag, device] if flag == "-i" => {
            (p, Source::open_live(device, &LiveOptions::default())?)
        }
        [p, path] => (p, Source::open_file(path)?),
        _ => return Err("usage: network_grep REGEX FILE | network_grep REGEX -i IFACE".into()),
    };
    // No context, the default 64 MiB budget.
    let search = StreamSearch::new(Pattern::new(pattern, false)?, SearchConfig::default());
    let mut grep = Grep { search };
    Analyzer::new(AnalyzerConfig::tcp_only()).run(&mut source, &mut grep)?;
    Ok(())
}
