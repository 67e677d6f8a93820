//! Protocol detection with more than one candidate per session: HTTP and a protocol of the
//! test's own are both offered every session, and each session ends up with the one whose
//! content it carries. Also: a handler that stops the run ends it with its error.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use std::ops::ControlFlow;

use pcap_analyzer::protocol::{Cx, Detection, Protocol, ProtocolSession};
use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler, RunError, Stream};
use pcap_capture::{LinkType, Packet};
use pcap_decode::build::{TcpSpec, ipv4_tcp};
use pcap_http_ws::{HttpConfig, HttpEvent};
use pcap_tcp_reassembly::Direction;

/// What the handler saw: HTTP request lines and pings, each with its session.
#[derive(Default)]
struct Seen {
    requests: Vec<(u64, String)>,
    pings: Vec<u64>,
    /// Stop the run on the first ping, with this error.
    stop_on_ping: Option<&'static str>,
}

impl Handler for Seen {
    type Error = &'static str;

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<&'static str> {
        if let HttpEvent::Request(r) = event {
            self.requests
                .push((stream.id, format!("{} {}", r.method, r.uri)));
        }
        ControlFlow::Continue(())
    }
}

impl Seen {
    fn ping(&mut self, stream: &Stream) -> ControlFlow<&'static str> {
        self.pings.push(stream.id);
        match self.stop_on_ping {
            Some(e) => ControlFlow::Break(e),
            None => ControlFlow::Continue(()),
        }
    }
}

/// A line protocol whose client says `PING`: a candidate for any session whose client
/// starts with a capital letter, as HTTP's is.
struct Ping;

impl Protocol<Seen> for Ping {
    fn name(&self) -> &'static str {
        "ping"
    }

    fn probe(&self, dir: Direction, prefix: &[u8]) -> bool {
        dir == Direction::ClientToServer && prefix.first().is_some_and(u8::is_ascii_uppercase)
    }

    fn start(&self) -> Box<dyn ProtocolSession<Seen>> {
        Box::new(PingSession(Detection::Undecided))
    }
}

struct PingSession(Detection);

impl ProtocolSession<Seen> for PingSession {
    fn data(&mut self, cx: &mut Cx<'_, Seen>, _: Direction, _: i64, bytes: &[u8]) {
        if bytes.starts_with(b"PING\r\n") {
            self.0 = Detection::Confirmed;
            let stream = cx.stream;
            cx.report(|h| h.ping(&stream));
        } else {
            self.0 = Detection::Rejected;
        }
    }

    fn gap(&mut self, _: &mut Cx<'_, Seen>, _: Direction, _: i64, _: u64) {}

    fn end(&mut self, _: &mut Cx<'_, Seen>, _: Option<Direction>, _: i64) {}

    fn abandon(&mut self, _: &mut Cx<'_, Seen>, _: usize, _: i64) {}

    fn memory(&self) -> usize {
        0
    }

    fn detection(&self) -> Detection {
        self.0
    }
}

/// Session 0 speaks HTTP, session 1 pings: one client segment each, picked up mid-stream.
fn frames() -> [Vec<u8>; 2] {
    let segment = |src_port, payload: &[u8]| {
        let tcp = TcpSpec {
            src_port,
            flags: 0x018, // PSH, ACK
            ..TcpSpec::default()
        };
        ipv4_tcp(&tcp, payload)
    };
    [
        segment(40000, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"),
        segment(40001, b"PING\r\n"),
    ]
}

fn run(seen: &mut Seen) -> ControlFlow<&'static str> {
    let mut analyzer = Analyzer::new(AnalyzerConfig::with_http(HttpConfig::default()));
    analyzer.register(Box::new(Ping));
    for (i, frame) in frames().iter().enumerate() {
        let len = frame.len() as u32;
        let packet = Packet {
            ts_ns: i as i64,
            caplen: len,
            orig_len: len,
            link_type: LinkType::ETHERNET,
            interface: 0,
            fcs_len: 0,
            data: frame,
        };
        analyzer.push(&packet, seen)?;
    }
    analyzer.finish(seen)
}

#[test]
fn each_session_keeps_the_candidate_its_content_confirms() {
    let mut seen = Seen::default();
    assert_eq!(run(&mut seen), ControlFlow::Continue(()));
    assert_eq!(seen.requests, [(0, "GET /a".to_owned())]);
    assert_eq!(seen.pings, [1]);
}

#[test]
fn a_handler_error_stops_the_run() {
    let mut seen = Seen {
        stop_on_ping: Some("enough"),
        ..Seen::default()
    };
    assert_eq!(run(&mut seen), ControlFlow::Break("enough"));
    assert_eq!(seen.pings, [1]);

    // Through `run`, the error comes back as the handler's.
    let file = pcap_testkit::ethernet_pcap(
        frames()
            .iter()
            .enumerate()
            .map(|(i, f)| (i as i64, f.as_slice())),
    );
    let mut reader = pcap_capture::FileReader::from_reader(std::io::Cursor::new(file)).unwrap();
    let mut seen = Seen {
        stop_on_ping: Some("enough"),
        ..Seen::default()
    };
    let mut analyzer = Analyzer::new(AnalyzerConfig::with_http(HttpConfig::default()));
    analyzer.register(Box::new(Ping));
    assert!(matches!(
        analyzer.run(&mut reader, &mut seen),
        Err(RunError::Handler("enough"))
    ));
}
