//! Property tests: built packets parse back to their field values, and no input panics.
//! (That the summary and JSON written for any input are valid is pcap-cli's
//! `tests/render_props.rs`.)
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::IpAddr;

use pcap_capture::LinkType;
use pcap_decode::build::{self, EthSpec, FrameSpec, IpSpec, Ipv4Spec, Ipv6Spec, TcpSpec, UdpSpec};
use pcap_decode::tcp::TcpOption;
use pcap_decode::{Net, Transport, decode_packet};
use proptest::prelude::*;

use pcap_testkit::frames::LINKS;

fn ip_spec() -> impl Strategy<Value = IpSpec> {
    prop_oneof![
        (
            any::<[u8; 4]>(),
            any::<[u8; 4]>(),
            any::<u8>(),
            any::<u16>(),
            any::<bool>()
        )
            .prop_map(|(src, dst, ttl, id, dont_frag)| IpSpec::V4(Ipv4Spec {
                src,
                dst,
                ttl,
                id,
                dont_frag
            })),
        (any::<[u8; 16]>(), any::<[u8; 16]>(), any::<u8>()).prop_map(|(src, dst, hop_limit)| {
            IpSpec::V6(Ipv6Spec {
                src,
                dst,
                hop_limit,
            })
        }),
    ]
}

#[derive(Debug, Clone)]
enum Opt {
    Nop,
    Mss(u16),
    Ws(u8),
    SackPerm,
    Ts(u32, u32),
    Sack(Vec<(u32, u32)>),
}

fn options() -> impl Strategy<Value = Vec<Opt>> {
    let opt = prop_oneof![
        Just(Opt::Nop),
        any::<u16>().prop_map(Opt::Mss),
        any::<u8>().prop_map(Opt::Ws),
        Just(Opt::SackPerm),
        (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Opt::Ts(a, b)),
        proptest::collection::vec((any::<u32>(), any::<u32>()), 1..4).prop_map(Opt::Sack),
    ];
    // At most 40 bytes: the longest option is 26 bytes, so keep the list short and trim.
    proptest::collection::vec(opt, 0..6)
}

fn emit(opts: &[Opt]) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut n = 0;
    for o in opts {
        let mut one = Vec::new();
        let sack_bytes: Vec<u8>;
        let opt = match o {
            Opt::Nop => TcpOption::Nop,
            Opt::Mss(v) => TcpOption::Mss(*v),
            Opt::Ws(v) => TcpOption::WindowScale(*v),
            Opt::SackPerm => TcpOption::SackPermitted,
            Opt::Ts(a, b) => TcpOption::Timestamp { val: *a, ecr: *b },
            Opt::Sack(blocks) => {
                sack_bytes = blocks
                    .iter()
                    .flat_map(|(l, r)| [l.to_be_bytes(), r.to_be_bytes()].concat())
                    .collect();
                TcpOption::Unknown {
                    kind: 5,
                    data: &sack_bytes,
                }
            }
        };
        build::emit_tcp_option(&mut one, &opt);
        if out.len() + one.len() > 40 {
            break;
        }
        out.extend_from_slice(&one);
        n += 1;
    }
    (out, n)
}

fn check_option(got: &TcpOption<'_>, want: &Opt) {
    match (got, want) {
        (TcpOption::Nop, Opt::Nop) | (TcpOption::SackPermitted, Opt::SackPerm) => {}
        (TcpOption::Mss(a), Opt::Mss(b)) => assert_eq!(a, b),
        (TcpOption::WindowScale(a), Opt::Ws(b)) => assert_eq!(a, b),
        (TcpOption::Timestamp { val, ecr }, Opt::Ts(a, b)) => assert_eq!((val, ecr), (a, b)),
        (TcpOption::Sack(blocks), Opt::Sack(b)) => {
            assert_eq!(&blocks.iter().collect::<Vec<_>>(), b)
        }
        other => panic!("mismatch {other:?}"),
    }
}

proptest! {
    #[test]
    fn tcp_frames_parse_back(
        ip in ip_spec(),
        src_port in any::<u16>(), dst_port in any::<u16>(), seq in any::<u32>(), ack in any::<u32>(),
        flags in 0u16..0x200, window in any::<u16>(), opts in options(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        src in any::<[u8; 6]>(), dst in any::<[u8; 6]>(),
    ) {
        let (option_bytes, n) = emit(&opts);
        let tcp = TcpSpec { src_port, dst_port, seq, ack, flags, window, options: option_bytes };
        let f = build::tcp_frame(&FrameSpec { eth: EthSpec { src, dst }, ip }, &tcp, &payload);
        let d = decode_packet(LinkType::ETHERNET, &f);
        prop_assert_eq!(d.stop, None);
        prop_assert!(!d.truncated);
        let e = d.ethernet().unwrap();
        prop_assert_eq!((e.src().0, e.dst().0), (src, dst));
        match ip {
            IpSpec::V4(v) => {
                let h = d.ipv4().unwrap();
                prop_assert_eq!((h.src_bytes(), h.dst_bytes(), h.ttl(), h.id(), h.dont_frag()), (v.src, v.dst, v.ttl, v.id, v.dont_frag));
                prop_assert!(h.checksum_valid());
                prop_assert_eq!(d.src_ip(), Some(IpAddr::from(v.src)));
            }
            IpSpec::V6(v) => {
                let h = d.ipv6().unwrap();
                prop_assert_eq!((h.src_bytes(), h.dst_bytes(), h.hop_limit(), h.upper_protocol()), (v.src, v.dst, v.hop_limit, 6));
                prop_assert_eq!(d.dst_ip(), Some(IpAddr::from(v.dst)));
            }
        }
        let t = d.tcp().unwrap();
        prop_assert_eq!((t.src_port(), t.dst_port(), t.seq(), t.ack(), t.flags().0, t.window()), (src_port, dst_port, seq, ack, flags, window));
        prop_assert_eq!(d.payload, &payload[..]);
        let parsed: Vec<_> = t.options(0).map(Result::unwrap).filter(|o| *o != TcpOption::Eol).collect();
        prop_assert_eq!(parsed.len(), n);
        for (got, want) in parsed.iter().zip(&opts) {
            check_option(got, want);
        }
    }

    #[test]
    fn udp_frames_parse_back(
        ip in ip_spec(), src_port in any::<u16>(), dst_port in any::<u16>(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let f = build::udp_frame(&FrameSpec { ip, ..Default::default() }, &UdpSpec { src_port, dst_port }, &payload);
        let d = decode_packet(LinkType::ETHERNET, &f);
        prop_assert_eq!(d.stop, None);
        let u = d.udp().unwrap();
        prop_assert_eq!((u.src_port(), u.dst_port(), usize::from(u.length())), (src_port, dst_port, payload.len() + 8));
        prop_assert_eq!(d.payload, &payload[..]);
    }

    /// No input panics, for every link type, and every accessor of what was decoded answers.
    #[test]
    fn arbitrary_bytes_never_panic(link_idx in 0usize..LINKS.len(), data in proptest::collection::vec(any::<u8>(), 0..200)) {
        exercise(LINKS[link_idx], &data);
    }

    /// Valid frames with a few bytes changed reach deeper layers than random bytes do.
    #[test]
    fn mutated_frames_never_panic(
        ip in ip_spec(), opts in options(), udp in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let f = if udp {
            build::udp_frame(&FrameSpec { ip, ..Default::default() }, &UdpSpec::default(), b"data")
        } else {
            let tcp = TcpSpec { options: emit(&opts).0, ..Default::default() };
            build::tcp_frame(&FrameSpec { ip, ..Default::default() }, &tcp, b"data")
        };
        let mut f = f;
        for (at, b) in edits {
            let i = at.index(f.len());
            f[i] = b;
        }
        let n = cut.index(f.len() + 1);
        exercise(LinkType::ETHERNET, &f[..n]);
    }
}

/// Decodes `data` and reads every field a renderer would.
fn exercise(link: LinkType, data: &[u8]) {
    let d = decode_packet(link, data);
    let _ = (
        d.src_ip(),
        d.dst_ip(),
        d.fragment(),
        d.payload.len(),
        d.vlans.len(),
    );
    match &d.net {
        Some(Net::Arp(a)) => {
            let _ = (
                a.op(),
                a.sender_mac(),
                a.sender_ip(),
                a.target_mac(),
                a.target_ip(),
            );
        }
        Some(Net::Ipv4(v)) => {
            let _ = (
                v.src_bytes(),
                v.dst_bytes(),
                v.checksum_valid(),
                v.frag_offset(),
            );
        }
        Some(Net::Ipv6(v)) => {
            let _ = (v.src(), v.dst(), v.upper_protocol(), v.fragment());
        }
        _ => {}
    }
    match &d.transport {
        Some(Transport::Tcp(t)) => {
            let _ = (t.seq(), t.ack(), t.flags().to_string(), t.window());
            for o in t.options(d.transport_offset) {
                let _ = o;
            }
        }
        Some(Transport::Udp(u)) => {
            if let Some(Ok(msg)) = d.dns() {
                for r in msg.records().flatten() {
                    let _ = (r.name.labels().count(), r.rdata());
                }
            }
            let _ = u.length();
        }
        Some(Transport::Icmp(i) | Transport::Icmpv6(i)) => {
            let _ = (i.echo(), i.nd_target(), i.quoted_packet());
        }
        _ => {}
    }
    if let Some(e) = &d.stop {
        assert!(!e.to_string().is_empty());
    }
}
