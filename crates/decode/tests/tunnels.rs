//! Tunnels on hand-built packets: each tunnel's inner TCP is decoded, the tunnel is recorded,
//! the tunnel id keeps tenants apart, a datagram that only uses a tunnel's port is left
//! alone, the depth cap holds, and every truncation of a tunnel packet decodes without a
//! panic and says it was truncated.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pcap_capture::LinkType;
use pcap_decode::build::{
    EthSpec, IpSpec, Ipv4Spec, Ipv6Spec, TcpSpec, UdpSpec, ethernet_frame, ip_packet, tcp_segment,
    udp_datagram,
};
use pcap_decode::tunnel::{MAX_TUNNELS, TunnelKind};
use pcap_decode::{DecodeError, Layer, decode_packet, ip_proto};
use proptest::prelude::*;

const OUTER: IpSpec = IpSpec::V4(Ipv4Spec {
    src: [192, 0, 2, 1],
    dst: [192, 0, 2, 2],
    ttl: 64,
    id: 7,
    dont_frag: true,
});

fn inner_v4(src: [u8; 4], dst: [u8; 4]) -> IpSpec {
    IpSpec::V4(Ipv4Spec {
        src,
        dst,
        ..Default::default()
    })
}

/// An IPv4 packet carrying a TCP segment from port `sport` to 80.
fn inner_ip(ip: &IpSpec, sport: u16, payload: &[u8]) -> Vec<u8> {
    let tcp = TcpSpec {
        src_port: sport,
        dst_port: 80,
        seq: 1000,
        flags: 0x018,
        ..Default::default()
    };
    ip_packet(ip, ip_proto::TCP, &tcp_segment(ip, &tcp, payload))
}

fn inner_eth(ip: &IpSpec, sport: u16) -> Vec<u8> {
    ethernet_frame(
        &EthSpec::default(),
        0x0800,
        &inner_ip(ip, sport, b"GET / HTTP/1.1\r\n"),
    )
}

fn over_udp(dst_port: u16, body: &[u8]) -> Vec<u8> {
    let udp = UdpSpec {
        src_port: 49152,
        dst_port,
    };
    let ip = ip_packet(&OUTER, ip_proto::UDP, &udp_datagram(&OUTER, &udp, body));
    ethernet_frame(&EthSpec::default(), 0x0800, &ip)
}

fn vxlan(vni: u32, inner: &[u8]) -> Vec<u8> {
    let mut b = vec![0x08, 0, 0, 0];
    b.extend_from_slice(&(vni << 8).to_be_bytes());
    b.extend_from_slice(inner);
    over_udp(4789, &b)
}

fn gre_key(key: u32, inner: &[u8]) -> Vec<u8> {
    let mut b = vec![0x20, 0, 0x65, 0x58];
    b.extend_from_slice(&key.to_be_bytes());
    b.extend_from_slice(inner);
    let ip = ip_packet(&OUTER, ip_proto::GRE, &b);
    ethernet_frame(&EthSpec::default(), 0x0800, &ip)
}

fn mpls(labels: &[u32], inner_ip: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        let bottom = u32::from(i + 1 == labels.len()) << 8;
        b.extend_from_slice(&((l << 12) | bottom | 64).to_be_bytes());
    }
    b.extend_from_slice(inner_ip);
    ethernet_frame(&EthSpec::default(), 0x8847, &b)
}

fn gtp_u(teid: u32, inner_ip: &[u8]) -> Vec<u8> {
    let mut b = vec![0x30, 0xff];
    b.extend_from_slice(&(inner_ip.len() as u16).to_be_bytes());
    b.extend_from_slice(&teid.to_be_bytes());
    b.extend_from_slice(inner_ip);
    over_udp(2152, &b)
}

fn geneve(vni: u32, inner_ip: &[u8]) -> Vec<u8> {
    // One 8-byte option (length 2 words), protocol type IPv4.
    let mut b = vec![0x02, 0, 0x08, 0x00];
    b.extend_from_slice(&(vni << 8).to_be_bytes());
    b.extend_from_slice(&[0x01, 0x02, 0x03, 0x01, 0, 0, 0, 0]);
    b.extend_from_slice(inner_ip);
    over_udp(6081, &b)
}

fn ip_in_ip(outer: &IpSpec, inner: &[u8], protocol: u8) -> Vec<u8> {
    let ip = ip_packet(outer, protocol, inner);
    let et = if matches!(outer, IpSpec::V4(_)) {
        0x0800
    } else {
        0x86dd
    };
    ethernet_frame(&EthSpec::default(), et, &ip)
}

/// One packet of each tunnel, all carrying TCP 10.1.0.1:40000 -> 10.1.0.2:80.
fn fixtures() -> Vec<(&'static str, Vec<u8>, TunnelKind)> {
    let ip = inner_v4([10, 1, 0, 1], [10, 1, 0, 2]);
    let v6 = IpSpec::V6(Ipv6Spec::default());
    let pkt = inner_ip(&ip, 40000, b"hello");
    vec![
        (
            "vxlan",
            vxlan(42, &inner_eth(&ip, 40000)),
            TunnelKind::Vxlan,
        ),
        ("gre", gre_key(7, &inner_eth(&ip, 40000)), TunnelKind::Gre),
        ("mpls", mpls(&[16, 17], &pkt), TunnelKind::Mpls),
        ("gtp-u", gtp_u(0x1234, &pkt), TunnelKind::GtpU),
        ("geneve", geneve(9, &pkt), TunnelKind::Geneve),
        ("4in4", ip_in_ip(&OUTER, &pkt, 4), TunnelKind::IpInIp),
        ("4in6", ip_in_ip(&v6, &pkt, 4), TunnelKind::IpInIp),
    ]
}

#[test]
fn every_tunnel_reaches_the_inner_tcp() {
    for (name, frame, kind) in fixtures() {
        let d = decode_packet(LinkType::ETHERNET, &frame);
        assert!(d.stop.is_none() && !d.truncated, "{name}: {:?}", d.stop);
        assert_eq!(d.tunnels.first().map(|t| t.kind), Some(kind), "{name}");
        assert_eq!(d.src_ip().unwrap().to_string(), "10.1.0.1", "{name}");
        let tcp = d.tcp().unwrap_or_else(|| panic!("{name}: no tcp"));
        assert_eq!((tcp.src_port(), tcp.dst_port()), (40000, 80), "{name}");
        assert_ne!(d.tunnel_id(), 0, "{name}");
    }
}

#[test]
fn tunnel_records_outer_addresses_and_ids() {
    let ip = inner_v4([10, 1, 0, 1], [10, 1, 0, 2]);
    let f = vxlan(42, &inner_eth(&ip, 40000));
    let d = decode_packet(LinkType::ETHERNET, &f);
    let t = d.tunnels[0];
    assert_eq!(t.id, Some(42));
    assert_eq!(t.src().unwrap().to_string(), "192.0.2.1");
    assert_eq!(t.dst().unwrap().to_string(), "192.0.2.2");
    let f = mpls(&[16, 17], &inner_ip(&ip, 1, b""));
    let d = decode_packet(LinkType::ETHERNET, &f);
    let labels: Vec<_> = d.tunnels.iter().map(|t| t.id).collect();
    assert_eq!(labels, [Some(16), Some(17)]);
}

#[test]
fn same_inner_tuple_in_two_vnis_gets_two_tunnel_ids() {
    let a = inner_v4([10, 1, 0, 1], [10, 1, 0, 2]);
    let b = inner_v4([10, 1, 0, 2], [10, 1, 0, 1]);
    let id = |f: Vec<u8>| decode_packet(LinkType::ETHERNET, &f).tunnel_id();
    let vni42 = id(vxlan(42, &inner_eth(&a, 40000)));
    assert_ne!(vni42, id(vxlan(43, &inner_eth(&a, 40000))));
    // The reply travels the same VNI: same id.
    assert_eq!(vni42, id(vxlan(42, &inner_eth(&b, 40000))));
    assert_ne!(vni42, id(geneve(42, &inner_ip(&a, 40000, b""))));
    // Untunnelled packets keep 0.
    let plain = ethernet_frame(&EthSpec::default(), 0x0800, &inner_ip(&a, 1, b""));
    assert_eq!(id(plain), 0);
}

#[test]
fn a_datagram_on_a_tunnel_port_that_is_no_tunnel_stays_udp() {
    for port in [4789u16, 4790, 6081, 2152, 3544, 5072] {
        let f = over_udp(port, b"\x00\x01random bytes, not a tunnel header");
        let d = decode_packet(LinkType::ETHERNET, &f);
        assert!(d.tunnels.is_empty(), "port {port}: {:?}", d.tunnels);
        assert!(d.udp().is_some() && d.stop.is_none(), "port {port}");
    }
}

#[test]
fn nesting_deeper_than_the_cap_is_reported() {
    let ip = inner_v4([10, 1, 0, 1], [10, 1, 0, 2]);
    let mut pkt = inner_ip(&ip, 1, b"");
    for _ in 0..=MAX_TUNNELS {
        pkt = ip_packet(&OUTER, 4, &pkt);
    }
    let f = ethernet_frame(&EthSpec::default(), 0x0800, &pkt);
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!(d.tunnels.len(), MAX_TUNNELS);
    assert!(matches!(
        d.stop,
        Some(DecodeError::Malformed {
            layer: Layer::Tunnel,
            field: "tunnel depth",
            ..
        })
    ));
    assert!(d.tcp().is_none());
}

#[test]
fn link_types_ppp_chdlc_and_raw_dlt12() {
    let ip = inner_ip(&inner_v4([10, 1, 0, 1], [10, 1, 0, 2]), 40000, b"x");
    let mut ppp = vec![0xff, 0x03, 0x00, 0x21];
    ppp.extend_from_slice(&ip);
    let mut chdlc = vec![0x0f, 0x00, 0x08, 0x00];
    chdlc.extend_from_slice(&ip);
    for (link, f) in [
        (LinkType::PPP, ppp.clone()),
        (LinkType::PPP, ppp[2..].to_vec()),
        (LinkType::PPP_HDLC, ppp),
        (LinkType::C_HDLC, chdlc),
        (LinkType::RAW_BSD, ip.clone()),
    ] {
        let d = decode_packet(link, &f);
        assert!(d.stop.is_none(), "{link}: {:?}", d.stop);
        assert_eq!(d.tcp().map(|t| t.src_port()), Some(40000), "{link}");
    }
}

proptest! {
    /// Any cut of a valid tunnel packet decodes without a panic and says it was cut.
    #[test]
    fn every_truncation_is_reported(
        which in 0usize..7,
        vni in 0u32..(1 << 24),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let ip = inner_v4([10, 1, 0, 1], [10, 1, 0, 2]);
        let pkt = inner_ip(&ip, 40000, &payload);
        let frame = match which {
            0 => vxlan(vni, &inner_eth(&ip, 40000)),
            1 => gre_key(vni, &inner_eth(&ip, 40000)),
            2 => mpls(&[vni >> 4, 17], &pkt),
            3 => gtp_u(vni, &pkt),
            4 => geneve(vni, &pkt),
            5 => ip_in_ip(&OUTER, &pkt, 4),
            _ => ip_in_ip(&IpSpec::V6(Ipv6Spec::default()), &pkt, 4),
        };
        let whole = decode_packet(LinkType::ETHERNET, &frame);
        prop_assert!(whole.stop.is_none() && !whole.truncated);
        for len in 0..frame.len() {
            let d = decode_packet(LinkType::ETHERNET, &frame[..len]);
            prop_assert!(
                d.truncated || d.stop.is_some_and(|e| e.is_truncation()),
                "cut at {} of {}: {:?}", len, frame.len(), d.stop
            );
        }
    }
}

/// A reassembled outer datagram (what the defragmenter hands over) is decoded through its
/// tunnel: GRE with Ethernet inside, then the inner TCP.
#[test]
fn reassembled_datagram_is_decoded_through_its_tunnel() {
    let ip = inner_v4([10, 1, 0, 1], [10, 1, 0, 2]);
    let mut gre = vec![0x20, 0, 0x65, 0x58, 0, 0, 0, 7];
    gre.extend_from_slice(&inner_eth(&ip, 40000));
    let d = pcap_decode::decode_datagram(ip_proto::GRE, &gre);
    assert!(d.stop.is_none(), "{:?}", d.stop);
    assert_eq!(d.tunnels.len(), 1);
    assert_eq!(d.tunnels[0].id, Some(7));
    assert_eq!(d.tunnels[0].src(), None);
    assert_eq!(d.tcp().map(|t| t.src_port()), Some(40000));
    // Without a tunnel: just the transport, as decode_transport gives it.
    let tcp = tcp_segment(&ip, &TcpSpec::default(), b"");
    let d = pcap_decode::decode_datagram(ip_proto::TCP, &tcp);
    assert!(d.tunnels.is_empty() && d.tcp().is_some());
}
