//! The hostile captures of `pcap_testkit::adversarial` at small scale through the whole
//! chain (`pcap_analyzer::Analyzer`) with caps scaled down to match: after every packet the
//! reassembler's session table and buffers stay within their caps, and hitting a cap shows
//! as the documented event. `scripts/adversarial.sh` runs the same cases at full scale
//! through the binary with the default caps and measures peak RSS.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::io::Cursor;
use std::ops::ControlFlow;

use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler, Stream};
use pcap_capture::{FileReader, LinkType, Packet};
use pcap_decode::defrag::{DefragConfig, Defragmenter, FragKey};
use pcap_decode::{DecodeError, Decoded, Net, decode_packet};
use pcap_http_ws::{ErrorKind, HttpConfig, HttpError, HttpEvent, WsError};
use pcap_tcp_reassembly::{CloseReason, Config, Event, EventKind, Overlap};
use pcap_testkit::adversarial::{self, WriteFn};

/// What the handler saw.
#[derive(Debug, Default)]
struct Seen {
    starts: u64,
    evicted: u64,
    gaps: u64,
    gap_bytes: u64,
    data_bytes: u64,
    conflicting: u64,
    overlap_conflicts: u64,
    rsts_ignored: u64,
    resets: u64,
    ends: u64,
    requests: u64,
    body_bytes: u64,
    decoded_bytes: u64,
    responses_complete: u64,
    ws_messages: u64,
    errors: Vec<ErrorKind>,
}

impl Handler for Seen {
    type Error = Infallible;

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<Infallible> {
        match event.kind {
            EventKind::Start { .. } => self.starts += 1,
            EventKind::Closed {
                reason: CloseReason::Evicted,
                ..
            } => self.evicted += 1,
            EventKind::Gap { len, .. } => {
                self.gaps += 1;
                self.gap_bytes += len;
            }
            EventKind::Data { bytes, .. } => self.data_bytes += bytes.len() as u64,
            EventKind::Retransmission {
                overlap: Overlap::Different,
                ..
            } => self.conflicting += 1,
            EventKind::OverlapConflict { .. } => self.overlap_conflicts += 1,
            EventKind::RstIgnored { .. } => self.rsts_ignored += 1,
            EventKind::Reset { .. } => self.resets += 1,
            EventKind::End { .. } => self.ends += 1,
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn http(&mut self, _stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<Infallible> {
        match event {
            HttpEvent::Request(_) => self.requests += 1,
            HttpEvent::Body {
                data,
                decoded: false,
                ..
            } => self.body_bytes += data.len() as u64,
            HttpEvent::Body {
                data,
                decoded: true,
                ..
            } => self.decoded_bytes += data.len() as u64,
            HttpEvent::MessageComplete(m)
                if m.dir == pcap_http_ws::Direction::ServerToClient && m.complete =>
            {
                self.responses_complete += 1
            }
            HttpEvent::WsMessage(_) => self.ws_messages += 1,
            HttpEvent::Error(e) => self.errors.push(e.kind.clone()),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn capture(write: WriteFn, n: u64) -> Vec<u8> {
    let mut file = Vec::new();
    write(&mut file, n).unwrap();
    file
}

/// Runs `file` through an analyzer set up by `config`, checking the TCP caps after every packet.
fn analyze(file: Vec<u8>, config: AnalyzerConfig) -> (Seen, pcap_tcp_reassembly::Stats) {
    let tcp = config.tcp.clone();
    let mut analyzer = Analyzer::new(config);
    let mut reader = FileReader::from_reader(Cursor::new(file)).unwrap();
    let mut seen = Seen::default();
    while let Some(packet) = reader.next_packet().unwrap() {
        analyzer.push(&packet, &mut seen);
        let r = analyzer.reassembler();
        assert!(
            r.session_count() <= tcp.max_sessions,
            "{}",
            r.session_count()
        );
        assert!(r.buffered_bytes() <= tcp.max_buffered_total);
    }
    analyzer.finish(&mut seen);
    assert_eq!(analyzer.reassembler().session_count(), 0);
    assert_eq!(analyzer.reassembler().buffered_bytes(), 0);
    let stats = analyzer.reassembler().stats().clone();
    (seen, stats)
}

fn tcp_config(f: impl FnOnce(&mut Config)) -> AnalyzerConfig {
    let mut config = AnalyzerConfig::with_http(HttpConfig::default().with_decode_content(true));
    f(&mut config.tcp);
    config
}

#[test]
fn syn_flood_evicts_beyond_max_sessions() {
    let n = 5_000;
    let config = tcp_config(|c| c.max_sessions = 1_000);
    let (seen, stats) = analyze(capture(adversarial::syn_flood, n), config);
    assert_eq!(seen.starts, n);
    assert_eq!(stats.sessions, n);
    assert_eq!(stats.sessions_evicted, n - 1_000);
    assert_eq!(seen.evicted, n - 1_000);
}

#[test]
fn many_flows_keep_every_request_under_max_sessions() {
    let n = 3_000;
    let config = tcp_config(|c| c.max_sessions = 500);
    let (seen, stats) = analyze(capture(adversarial::many_flows, n), config);
    assert_eq!(
        seen.requests, n,
        "every request decoded before its session is evicted"
    );
    assert_eq!(stats.sessions_evicted, n - 500);
    assert!(
        seen.errors
            .iter()
            .all(|e| matches!(e, ErrorKind::Http(HttpError::IncompleteMessage))),
        "only the unanswered requests' ends: {:?}",
        seen.errors
    );
}

#[test]
fn partial_heads_stop_at_the_http_memory_budget() {
    let (n, budget) = (400, 256 << 10);
    let mut config = tcp_config(|c| c.max_sessions = 1_000);
    config.protocol_memory = budget;
    let mut analyzer = Analyzer::new(config);
    let file = capture(adversarial::partial_heads, n);
    let mut reader = FileReader::from_reader(Cursor::new(file)).unwrap();
    let mut seen = Seen::default();
    let mut peak = 0;
    while let Some(packet) = reader.next_packet().unwrap() {
        analyzer.push(&packet, &mut seen);
        peak = peak.max(analyzer.protocol_memory());
        // The session that takes the total over the budget is abandoned at once.
        assert!(analyzer.protocol_memory() <= budget);
    }
    // Each session holds a 4 KiB buffer and more: without the budget, 400 would hold
    // several times 256 KiB.
    assert!(peak > budget / 2, "{peak}");
    let shed = analyzer.protocol_abandoned();
    assert!(shed > 0 && shed < n, "{shed}");
    analyzer.finish(&mut seen);
    assert_eq!(analyzer.protocol_memory(), 0);
    let budget_errors = seen
        .errors
        .iter()
        .filter(|e| matches!(e, ErrorKind::Http(HttpError::MemoryBudget { .. })))
        .count() as u64;
    assert_eq!(budget_errors, shed);
    assert!(
        seen.errors.iter().all(|e| matches!(
            e,
            ErrorKind::Http(HttpError::MemoryBudget { .. } | HttpError::IncompleteMessage)
        )),
        "{:?}",
        seen.errors
    );
}

#[test]
fn many_flows_past_the_http_memory_budget_still_report_every_request() {
    let n = 2_000;
    let mut config = tcp_config(|c| c.max_sessions = 4_000);
    config.protocol_memory = 128 << 10;
    let mut analyzer = Analyzer::new(config);
    let mut reader =
        FileReader::from_reader(Cursor::new(capture(adversarial::many_flows, n))).unwrap();
    let mut records = Records::default();
    while let Some(packet) = reader.next_packet().unwrap() {
        analyzer.push(&packet, &mut records);
    }
    let shed = analyzer.protocol_abandoned();
    assert!(shed > 0, "the budget was reached");
    // Shed sessions' requests are reported at once, the others at the end of the input.
    assert_eq!(records.0, shed);
    analyzer.finish(&mut records);
    assert_eq!(records.0, n, "one record per request, none lost");
}

/// Counts transaction records that carry a request.
#[derive(Debug, Default)]
struct Records(u64);

impl Handler for Records {
    type Error = Infallible;

    fn http(&mut self, _stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<Infallible> {
        if let HttpEvent::Transaction(r) = event {
            self.0 += u64::from(r.request_start_ns.is_some() && r.status.is_none());
        }
        ControlFlow::Continue(())
    }
}

#[test]
fn hole_is_given_up_at_the_per_direction_cap() {
    let n = 2 << 20;
    let cap = 256 << 10;
    let config = tcp_config(|c| c.max_buffered_per_direction = cap);
    let file = capture(adversarial::hole, n);
    // Check the per-direction cap after every packet too (one session: total = direction).
    let mut analyzer = Analyzer::new(config.clone());
    let mut reader = FileReader::from_reader(Cursor::new(file.clone())).unwrap();
    let mut seen = Seen::default();
    while let Some(packet) = reader.next_packet().unwrap() {
        analyzer.push(&packet, &mut seen);
        assert!(analyzer.reassembler().buffered_bytes() <= cap);
    }
    let (seen, stats) = analyze(file, config);
    assert_eq!(seen.gaps, 1);
    assert_eq!(seen.gap_bytes, 1_400, "the lost segment");
    assert_eq!(seen.data_bytes, n, "everything after the hole delivered");
    assert_eq!(stats.cap_flushes, 1);
}

#[test]
fn conflicting_retransmissions_keep_the_first_bytes() {
    let n = 400;
    let (seen, stats) = analyze(capture(adversarial::overlap, n), tcp_config(|_| {}));
    assert_eq!(seen.data_bytes, n * 1_400);
    assert_eq!(seen.gaps, 0);
    assert!(
        seen.conflicting >= n / 2,
        "each buffered segment's conflicting copy is reported: {seen:?}"
    );
    assert_eq!(
        seen.overlap_conflicts,
        n / 2,
        "one per held segment sent again"
    );
    assert_eq!(stats.conflicting_overlaps, seen.overlap_conflicts);
}

#[test]
fn acks_past_holes_make_a_gap_each() {
    let n = 5;
    let (seen, stats) = analyze(
        capture(adversarial::ack_past_holes, n),
        AnalyzerConfig::default(),
    );
    assert_eq!(seen.gaps, n, "one gap per acknowledged hole");
    assert_eq!(seen.gap_bytes, n * u64::from(adversarial::ACK_HOLE));
    assert_eq!(seen.data_bytes, n, "every byte after a hole is delivered");
    assert_eq!(stats.gaps, n);
}

#[test]
fn forged_rsts_are_ignored_and_sessions_go_on() {
    let n = 300;
    let (seen, stats) = analyze(capture(adversarial::rst_inject, n), tcp_config(|_| {}));
    assert_eq!((seen.rsts_ignored, stats.rsts_ignored), (2 * n, 2 * n));
    assert_eq!(
        (seen.resets, seen.ends),
        (0, n),
        "every session ends with its FINs"
    );
    assert_eq!(
        seen.responses_complete, n,
        "every response after the RSTs decoded"
    );
}

#[test]
fn endless_chunked_body_streams_without_completing() {
    let n = 1 << 20;
    let (seen, _) = analyze(capture(adversarial::chunked_endless, n), tcp_config(|_| {}));
    // Each segment is one chunk: "568\r\n", 1384 bytes, "\r\n".
    let segments = n.div_ceil(5 + 1_384 + 2);
    assert_eq!(
        seen.body_bytes,
        segments * 1_384,
        "every chunk's data delivered"
    );
    assert_eq!(seen.responses_complete, 0);
    assert!(
        seen.errors
            .iter()
            .any(|e| matches!(e, ErrorKind::Http(HttpError::IncompleteMessage))),
        "{:?}",
        seen.errors
    );
}

#[test]
fn endless_websocket_message_hits_the_message_cap() {
    let mut config = tcp_config(|_| {});
    let mut http = HttpConfig::default();
    http.ws_max_message = 64 << 10;
    config.http = Some(http);
    let (seen, _) = analyze(capture(adversarial::ws_endless, 1 << 20), config);
    assert_eq!(seen.ws_messages, 0);
    assert!(
        seen.errors
            .iter()
            .any(|e| matches!(e, ErrorKind::WebSocket(WsError::MessageTooBig { .. }))),
        "{:?}",
        seen.errors
    );
}

#[test]
fn gzip_bomb_stops_at_max_decoded_body() {
    let cap = 1 << 20;
    let mut config = tcp_config(|_| {});
    let mut http = HttpConfig::default().with_decode_content(true);
    http.max_decoded_body = cap;
    config.http = Some(http);
    // 4 members of 16 MiB: 64 MiB inflated from about 64 KiB.
    let (seen, _) = analyze(capture(adversarial::gzip_bomb, 4), config);
    assert!(seen.decoded_bytes <= cap, "{}", seen.decoded_bytes);
    assert!(
        seen.errors
            .iter()
            .any(|e| matches!(e, ErrorKind::Http(HttpError::DecodedBodyTooLarge { .. }))),
        "{:?}",
        seen.errors
    );
}

/// Runs `file` through `config`, returning what was seen, the peak of the protocol
/// memory count and how many sessions the budget stopped; the count stays within the
/// budget after every packet.
fn analyze_budget(file: Vec<u8>, config: AnalyzerConfig) -> (Seen, usize, u64) {
    let budget = config.protocol_memory;
    let mut analyzer = Analyzer::new(config);
    let mut reader = FileReader::from_reader(Cursor::new(file)).unwrap();
    let mut seen = Seen::default();
    let mut peak = 0;
    while let Some(packet) = reader.next_packet().unwrap() {
        analyzer.push(&packet, &mut seen);
        peak = peak.max(analyzer.protocol_memory());
        assert!(analyzer.protocol_memory() <= budget);
    }
    let shed = analyzer.protocol_abandoned();
    analyzer.finish(&mut seen);
    (seen, peak, shed)
}

#[test]
fn brotli_windows_over_the_cap_are_refused() {
    let n = 3;
    let file = capture(adversarial::brotli_windows, n);
    let (seen, peak, shed) = analyze_budget(file, tcp_config(|_| {}));
    let refused = seen
        .errors
        .iter()
        .filter(|e| {
            matches!(
                e,
                ErrorKind::Http(HttpError::BrotliWindowTooLarge {
                    window: 16_777_200,
                    max: 4_194_288
                })
            )
        })
        .count() as u64;
    assert_eq!(refused, n, "{:?}", seen.errors);
    assert_eq!(seen.decoded_bytes, 0);
    assert_eq!(shed, 0);
    // No decoder held: the sessions' buffers only.
    assert!(peak < 256 << 10, "{peak}");
}

#[test]
fn brotli_windows_within_a_raised_cap_count_in_the_budget() {
    // With a 16 MiB cap the windows are accepted and each session counts one: a budget of
    // 40 MiB holds two of them and stops the third.
    let n = 3;
    let mut config = tcp_config(|_| {});
    if let Some(http) = config.http.as_mut() {
        http.max_brotli_window = 16 << 20;
    }
    config.protocol_memory = 40 << 20;
    let file = capture(adversarial::brotli_windows, n);
    let (seen, peak, shed) = analyze_budget(file, config);
    assert!(peak >= 2 * (16 << 20), "{peak}");
    assert_eq!(shed, 1);
    assert!(seen.decoded_bytes > 0);
    assert!(
        !seen
            .errors
            .iter()
            .any(|e| matches!(e, ErrorKind::Http(HttpError::BrotliWindowTooLarge { .. }))),
        "{:?}",
        seen.errors
    );
}

/// Every packet of a capture, decoded.
fn for_each_decoded(file: Vec<u8>, mut f: impl FnMut(&Packet<'_>, &Decoded<'_>)) -> u64 {
    let mut reader = FileReader::from_reader(Cursor::new(file)).unwrap();
    let mut n = 0;
    while let Some(p) = reader.next_packet().unwrap() {
        n += 1;
        f(&p, &decode_packet(LinkType::ETHERNET, p.data));
    }
    n
}

#[test]
fn nested_vlans_stop_at_max_vlans() {
    let n = for_each_decoded(capture(adversarial::vlan_nested, 20), |_, d| {
        assert_eq!(d.vlans.len(), pcap_decode::vlan::MAX_VLANS);
        assert!(d.net.is_none());
        assert!(d.stop.is_some(), "the depth is reported");
    });
    assert_eq!(n, 20);
}

#[test]
fn nested_tunnels_stop_at_max_tunnels() {
    let n = for_each_decoded(capture(adversarial::tunnel_nested, 4), |_, d| {
        assert_eq!(d.tunnels.len(), pcap_decode::tunnel::MAX_TUNNELS);
        assert!(
            d.tcp().is_none(),
            "the inner TCP is {} layers down",
            adversarial::TUNNEL_NESTING
        );
        assert!(
            matches!(
                d.stop,
                Some(DecodeError::Malformed {
                    field: "tunnel depth",
                    ..
                })
            ),
            "the depth is reported: {:?}",
            d.stop
        );
    });
    assert_eq!(n, 4);
    // Through the whole chain too (the analyzer decodes every packet the same way).
    analyze(
        capture(adversarial::tunnel_nested, 4),
        AnalyzerConfig::default(),
    );
}

#[test]
fn dns_pointer_loops_end() {
    let n = for_each_decoded(capture(adversarial::dns_loop, 30), |_, d| {
        let dns = d.dns().expect("a DNS message on port 53");
        if let Ok(msg) = dns {
            // Iterating names must end, with errors instead of names.
            let names: Vec<Vec<&[u8]>> = msg
                .questions()
                .flatten()
                .map(|q| q.name.labels().collect())
                .collect();
            let lens = names
                .iter()
                .map(|labels| labels.iter().map(|l| l.len() + 1).sum());
            assert!(lens.into_iter().all(|n: usize| n < 1_100), "{names:?}");
        }
    });
    assert_eq!(n, 30);
}

#[test]
fn incomplete_fragments_stay_under_the_defrag_caps() {
    let mut config = DefragConfig::default();
    config.max_buffered_bytes = 64 << 10;
    let cap_bytes = config.max_buffered_bytes;
    let cap_datagrams = config.max_datagrams;
    let mut defrag = Defragmenter::new(config);
    let n = for_each_decoded(capture(adversarial::frag_never, 5_000), |p, d| {
        let f = d.fragment().expect("a fragment");
        let (Some(src), Some(dst), Some(proto)) = (
            d.src_ip(),
            d.dst_ip(),
            d.net.as_ref().and_then(Net::protocol),
        ) else {
            panic!("IPv4 addresses");
        };
        let key = FragKey {
            src,
            dst,
            protocol: proto,
            id: f.id,
            tunnel: 0,
        };
        let out = defrag.push(p.ts_ns, key, f.offset, f.more, d.ip_payload(p.data));
        assert!(matches!(out, Ok(None)), "never complete");
        assert!(defrag.buffered_bytes() <= cap_bytes);
        assert!(defrag.pending_datagrams() <= cap_datagrams);
    });
    assert_eq!(n, 5_000);
    assert!(defrag.buffered_bytes() > 0);
}
