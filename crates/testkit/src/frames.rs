//! Hand-built frames with known fields, shared by pcap-decode's tests of the decoded views
//! and pcap-cli's tests of how `capture` renders them.

use pcap_capture::LinkType;
use pcap_decode::build::{self, EthSpec, FrameSpec, IpSpec, Ipv4Spec, TcpSpec};
use pcap_decode::tcp::TcpOption;

/// An ARP request as node_pcap's simple_capture shows it
/// (`00:1c:23:b9:e8:b5 -> ff:ff:ff:ff:ff:ff 10.51.2.10 ARP request 10.51.2.4`), padded to 60 bytes.
pub static ARP_REQUEST: [u8; 60] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x1c, 0x23, 0xb9, 0xe8, 0xb5, 0x08,
    0x06, // ethernet
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // htype, ptype, hlen, plen, op
    0x00, 0x1c, 0x23, 0xb9, 0xe8, 0xb5, 10, 51, 2, 10, // sender
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 51, 2, 4, // target
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // padding
];

/// A SYN/ACK from 10.0.0.1:51234 to 10.0.0.2:80 (TTL 63, IP id 0x1234, DF) with MSS 1460,
/// SACK permitted, timestamps 10/20, a NOP and window scale 7.
pub fn syn_ack() -> Vec<u8> {
    let mut options = Vec::new();
    for o in [
        TcpOption::Mss(1460),
        TcpOption::SackPermitted,
        TcpOption::Timestamp { val: 10, ecr: 20 },
        TcpOption::Nop,
        TcpOption::WindowScale(7),
    ] {
        build::emit_tcp_option(&mut options, &o);
    }
    let frame = FrameSpec {
        eth: EthSpec {
            src: [0xaa, 0, 0, 0, 0, 1],
            dst: [0xbb, 0, 0, 0, 0, 2],
        },
        ip: IpSpec::V4(Ipv4Spec {
            src: [10, 0, 0, 1],
            dst: [10, 0, 0, 2],
            ttl: 63,
            id: 0x1234,
            dont_frag: true,
        }),
    };
    let tcp = TcpSpec {
        src_port: 51234,
        dst_port: 80,
        seq: 123,
        ack: 456,
        flags: 0x012,
        window: 8192,
        options,
    };
    build::tcp_frame(&frame, &tcp, b"")
}

/// An IPv4 packet (no link layer) carrying `tcp` with the payload `hi`.
pub fn ipv4_packet(tcp: &TcpSpec) -> Vec<u8> {
    let f = build::ipv4_tcp(tcp, b"hi");
    f.get(14..).unwrap_or_default().to_vec()
}

/// Every link type the decoder knows, plus one it does not (147) and the largest value.
pub const LINKS: [LinkType; 12] = [
    LinkType::ETHERNET,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::NULL,
    LinkType::LOOP,
    LinkType::RAW,
    LinkType::RAW_OPENBSD,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::NETLINK,
    LinkType(147),
    LinkType(0xffff),
];

/// An Ethernet/IPv4 TCP data segment of 512 bytes with timestamps, as most TCP traffic
/// carries: the frame the decode and render benchmarks time.
pub fn data_segment() -> Vec<u8> {
    let mut options = vec![1, 1, 8, 10];
    options.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]);
    let tcp = TcpSpec {
        seq: 1000,
        ack: 2000,
        flags: 0x018,
        options,
        ..Default::default()
    };
    build::ipv4_tcp(&tcp, &[b'x'; 512])
}

/// A DNS response for `A www.example.com`: a CNAME to `example.com` and four A records,
/// names compressed, plus an OPT record: the shape of a typical resolver answer.
pub fn dns_response() -> Vec<u8> {
    let mut m = vec![0x1a, 0x2b, 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 1];
    m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
    m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 0x2c, 0, 2, 0xc0, 16]);
    for i in 0..4u8 {
        m.extend_from_slice(&[0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, i]);
    }
    m.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
    m
}
