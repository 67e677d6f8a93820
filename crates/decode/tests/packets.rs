//! decode_packet on hand-built frames: known fields and every truncation. (How `capture`
//! shows these frames is tested in pcap-cli's `tests/render_packets.rs`.)
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pcap_capture::LinkType;
use pcap_decode::build::{self, EthSpec, FrameSpec, IpSpec, Ipv4Spec, Ipv6Spec, TcpSpec, UdpSpec};
use pcap_decode::tcp::TcpOption;
use pcap_decode::{DecodeError, Layer, Link, Transport, decode_packet};
use pcap_testkit::frames::{ARP_REQUEST, ipv4_packet, syn_ack};

#[test]
fn arp_request_fields() {
    let d = decode_packet(LinkType::ETHERNET, &ARP_REQUEST);
    assert_eq!(d.stop, None);
    let arp = d.arp().unwrap();
    assert_eq!(arp.op(), 1);
    assert_eq!(arp.sender_ip(), Some(Ipv4Addr::new(10, 51, 2, 10)));
    assert_eq!(arp.target_ip(), Some(Ipv4Addr::new(10, 51, 2, 4)));
    assert_eq!(arp.sender_mac().unwrap().to_string(), "00:1c:23:b9:e8:b5");
}

#[test]
fn tcp_syn_ack_fields() {
    let f = syn_ack();
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!(d.stop, None);
    assert!(!d.truncated);
    assert_eq!(d.src_ip(), Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
    let ip = d.ipv4().unwrap();
    assert!(ip.checksum_valid());
    assert_eq!(
        (ip.ttl(), ip.id(), ip.dont_frag(), ip.protocol()),
        (63, 0x1234, true, 6)
    );
    let t = d.tcp().unwrap();
    assert_eq!(
        (t.src_port(), t.dst_port(), t.seq(), t.ack(), t.window()),
        (51234, 80, 123, 456, 8192)
    );
    assert!(t.flags().syn() && t.flags().ack() && !t.flags().fin());
    let opts: Vec<_> = t.options(d.transport_offset).map(Result::unwrap).collect();
    assert_eq!(
        opts,
        vec![
            TcpOption::Mss(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamp { val: 10, ecr: 20 },
            TcpOption::Nop,
            TcpOption::WindowScale(7),
        ]
    );
    assert_eq!(d.payload.len(), 0);
}

#[test]
fn ethernet_padding_is_trimmed_by_ip_total_length() {
    let mut f = build::ipv4_tcp(&TcpSpec::default(), b"");
    f.resize(60, 0xee);
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!((d.payload.len(), d.truncated, d.stop), (0, false, None));
}

#[test]
fn ip_longer_than_captured_is_truncated_and_payload_is_what_was_captured() {
    let f = build::ipv4_tcp(&TcpSpec::default(), &[7; 100]);
    let d = decode_packet(LinkType::ETHERNET, &f[..f.len() - 60]);
    assert!(d.truncated);
    assert_eq!(d.stop, None);
    assert_eq!(d.payload, &[7; 40][..]);
}

#[test]
fn bad_ipv4_checksum_is_a_flag_not_an_error() {
    let mut f = build::ipv4_tcp(&TcpSpec::default(), b"x");
    f[14 + 10] ^= 0xff;
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!(d.stop, None);
    assert!(d.tcp().is_some());
    assert!(!d.ipv4().unwrap().checksum_valid());
}

/// Every prefix of an Ethernet/IPv4/TCP frame gives the exact Len error of the layer it cuts.
#[test]
fn truncation_sweep_ethernet_ipv4_tcp() {
    let f = syn_ack();
    let tcp_hlen = f.len() - 34;
    for n in 0..f.len() {
        let d = decode_packet(LinkType::ETHERNET, &f[..n]);
        let expect = match n {
            0..14 => Some(DecodeError::Len {
                layer: Layer::Ethernet,
                required: 14,
                actual: n,
                offset: 0,
            }),
            14..34 => Some(DecodeError::Len {
                layer: Layer::Ipv4,
                required: 20,
                actual: n - 14,
                offset: 14,
            }),
            34..54 => Some(DecodeError::Len {
                layer: Layer::Tcp,
                required: 20,
                actual: n - 34,
                offset: 34,
            }),
            _ => Some(DecodeError::Len {
                layer: Layer::Tcp,
                required: tcp_hlen,
                actual: n - 34,
                offset: 34,
            }),
        };
        assert_eq!(d.stop, expect, "prefix {n}");
        assert!(d.truncated, "prefix {n}");
    }
    assert_eq!(decode_packet(LinkType::ETHERNET, &f).stop, None);
}

#[test]
fn truncation_sweep_ipv6_udp_over_vlan() {
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
    // Insert an 802.1Q tag (VLAN 100) after the MAC addresses.
    let mut f = plain[..12].to_vec();
    f.extend_from_slice(&[0x81, 0x00, 0x00, 100]);
    f.extend_from_slice(&plain[12..]);
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!(d.stop, None);
    assert_eq!(
        d.vlans.iter().map(|v| v.id()).collect::<Vec<_>>(),
        vec![100]
    );
    let u = d.udp().unwrap();
    assert_eq!(
        (u.src_port(), u.dst_port(), u.length(), d.payload),
        (1053, 6000, 12, &b"abcd"[..])
    );
    assert_eq!(
        d.dst_ip(),
        Some(IpAddr::V6("2001::2".parse::<Ipv6Addr>().unwrap()))
    );
    for n in 0..f.len() - 4 {
        let d = decode_packet(LinkType::ETHERNET, &f[..n]);
        let expect = match n {
            0..14 => DecodeError::Len {
                layer: Layer::Ethernet,
                required: 14,
                actual: n,
                offset: 0,
            },
            14..18 => DecodeError::Len {
                layer: Layer::Vlan,
                required: 4,
                actual: n - 14,
                offset: 14,
            },
            18..58 => DecodeError::Len {
                layer: Layer::Ipv6,
                required: 40,
                actual: n - 18,
                offset: 18,
            },
            _ => DecodeError::Len {
                layer: Layer::Udp,
                required: 8,
                actual: n - 58,
                offset: 58,
            },
        };
        assert_eq!(d.stop, Some(expect), "prefix {n}");
    }
    // Cutting the UDP payload: the header decodes, the payload is what was captured.
    let d = decode_packet(LinkType::ETHERNET, &f[..f.len() - 2]);
    assert_eq!((d.stop, d.truncated, d.payload), (None, true, &b"ab"[..]));
}

#[test]
fn every_link_type_reaches_tcp() {
    let ip = ipv4_packet(&TcpSpec {
        seq: 99,
        ..Default::default()
    });
    let ip6 = {
        let frame = FrameSpec {
            ip: IpSpec::V6(Ipv6Spec::default()),
            ..Default::default()
        };
        build::tcp_frame(
            &frame,
            &TcpSpec {
                seq: 99,
                ..Default::default()
            },
            b"hi",
        )[14..]
            .to_vec()
    };
    let with = |prefix: &[u8], body: &[u8]| [prefix, body].concat();
    let sll = [0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
    let sll2 = [
        0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    let cases: Vec<(LinkType, Vec<u8>, usize)> = vec![
        (LinkType::LINUX_SLL, with(&sll, &ip), 16),
        (LinkType::LINUX_SLL2, with(&sll2, &ip), 20),
        (LinkType::NULL, with(&[2, 0, 0, 0], &ip), 4),
        (LinkType::NULL, with(&[0, 0, 0, 2], &ip), 4),
        (LinkType::NULL, with(&[30, 0, 0, 0], &ip6), 4),
        (LinkType::NULL, with(&[0, 0, 0, 24], &ip6), 4),
        (LinkType::LOOP, with(&[0, 0, 0, 2], &ip), 4),
        (LinkType::LOOP, with(&[0, 0, 0, 28], &ip6), 4),
        (LinkType::RAW, ip.clone(), 0),
        (LinkType::RAW, ip6.clone(), 0),
        (LinkType::RAW_OPENBSD, ip.clone(), 0),
        (LinkType::IPV4, ip.clone(), 0),
        (LinkType::IPV6, ip6.clone(), 0),
    ];
    for (link, data, link_len) in cases {
        let d = decode_packet(link, &data);
        assert_eq!(d.stop, None, "{link}");
        let t = d.tcp().unwrap_or_else(|| panic!("{link}: no tcp"));
        assert_eq!((t.seq(), d.payload), (99, &b"hi"[..]), "{link}");
        let ip_len = if d.ipv6().is_some() { 40 } else { 20 };
        assert_eq!(d.transport_offset, link_len + ip_len, "{link}");
        // A cut inside the link header is a Len error of that layer at offset 0.
        if link_len > 0 {
            let d = decode_packet(link, &data[..link_len - 1]);
            assert!(
                matches!(d.stop, Some(DecodeError::Len { offset: 0, .. })),
                "{link}: {:?}",
                d.stop
            );
        }
    }
    let data = with(&sll2, &ip);
    let d = decode_packet(LinkType::LINUX_SLL2, &data);
    match d.link {
        Some(Link::Sll(s)) => assert_eq!(
            (s.ifindex(), s.hatype(), s.addr()),
            (Some(3), 1, &[1, 2, 3, 4, 5, 6][..])
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_link_types_and_netlink() {
    let d = decode_packet(LinkType(147), &[1, 2, 3]);
    assert_eq!(
        d.stop,
        Some(DecodeError::Unsupported {
            layer: Layer::Link,
            value: 147
        })
    );
    assert_eq!(d.stop.unwrap().to_string(), "unsupported: link type 0x93");
    let d = decode_packet(LinkType::NETLINK, &[1, 2, 3]);
    assert_eq!(
        (d.link, d.stop, d.payload),
        (Some(Link::Netlink), None, &[1, 2, 3][..])
    );
    let d = decode_packet(LinkType::NULL, &[7, 0, 0, 0, 0x45]);
    assert_eq!(
        d.stop,
        Some(DecodeError::Unsupported {
            layer: Layer::Null,
            value: 7
        })
    );
}

#[test]
fn vlan_stacks_up_to_the_cap_then_a_typed_error() {
    let ip = ipv4_packet(&TcpSpec::default());
    let frame_with = |tags: usize| {
        let mut f = vec![0xff; 12];
        for i in 0..tags {
            let tpid: u16 = if i == 0 {
                0x88a8
            } else if i % 2 == 0 {
                0x9100
            } else {
                0x8100
            };
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&(i as u16 + 1).to_be_bytes());
        }
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&ip);
        f
    };
    let f = frame_with(8);
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!(d.stop, None);
    assert_eq!(
        d.vlans.iter().map(|v| v.id()).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    let f = frame_with(9);
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!(
        d.stop,
        // A tag's offset is that of its TCI: its TPID ends the previous header.
        Some(DecodeError::Malformed {
            layer: Layer::Vlan,
            field: "depth",
            value: 9,
            offset: 12 + 8 * 4 + 2
        })
    );
}

#[test]
fn llc_and_snap() {
    // 802.3 frame with an STP BPDU (LLC 42/42): recognised, not decoded further.
    let mut f = vec![
        0x01, 0x80, 0xc2, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 7, 0x42, 0x42, 0x03, 0, 0, 0, 0,
    ];
    f.resize(60, 0);
    let d = decode_packet(LinkType::ETHERNET, &f);
    let llc = d.llc.unwrap();
    assert_eq!(
        (llc.dsap, llc.ssap, llc.snap, d.stop),
        (0x42, 0x42, None, None)
    );
    assert_eq!(d.payload.len(), 4, "payload limited by the 802.3 length");
    // SNAP carrying IPv4.
    let ip = ipv4_packet(&TcpSpec::default());
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    f.extend_from_slice(&((8 + ip.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
    f.extend_from_slice(&ip);
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!(d.stop, None);
    assert_eq!(d.llc.unwrap().snap, Some(([0, 0, 0], 0x0800)));
    assert!(d.tcp().is_some());
    assert_eq!(d.transport_offset, 14 + 8 + 20);
}

#[test]
fn tagged_802_3_frame_is_llc_and_non_ethertype_snap_stops_cleanly() {
    // VLAN 209, then a length (CDP over SNAP with Cisco's organisation code), as in vlan-mixed.pcap.
    let mut f = vec![
        1, 0, 0x0c, 0xcc, 0xcc, 0xcc, 2, 0, 0, 0, 0, 1, 0x81, 0, 0, 209, 0, 12,
    ];
    f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00, 1, 2, 3, 4]);
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!(d.stop, None);
    assert_eq!(d.llc.unwrap().snap, Some(([0, 0, 0x0c], 0x2000)));
    assert_eq!(d.payload, &[1, 2, 3, 4][..]);
    assert_eq!(d.vlans.iter().map(|v| v.id()).collect::<Vec<_>>(), [209]);
}

#[test]
fn pppoe_session_over_vlan() {
    let ip = ipv4_packet(&TcpSpec {
        seq: 5,
        ..Default::default()
    });
    let mut f = vec![
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0, 0, 10, 0x88, 0x64, 0x11, 0, 0x12, 0x34,
    ];
    f.extend_from_slice(&(ip.len() as u16 + 2).to_be_bytes());
    f.extend_from_slice(&[0x00, 0x21]);
    f.extend_from_slice(&ip);
    let d = decode_packet(LinkType::ETHERNET, &f);
    assert_eq!(d.stop, None);
    assert_eq!(d.pppoe.unwrap().session_id, 0x1234);
    assert_eq!(d.tcp().unwrap().seq(), 5);
}

/// An IPv6 packet with extension headers `(type, bytes after next-header and length)`.
fn ipv6_with_exts(exts: &[(u8, Vec<u8>)], upper: u8, body: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    for (i, (nh, data)) in exts.iter().enumerate() {
        let next = exts.get(i + 1).map_or(upper, |e| e.0);
        let len = match nh {
            44 => 0,
            51 => (data.len() + 2) / 4 - 2,
            _ => (data.len() + 2) / 8 - 1,
        };
        payload.extend_from_slice(&[next, len as u8]);
        payload.extend_from_slice(data);
    }
    payload.extend_from_slice(body);
    let first = exts.first().map_or(upper, |e| e.0);
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[first, 64]);
    p.extend_from_slice(&[0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    p.extend_from_slice(&[0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    p.extend_from_slice(&payload);
    p
}

#[test]
fn ipv6_extension_headers_are_walked_to_the_upper_protocol() {
    let udp = build::udp_datagram(
        &IpSpec::V6(Ipv6Spec::default()),
        &UdpSpec {
            src_port: 1,
            dst_port: 2,
        },
        b"z",
    );
    let p = ipv6_with_exts(
        &[
            (0, vec![1, 4, 0, 0, 0, 0]),
            (60, vec![1, 4, 0, 0, 0, 0]),
            (51, vec![0; 10]),
        ],
        17,
        &udp,
    );
    let d = decode_packet(LinkType::IPV6, &p);
    assert_eq!(d.stop, None);
    let v6 = d.ipv6().unwrap();
    assert_eq!(
        (v6.next_header(), v6.upper_protocol(), v6.extensions()),
        (0, 17, &[0, 60, 51][..])
    );
    assert_eq!(d.udp().unwrap().dst_port(), 2);
    assert_eq!(d.transport_offset, 40 + 8 + 8 + 12);

    // First fragment: transport decoded; later fragment: not.
    let frag = |off: u16, more: bool| {
        let word = off | u16::from(more);
        let [hi, lo] = word.to_be_bytes();
        vec![hi, lo, 0xde, 0xad, 0xbe, 0xef]
    };
    let p = ipv6_with_exts(&[(44, frag(0, true))], 17, &udp);
    let d = decode_packet(LinkType::IPV6, &p);
    assert_eq!(
        d.fragment(),
        Some(pcap_decode::Fragment {
            id: 0xdeadbeef,
            offset: 0,
            more: true
        })
    );
    assert!(d.udp().is_some());
    let p = ipv6_with_exts(&[(44, frag(1480, false))], 17, &udp);
    let d = decode_packet(LinkType::IPV6, &p);
    assert_eq!(
        d.fragment(),
        Some(pcap_decode::Fragment {
            id: 0xdeadbeef,
            offset: 1480,
            more: false
        })
    );
    assert_eq!(
        (d.transport, d.payload.len(), d.stop),
        (None, udp.len(), None)
    );

    // Too many extension headers.
    let many: Vec<_> = (0..9).map(|_| (60u8, vec![1, 4, 0, 0, 0, 0])).collect();
    let p = ipv6_with_exts(&many, 17, &udp);
    let d = decode_packet(LinkType::IPV6, &p);
    assert_eq!(
        d.stop,
        Some(DecodeError::Malformed {
            layer: Layer::Ipv6Ext,
            field: "extension count",
            value: 9,
            offset: 40 + 64
        })
    );
    assert!(d.ipv6().is_some(), "the IPv6 header is kept");
    // A cut extension header.
    let p = ipv6_with_exts(&[(0, vec![1, 4, 0, 0, 0, 0])], 17, &udp);
    let d = decode_packet(LinkType::IPV6, &p[..45]);
    assert_eq!(
        d.stop,
        Some(DecodeError::Len {
            layer: Layer::Ipv6Ext,
            required: 8,
            actual: 5,
            offset: 40
        })
    );
}

#[test]
fn ipv4_non_first_fragment_has_no_transport() {
    let mut p = ipv4_packet(&TcpSpec::default());
    p[6] = 0x20; // MF, offset 0
    let d = decode_packet(LinkType::IPV4, &p);
    assert!(d.tcp().is_some());
    assert_eq!(
        d.fragment(),
        Some(pcap_decode::Fragment {
            id: 1,
            offset: 0,
            more: true
        })
    );
    // Decoded borrows the frame until dropped (its tunnel list holds borrowed headers).
    drop(d);
    p[6] = 0x00;
    p[7] = 185; // offset 1480
    let d = decode_packet(LinkType::IPV4, &p);
    assert_eq!((d.transport, d.stop), (None, None));
    assert_eq!(
        d.fragment(),
        Some(pcap_decode::Fragment {
            id: 1,
            offset: 1480,
            more: false
        })
    );
    assert_eq!(d.ipv4().unwrap().protocol(), 6);
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
    let i = d.icmp().unwrap();
    assert_eq!(
        (i.icmp_type(), i.code(), i.echo()),
        (8, 0, Some((0x1234, 7)))
    );

    let quoted = ipv4_packet(&TcpSpec::default());
    let mut unreach = vec![3, 3, 0, 0, 0, 0, 0, 0];
    unreach.extend_from_slice(&quoted[..28]);
    let p = build::ip_packet(&v4, 1, &unreach);
    let d = decode_packet(LinkType::IPV4, &p);
    let i = d.icmp().unwrap();
    assert!(i.is_error());
    assert_eq!(i.quoted(), Some(&quoted[..28]));
    let q = i.quoted_packet().unwrap();
    assert_eq!((q.protocol, q.ports), (6, Some((40000, 80))));
    assert_eq!(q.src.to_string(), "10.0.0.1");

    let v6 = IpSpec::V6(Ipv6Spec::default());
    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
    ns.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
    let p = build::ip_packet(&v6, 58, &ns);
    let d = decode_packet(LinkType::IPV6, &p);
    assert!(matches!(d.transport, Some(Transport::Icmpv6(_))));
    assert_eq!(
        d.icmp().unwrap().nd_target(),
        Some("fe80::9".parse().unwrap())
    );
}

#[test]
fn malformed_headers_name_field_and_offset() {
    let mut p = ipv4_packet(&TcpSpec::default());
    p[0] = 0x44;
    let d = decode_packet(LinkType::IPV4, &p);
    assert_eq!(
        d.stop,
        Some(DecodeError::Malformed {
            layer: Layer::Ipv4,
            field: "header length",
            value: 4,
            offset: 0
        })
    );
    let mut p = ipv4_packet(&TcpSpec::default());
    p[20 + 12] = 0x40; // data offset 4
    let d = decode_packet(LinkType::IPV4, &p);
    assert_eq!(
        d.stop,
        Some(DecodeError::Malformed {
            layer: Layer::Tcp,
            field: "data offset",
            value: 4,
            offset: 20
        })
    );
    assert_eq!(
        d.stop.unwrap().to_string(),
        "malformed: tcp data offset = 4 at offset 20"
    );
}

#[test]
fn malformed_tcp_option_length_is_reported_by_the_iterator() {
    // MSS with length 3, then padding.
    let tcp = TcpSpec {
        options: vec![1, 2, 3, 0],
        ..Default::default()
    };
    let f = build::ipv4_tcp(&tcp, b"");
    let d = decode_packet(LinkType::ETHERNET, &f);
    let t = d.tcp().unwrap();
    let opts: Vec<_> = t.options(d.transport_offset).collect();
    assert_eq!(
        opts,
        vec![
            Ok(TcpOption::Nop),
            Err(DecodeError::Malformed {
                layer: Layer::TcpOption,
                field: "length",
                value: 3,
                offset: 14 + 20 + 20 + 1
            }),
        ]
    );
    // Unknown kinds are skipped by their length; length 0 is malformed.
    let tcp = TcpSpec {
        options: vec![30, 4, 9, 9, 99, 0, 0, 0],
        ..Default::default()
    };
    let f = build::ipv4_tcp(&tcp, b"");
    let d = decode_packet(LinkType::ETHERNET, &f);
    let opts: Vec<_> = d.tcp().unwrap().options(0).collect();
    assert_eq!(
        opts[0],
        Ok(TcpOption::Unknown {
            kind: 30,
            data: &[9, 9]
        })
    );
    assert!(matches!(
        opts[1],
        Err(DecodeError::Malformed {
            field: "length",
            value: 0,
            ..
        })
    ));
}

#[test]
fn dns_over_udp_is_decoded() {
    use pcap_decode::build::{FrameSpec, UdpSpec, udp_frame};
    // A query for example.com, type A, id 0x1a2b.
    let query: &[u8] =
        b"\x1a\x2b\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
    let udp = UdpSpec {
        src_port: 51000,
        dst_port: 53,
    };
    let frame = udp_frame(&FrameSpec::default(), &udp, query);
    let d = decode_packet(LinkType::ETHERNET, &frame);
    let msg = d.dns().expect("port 53 is DNS").expect("valid header");
    assert_eq!(msg.id(), 0x1a2b);
    assert!(!msg.flags().response());
    let q = msg.questions().next().unwrap().unwrap();
    assert_eq!(
        q.name.labels().collect::<Vec<_>>(),
        [&b"example"[..], b"com"]
    );
    assert_eq!(q.qtype, pcap_decode::dns::rtype::A);

    // Not a DNS port: no DNS layer.
    let other = UdpSpec {
        src_port: 51000,
        dst_port: 5000,
    };
    let frame = udp_frame(&FrameSpec::default(), &other, query);
    assert!(decode_packet(LinkType::ETHERNET, &frame).dns().is_none());
}
