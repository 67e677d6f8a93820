//! The whole chain on the repository's sample capture, checked against the generator's truth
//! file (`tests/data/sample-http-ws.pcap.truth.json`).
#![allow(missing_docs)]

use std::convert::Infallible;
use std::ops::ControlFlow;

use pcap_analyzer::{Analyzer, Handler, Stream};
use pcap_capture::Source;
use pcap_http_ws::{Direction, HttpEvent};
use pcap_tcp_reassembly::{Event, EventKind};

#[derive(Default)]
struct Counts {
    packets: u64,
    sessions: u64,
    bytes: [u64; 2],
    requests: u64,
    posts: u64,
    responses_101: u64,
    responses_200: u64,
    ws_messages: [u64; 2],
}

fn index(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

impl Handler for Counts {
    type Error = Infallible;

    fn packet(
        &mut self,
        _: u64,
        _: &pcap_capture::Packet<'_>,
        _: &pcap_decode::Decoded<'_>,
    ) -> ControlFlow<Infallible> {
        self.packets += 1;
        ControlFlow::Continue(())
    }

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<Infallible> {
        match event.kind {
            EventKind::Start { .. } => self.sessions += 1,
            EventKind::Data { dir, bytes, .. } => self.bytes[index(dir)] += bytes.len() as u64,
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<Infallible> {
        assert_eq!(
            stream.server.port(),
            80,
            "HTTP roles: the server listens on 80"
        );
        match event {
            HttpEvent::Request(r) => {
                self.requests += 1;
                self.posts += u64::from(r.method == "POST");
            }
            HttpEvent::Response(r) if r.status == 101 => self.responses_101 += 1,
            HttpEvent::Response(r) if r.status == 200 => self.responses_200 += 1,
            HttpEvent::WsMessage(m) => self.ws_messages[index(m.dir)] += 1,
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

#[test]
fn sample_capture_matches_generator_truth() {
    let path = pcap_testkit::test_data("sample-http-ws.pcap");
    let mut source = Source::open_file(&path).unwrap();
    let mut counts = Counts::default();
    let mut analyzer = Analyzer::default();
    analyzer.run(&mut source, &mut counts).unwrap();

    // Figures from sample-http-ws.pcap.truth.json.
    assert_eq!(counts.packets, 181);
    assert_eq!(counts.sessions, 8);
    assert_eq!(counts.bytes, [8087, 21721]);
    assert_eq!(counts.requests, 14);
    assert_eq!(counts.posts, 2);
    assert_eq!(counts.responses_101, 2);
    assert_eq!(counts.responses_200, 12);
    assert_eq!(counts.ws_messages, [7, 20]);
}

/// Collects request lines.
#[derive(Default)]
struct RequestLines(Vec<String>);

impl Handler for RequestLines {
    type Error = Infallible;

    fn http(&mut self, _: &Stream, event: &HttpEvent<'_>) -> ControlFlow<Infallible> {
        if let HttpEvent::Request(r) = event {
            self.0.push(format!("{} {}", r.method, r.uri));
        }
        ControlFlow::Continue(())
    }
}

#[test]
fn tcp_carried_in_ipv4_fragments_is_reassembled_before_decoding() {
    use pcap_capture::{LinkType, Packet};
    use pcap_decode::build::{TcpSpec, ipv4_tcp};

    let request = b"GET /fragmented HTTP/1.1\r\nHost: example\r\n\r\n";
    let tcp = TcpSpec {
        flags: 0x018, // PSH, ACK
        ..TcpSpec::default()
    };
    let frame = ipv4_tcp(&tcp, request);
    // Ethernet (14) + IPv4 (20): split the IP payload after 24 bytes (a multiple of 8).
    let (head, ip_payload) = frame.split_at(34);
    let (first, second) = ip_payload.split_at(24);
    let fragment = |offset: usize, more: bool, data: &[u8]| {
        let mut f = head.to_vec();
        let total = (20 + data.len()) as u16;
        f[16..18].copy_from_slice(&total.to_be_bytes());
        let flags_offset = (u16::from(more) << 13) | (offset / 8) as u16;
        f[20..22].copy_from_slice(&flags_offset.to_be_bytes());
        f.extend_from_slice(data);
        f
    };
    // Delivered in reverse order, as happens on real networks.
    let frames = [fragment(24, false, second), fragment(0, true, first)];

    let mut analyzer = Analyzer::default();
    let mut lines = RequestLines::default();
    for (i, f) in frames.iter().enumerate() {
        let len = f.len() as u32;
        let packet = Packet {
            ts_ns: i as i64,
            caplen: len,
            orig_len: len,
            link_type: LinkType::ETHERNET,
            interface: 0,
            data: f,
        };
        analyzer.push(&packet, &mut lines);
    }
    analyzer.finish(&mut lines);
    assert_eq!(lines.0, ["GET /fragmented"]);
}
