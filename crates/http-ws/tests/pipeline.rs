//! The whole chain on the repository's sample capture, checked against the generator's truth
//! file (`tests/data/sample-http-ws.pcap.truth.json`).
#![allow(missing_docs)]

use pcap_capture::Source;
use pcap_http_ws::pipeline::{Analyzer, Handler, Stream};
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
    fn packet(&mut self, _: u64, _: &pcap_capture::Packet<'_>, _: &pcap_decode::Decoded<'_>) {
        self.packets += 1;
    }

    fn tcp(&mut self, event: &Event<'_>) {
        match event.kind {
            EventKind::Start { .. } => self.sessions += 1,
            EventKind::Data { dir, bytes, .. } => self.bytes[index(dir)] += bytes.len() as u64,
            _ => {}
        }
    }

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) {
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
