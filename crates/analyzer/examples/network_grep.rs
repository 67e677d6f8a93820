//! Regular expressions over reassembled TCP streams, node_pcap's `network_grep`: prints the
//! session, the direction (sender -> receiver) and every match, even one split across
//! segments or sent out of order.
//!
//! Shows `Handler::tcp` with HTTP decoding off ([`AnalyzerConfig::tcp_only`]): every event
//! names the session's endpoints, `Data` gives the in-order bytes of each direction, `Gap` the
//! bytes that will never come. A session gets state on its first bytes (a SYN flood costs
//! nothing here) and loses it when it ends; each direction keeps only the bytes after its
//! last match, capped at `WINDOW`, so memory stays bounded on any traffic.
//!
//! ```text
//! $ cargo run -p pcap-analyzer --example network_grep -- 'Host: [a-z.]+' tests/data/sample-http-ws.pcap
//! #0 [2001:db8:1::1]:36510 -> [2001:db8:ffff::82]:80 Host: static.example.net
//! $ sudo target/debug/examples/network_grep '(?i)authorization: .*' -i lo
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::ops::ControlFlow;

use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler};
use pcap_capture::Source;
use pcap_capture::live::LiveOptions;
use pcap_tcp_reassembly::{Direction, Event, EventKind};
use regex::bytes::Regex;

/// The longest match that can be found, and the most bytes kept per direction.
const WINDOW: usize = 64 * 1024;

struct Grep {
    regex: Regex,
    /// Per session that carried bytes, per direction: the bytes not yet part of a match.
    pending: HashMap<u64, [Vec<u8>; 2]>,
}

impl Handler for Grep {
    type Error = Infallible;

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<Infallible> {
        let id = event.session;
        match event.kind {
            EventKind::Data { dir, bytes, .. } => {
                let (from, to) = match dir {
                    Direction::ClientToServer => (event.client, event.server),
                    Direction::ServerToClient => (event.server, event.client),
                };
                let pending = &mut self.pending.entry(id).or_default()[dir as usize];
                pending.extend_from_slice(bytes);
                let mut end = 0;
                for m in self.regex.find_iter(pending) {
                    println!("#{id} {from} -> {to} {}", m.as_bytes().escape_ascii());
                    end = m.end();
                }
                // Keep what may still start a match: after the last match, at most WINDOW bytes.
                let keep_from = end.max(pending.len().saturating_sub(WINDOW));
                pending.drain(..keep_from);
            }
            // A match cannot span bytes that were never captured.
            EventKind::Gap { dir, .. } => {
                if let Some(p) = self.pending.get_mut(&id) {
                    p[dir as usize].clear();
                }
            }
            EventKind::End { .. } | EventKind::Reset { .. } | EventKind::Closed { .. } => {
                self.pending.remove(&id);
            }
            _ => {}
        }
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
    let mut grep = Grep {
        regex: Regex::new(pattern)?,
        pending: HashMap::new(),
    };
    Analyzer::new(AnalyzerConfig::tcp_only()).run(&mut source, &mut grep)?;
    Ok(())
}
