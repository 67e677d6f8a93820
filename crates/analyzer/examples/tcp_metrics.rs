//! Per-session TCP metrics, printed when each session ends: the handshake round-trip time
//! (SYN -> SYN/ACK -> ACK, split into its two halves as seen from the capture point), bytes
//! each way, retransmissions, duration and how the session ended.
//!
//! Shows the two lower-level `Handler` methods together: `packet` sees every decoded packet
//! (here: TCP flags and timestamps of the handshake, keyed by client and server address),
//! and `tcp` reports each session's end with a [`SessionInfo`] summary from the reassembler.
//!
//! ```text
//! $ cargo run -p pcap-analyzer --example tcp_metrics -- tests/data/sample-http-ws.pcap
//! #0 [2001:db8:1::1]:36510 -> [2001:db8:ffff::82]:80 rtt 0.006 ms (0.001 + 0.005) c2s 1522 B s2c 1772 B retrans 0 duration 0.494 ms closed
//! $ sudo target/debug/examples/tcp_metrics -i lo
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::ops::ControlFlow;

use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler};
use pcap_capture::live::LiveOptions;
use pcap_capture::{Packet, Source};
use pcap_decode::Decoded;
use pcap_tcp_reassembly::{Event, SessionInfo};

/// Packet times (ns) of the three handshake packets, first copy of each.
#[derive(Debug, Default)]
struct Handshake {
    syn: Option<i64>,
    syn_ack: Option<i64>,
    ack: Option<i64>,
}

/// Handshakes by (client, server), until their session ends.
#[derive(Default)]
struct Metrics {
    handshakes: HashMap<(SocketAddr, SocketAddr), Handshake>,
}

impl Handler for Metrics {
    type Error = Infallible;

    fn packet(
        &mut self,
        _frame: u64,
        packet: &Packet<'_>,
        decoded: &Decoded<'_>,
    ) -> ControlFlow<Infallible> {
        let (Some(tcp), Some(src), Some(dst)) = (decoded.tcp(), decoded.src_ip(), decoded.dst_ip())
        else {
            return ControlFlow::Continue(());
        };
        let from = SocketAddr::new(src, tcp.src_port());
        let to = SocketAddr::new(dst, tcp.dst_port());
        let (flags, ts) = (tcp.flags(), packet.ts_ns);
        if flags.syn() && !flags.ack() {
            let h = self.handshakes.entry((from, to)).or_default();
            if h.ack.is_some() {
                *h = Handshake::default(); // the port pair is reused by a new session
            }
            h.syn.get_or_insert(ts);
        } else if flags.syn() {
            if let Some(h) = self.handshakes.get_mut(&(to, from)) {
                h.syn_ack.get_or_insert(ts);
            }
        } else if let Some(h) = self.handshakes.get_mut(&(from, to)) {
            if flags.ack() && h.syn_ack.is_some() {
                h.ack.get_or_insert(ts);
            }
        }
        ControlFlow::Continue(())
    }

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<Infallible> {
        let Some(info) = event.kind.ended() else {
            return ControlFlow::Continue(());
        };
        let handshake = self.handshakes.remove(&(info.client, info.server));
        println!("{}", line(info, handshake.as_ref()));
        ControlFlow::Continue(())
    }
}

fn ms(ns: i64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

fn line(info: &SessionInfo, handshake: Option<&Handshake>) -> String {
    let rtt = match handshake {
        Some(&Handshake {
            syn: Some(syn),
            syn_ack: Some(syn_ack),
            ack: Some(ack),
        }) => {
            format!(
                "rtt {} ms ({} + {})",
                ms(ack - syn),
                ms(syn_ack - syn),
                ms(ack - syn_ack)
            )
        }
        _ => "rtt - (no handshake seen)".to_owned(),
    };
    format!(
        "#{} {} -> {} {rtt} c2s {} B s2c {} B retrans {} duration {} ms {}",
        info.id,
        info.client,
        info.server,
        info.bytes_c2s,
        info.bytes_s2c,
        info.retransmissions,
        ms(info.last_ts_ns - info.first_ts_ns),
        info.state.as_str(),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut source = match args.as_slice() {
        [flag, device] if flag == "-i" => Source::open_live(device, &LiveOptions::default())?,
        [path] => Source::open_file(path)?,
        _ => return Err("usage: tcp_metrics FILE | tcp_metrics -i IFACE".into()),
    };
    Analyzer::new(AnalyzerConfig::tcp_only()).run(&mut source, &mut Metrics::default())?;
    Ok(())
}
