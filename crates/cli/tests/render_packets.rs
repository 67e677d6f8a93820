//! `capture`'s summary line and JSON line on hand-built frames (moved from pcap-decode's
//! `tests/packets.rs` with the writers; the decoded fields are tested there).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pcap_capture::{LinkType, Packet};
use pcap_cli::render::{json::write_json_with, write_json, write_summary};
use pcap_decode::build::{self, EthSpec, FrameSpec, IpSpec, Ipv4Spec, Ipv6Spec, TcpSpec, UdpSpec};
use pcap_decode::{Decoded, decode_packet};
use pcap_testkit::frames::{ARP_REQUEST, ipv4_packet, syn_ack};

fn summary(d: &Decoded<'_>) -> String {
    let mut s = String::new();
    write_summary(&mut s, d).unwrap();
    s
}

fn packet(data: &[u8]) -> Packet<'_> {
    Packet {
        ts_ns: 1_081_889_803_830_079_000,
        caplen: data.len() as u32,
        orig_len: data.len() as u32,
        link_type: LinkType::ETHERNET,
        interface: 0,
        fcs_len: 0,
        data,
    }
}

fn json(d: &Decoded<'_>, data: &[u8]) -> serde_json::Value {
    let mut out = Vec::new();
    write_json(&mut out, 1, &packet(data), d);
    assert_eq!(out.last(), Some(&b'\n'));
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1, "one line");
    serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)))
}

#[test]
fn arp_request() {
    let d = decode_packet(LinkType::ETHERNET, &ARP_REQUEST);
    assert_eq!(
        summary(&d),
        "00:1c:23:b9:e8:b5 -> ff:ff:ff:ff:ff:ff 10.51.2.10 ARP request 10.51.2.4"
    );
    let j = json(&d, &ARP_REQUEST);
    assert_eq!(j["frame"], 1);
    assert_eq!(j["ts"].to_string(), "1081889803.830079");
    assert_eq!(j["eth"]["src"], "00:1c:23:b9:e8:b5");
    assert_eq!(j["eth"]["ethertype"], 0x0806);
    assert_eq!(j["arp"]["op"], "request");
    assert_eq!(j["arp"]["sender_mac"], "00:1c:23:b9:e8:b5");
    assert_eq!(j["arp"]["target_ip"], "10.51.2.4");
    assert!(j.get("error").is_none());
}

#[test]
fn tcp_syn_ack() {
    let f = syn_ack();
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!(
        summary(&d),
        "aa:00:00:00:00:01 -> bb:00:00:00:00:02 10.0.0.1:51234 -> 10.0.0.2:80 TCP [S.] seq 123 ack 456 win 8192 len 0"
    );
    let j = json(&d, &f);
    assert_eq!(j["ipv4"]["flags"], serde_json::json!(["DF"]));
    assert_eq!(j["ipv4"]["id"], 0x1234);
    assert_eq!(j["tcp"]["flags"], serde_json::json!(["ACK", "SYN"]));
    assert_eq!(
        j["tcp"]["options"][0],
        serde_json::json!({"kind": "mss", "value": 1460})
    );
    assert_eq!(
        j["tcp"]["options"][2],
        serde_json::json!({"kind": "timestamp", "val": 10, "ecr": 20})
    );
    assert_eq!(j["tcp"]["payload_len"], 0);
}

#[test]
fn application_layers_add_members_through_write_json_with() {
    let f = build::udp_frame(
        &FrameSpec::default(),
        &UdpSpec {
            src_port: 53,
            dst_port: 4000,
        },
        b"q",
    );
    let d = decode_packet(LinkType::ETHERNET, &f);
    let mut out = Vec::new();
    write_json_with(&mut out, 3, &packet(&f), &d, |o| {
        let mut dns = o.obj("dns");
        dns.u64("id", 7);
        dns.bytes_str("name", b"ex\"ample.\xff");
        dns.end();
    });
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["udp"]["src_port"], 53);
    assert_eq!(
        v["dns"],
        serde_json::json!({"id": 7, "name": "ex\"ample.\u{ff}"})
    );
}

#[test]
fn truncated_and_bad_checksum_are_marked() {
    let f = build::ipv4_tcp(&TcpSpec::default(), &[7; 100]);
    let d = decode_packet(LinkType::ETHERNET, &f[..f.len() - 60]);
    assert!(
        summary(&d).ends_with("len 40 [truncated]"),
        "{}",
        summary(&d)
    );
    let mut f = build::ipv4_tcp(&TcpSpec::default(), b"x");
    f[14 + 10] ^= 0xff;
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert!(summary(&d).ends_with("[bad ip checksum]"));
    assert_eq!(json(&d, &f)["ipv4"]["checksum_ok"], false);
}

/// Every prefix of a frame gives a summary and one valid JSON line naming the error.
#[test]
fn every_prefix_renders() {
    let f = syn_ack();
    for n in 0..f.len() {
        let d = decode_packet(LinkType::ETHERNET, &f[..n]);
        let s = summary(&d);
        assert!(s.ends_with(']'), "prefix {n}: {s}");
        assert!(json(&d, &f[..n])["error"].is_string(), "prefix {n}");
    }
}

#[test]
fn ipv6_udp_over_vlan() {
    let frame = FrameSpec {
        ip: IpSpec::V6(Ipv6Spec::default()),
        ..Default::default()
    };
    let plain = build::udp_frame(
        &frame,
        &UdpSpec {
            src_port: 1053,
            dst_port: 6000,
        },
        b"abcd",
    );
    let mut f = plain[..12].to_vec();
    f.extend_from_slice(&[0x81, 0x00, 0x00, 100]);
    f.extend_from_slice(&plain[12..]);
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!(
        summary(&d),
        "02:00:00:00:00:01 -> 02:00:00:00:00:02 vlan 100 [2001::1]:1053 -> [2001::2]:6000 UDP len 4"
    );
    assert_eq!(json(&d, &f)["vlan"], serde_json::json!([100]));
}

#[test]
fn tagged_802_3_llc_snap() {
    let mut f = vec![
        1, 0, 0x0c, 0xcc, 0xcc, 0xcc, 2, 0, 0, 0, 0, 1, 0x81, 0, 0, 209, 0, 12,
    ];
    f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00, 1, 2, 3, 4]);
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!(
        summary(&d),
        "02:00:00:00:00:01 -> 01:00:0c:cc:cc:cc vlan 209 802.3 llc dsap 0xaa ssap 0xaa snap 0x2000"
    );
}

#[test]
fn ipv4_non_first_fragment() {
    let mut p = ipv4_packet(&TcpSpec::default());
    p[7] = 185; // offset 1480
    let d = decode_packet(LinkType::IPV4, &p);
    assert!(
        summary(&d).contains("frag id 0x1 offset 1480 ip-proto 6"),
        "{}",
        summary(&d)
    );
}

#[test]
fn icmp_echo_unreachable_and_neighbour_solicitation() {
    let v4 = IpSpec::V4(Ipv4Spec::default());
    let echo = [8, 0, 0, 0, 0x12, 0x34, 0, 7, b'p', b'i', b'n', b'g'];
    let f = build::ethernet_frame(
        &EthSpec::default(),
        0x0800,
        &build::ip_packet(&v4, 1, &echo),
    );
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert!(
        summary(&d).ends_with("10.0.0.1 -> 10.0.0.2 ICMP echo request, id 4660, seq 7, length 12")
    );
    assert_eq!(
        json(&d, &f)["icmp"],
        serde_json::json!({"type": 8, "code": 0, "id": 4660, "seq": 7})
    );

    let quoted = ipv4_packet(&TcpSpec::default());
    let mut unreach = vec![3, 3, 0, 0, 0, 0, 0, 0];
    unreach.extend_from_slice(&quoted[..28]);
    let p = build::ip_packet(&v4, 1, &unreach);
    let d = decode_packet(LinkType::IPV4, &p);
    assert!(
        summary(&d).ends_with("ICMP 10.0.0.2 tcp port 80 unreachable, length 36"),
        "{}",
        summary(&d)
    );
    assert_eq!(
        json(&d, &p)["icmp"]["quoted"],
        serde_json::json!({"src": "10.0.0.1", "dst": "10.0.0.2", "proto": 6, "src_port": 40000, "dst_port": 80})
    );

    let v6 = IpSpec::V6(Ipv6Spec::default());
    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
    ns.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
    let p = build::ip_packet(&v6, 58, &ns);
    let d = decode_packet(LinkType::IPV6, &p);
    assert!(summary(&d).ends_with("ICMP6, neighbor solicitation, who has fe80::9, length 24"));
}

#[test]
fn malformed_tcp_option_is_an_options_error() {
    let tcp = TcpSpec {
        options: vec![1, 2, 3, 0],
        ..Default::default()
    };
    let f = build::ipv4_tcp(&tcp, b"");
    let d = decode_packet(LinkType::ETHERNET, &f);
    let j = json(&d, &f);
    assert!(j["tcp"]["options_error"].is_string());
    assert_eq!(j["tcp"]["options"], serde_json::json!([{"kind": "nop"}]));
}

#[test]
fn dns_over_udp_in_summary_and_json() {
    // A query for example.com, type A, id 0x1a2b.
    let query: &[u8] =
        b"\x1a\x2b\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
    let udp = UdpSpec {
        src_port: 51000,
        dst_port: 53,
    };
    let frame = build::udp_frame(&FrameSpec::default(), &udp, query);
    let d = decode_packet(LinkType::ETHERNET, &frame);
    let line = summary(&d);
    assert!(line.ends_with("DNS query 0x1a2b A example.com"), "{line}");
    let v = json(&d, &frame);
    assert_eq!(v["dns"]["questions"][0]["name"], "example.com");
    assert_eq!(v["dns"]["response"], false);
}
