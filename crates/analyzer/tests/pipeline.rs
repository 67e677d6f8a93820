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
            fcs_len: 0,
            data: f,
        };
        analyzer.push(&packet, &mut lines);
    }
    analyzer.finish(&mut lines);
    assert_eq!(lines.0, ["GET /fragmented"]);
}

#[test]
fn fragments_in_two_tunnels_with_the_same_inner_key_stay_two_datagrams() {
    use pcap_capture::{LinkType, Packet};
    use pcap_decode::build::{
        EthSpec, IpSpec, Ipv4Spec, TcpSpec, UdpSpec, ethernet_frame, ip_packet, tcp_segment,
        udp_datagram,
    };
    use pcap_decode::ip_proto;

    const OUTER: IpSpec = IpSpec::V4(Ipv4Spec {
        src: [192, 0, 2, 1],
        dst: [192, 0, 2, 2],
        ttl: 64,
        id: 9,
        dont_frag: true,
    });
    // Same inner addresses, ports and IP id in both tunnels; only the requests differ.
    let inner = IpSpec::V4(Ipv4Spec {
        dont_frag: false,
        ..Ipv4Spec::default()
    });
    let tcp = TcpSpec {
        flags: 0x018, // PSH, ACK
        ..TcpSpec::default()
    };
    // Inner IPv4 fragments (header + 24 or the rest of the TCP segment), each in an inner
    // Ethernet frame.
    let fragments = |request: &[u8]| -> [Vec<u8>; 2] {
        let packet = ip_packet(&inner, ip_proto::TCP, &tcp_segment(&inner, &tcp, request));
        let (head, ip_payload) = packet.split_at(20);
        let (first, second) = ip_payload.split_at(24);
        let fragment = |offset: usize, more: bool, data: &[u8]| {
            let mut f = head.to_vec();
            f[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
            let flags_offset = (u16::from(more) << 13) | (offset / 8) as u16;
            f[6..8].copy_from_slice(&flags_offset.to_be_bytes());
            f[10..12].copy_from_slice(&[0, 0]); // checksums are not checked
            f.extend_from_slice(data);
            ethernet_frame(&EthSpec::default(), 0x0800, &f)
        };
        [fragment(0, true, first), fragment(24, false, second)]
    };
    let vxlan = |vni: u32, inner: &[u8]| {
        let mut b = vec![0x08, 0, 0, 0];
        b.extend_from_slice(&(vni << 8).to_be_bytes());
        b.extend_from_slice(inner);
        let udp = UdpSpec {
            src_port: 49152,
            dst_port: 4789,
        };
        let ip = ip_packet(&OUTER, ip_proto::UDP, &udp_datagram(&OUTER, &udp, &b));
        ethernet_frame(&EthSpec::default(), 0x0800, &ip)
    };
    let [a1, a2] = fragments(b"GET /in-vni-42 HTTP/1.1\r\nHost: a\r\n\r\n");
    let [b1, b2] = fragments(b"GET /in-vni-43 HTTP/1.1\r\nHost: b\r\n\r\n");
    // Interleaved: merged on the inner key alone, vni 43's head would join vni 42's tail.
    let frames = [
        vxlan(42, &a1),
        vxlan(43, &b1),
        vxlan(42, &a2),
        vxlan(43, &b2),
    ];

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
            fcs_len: 0,
            data: f,
        };
        analyzer.push(&packet, &mut lines);
    }
    analyzer.finish(&mut lines);
    lines.0.sort();
    assert_eq!(lines.0, ["GET /in-vni-42", "GET /in-vni-43"]);
}

/// TCP payload bytes delivered, in either direction.
#[derive(Default)]
struct Payload(Vec<u8>);

impl Handler for Payload {
    type Error = Infallible;

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<Infallible> {
        if let EventKind::Data { bytes, .. } = event.kind {
            self.0.extend_from_slice(bytes);
        }
        ControlFlow::Continue(())
    }
}

#[test]
fn ethernet_fcs_is_split_off_and_checked() {
    use pcap_capture::{LinkType, Packet};
    use pcap_decode::build::{TcpSpec, ipv4_tcp};
    use pcap_decode::fcs;

    let request = b"GET /fcs HTTP/1.1\r\nHost: a\r\n\r\n";
    let syn = TcpSpec {
        flags: 0x002,
        seq: 0,
        ..TcpSpec::default()
    };
    let data = TcpSpec {
        flags: 0x018,
        ..TcpSpec::default()
    };
    let mut frames = vec![ipv4_tcp(&syn, b""), ipv4_tcp(&data, request)];
    // IPv4 total length 0 (as TSO captures have): only the frame's end bounds the payload,
    // so an FCS left on would read as 4 more bytes of it.
    frames[1][16..18].copy_from_slice(&[0, 0]);
    for f in &mut frames {
        let crc = fcs::crc32(f);
        f.extend_from_slice(&crc.to_le_bytes());
    }
    let mut damaged = frames[1].clone();
    damaged[40] ^= 0x01; // a bit of the TCP header's sequence number: the FCS no longer matches

    let run = |frames: &[Vec<u8>], fcs_len: u8| {
        let mut analyzer = Analyzer::default();
        let mut payload = Payload::default();
        for (i, f) in frames.iter().enumerate() {
            let len = f.len() as u32;
            let packet = Packet {
                ts_ns: i as i64,
                caplen: len,
                orig_len: len,
                link_type: LinkType::ETHERNET,
                interface: 0,
                fcs_len,
                data: f,
            };
            analyzer.push(&packet, &mut payload);
        }
        analyzer.finish(&mut payload);
        (payload.0, analyzer.fcs_errors())
    };
    assert_eq!(run(&frames, 4), (request.to_vec(), 0));
    // Read as if the capture had not declared its FCS: the 4 bytes leak into the payload.
    assert_eq!(run(&frames, 0).0.len(), request.len() + 4);
    let (_, bad) = run(&[frames[0].clone(), damaged], 4);
    assert_eq!(bad, 1);
}
