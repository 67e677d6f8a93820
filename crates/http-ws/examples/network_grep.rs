//! Regular expressions over reassembled TCP streams, node_pcap's `network_grep`: prints the
//! session, the direction (sender -> receiver) and every match, even one split across
//! segments or sent out of order.
//!
//! Shows `Handler::tcp` with HTTP decoding off ([`AnalyzerConfig::tcp_only`]): `Start` gives
//! the endpoints, `Data` the in-order bytes of each direction, `Gap` the bytes that will never
//! come. Each direction keeps only the bytes after its last match, capped at `WINDOW`,
//! so memory stays bounded on any traffic.
//!
//! ```text
//! $ cargo run -p pcap-http-ws --example network_grep -- 'Host: [a-z.]+' tests/data/sample-http-ws.pcap
//! #0 [2001:db8:1::1]:36510 -> [2001:db8:ffff::82]:80 Host: static.example.net
//! $ sudo target/debug/examples/network_grep '(?i)authorization: .*' -i lo
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;

use pcap_capture::Source;
use pcap_capture::live::LiveOptions;
use pcap_http_ws::pipeline::{Analyzer, AnalyzerConfig, Handler};
use pcap_tcp_reassembly::{Direction, Event, EventKind};
use regex::bytes::Regex;

/// The longest match that can be found, and the most bytes kept per direction.
const WINDOW: usize = 64 * 1024;

/// A session's endpoints and, per direction, the bytes not yet part of a match.
struct Session {
    client: SocketAddr,
    server: SocketAddr,
    pending: [Vec<u8>; 2],
}

struct Grep {
    regex: Regex,
    sessions: HashMap<u64, Session>,
}

impl Handler for Grep {
    fn tcp(&mut self, event: &Event<'_>) {
        let id = event.session;
        match event.kind {
            EventKind::Start { client, server, .. } => {
                let pending = [Vec::new(), Vec::new()];
                self.sessions.insert(
                    id,
                    Session {
                        client,
                        server,
                        pending,
                    },
                );
            }
            EventKind::Data { dir, bytes, .. } => {
                let Some(s) = self.sessions.get_mut(&id) else {
                    return;
                };
                let (from, to) = match dir {
                    Direction::ClientToServer => (s.client, s.server),
                    Direction::ServerToClient => (s.server, s.client),
                };
                let pending = &mut s.pending[dir as usize];
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
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.pending[dir as usize].clear();
                }
            }
            EventKind::End { .. } | EventKind::Reset { .. } | EventKind::Closed { .. } => {
                self.sessions.remove(&id);
            }
            _ => {}
        }
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
        sessions: HashMap::new(),
    };
    Analyzer::new(AnalyzerConfig::tcp_only()).run(&mut source, &mut grep)?;
    Ok(())
}
