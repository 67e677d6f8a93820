//! From `pcap-decode`'s packet views to [`Segment`].

use std::net::IpAddr;

use pcap_decode::Decoded;
use pcap_decode::tcp::TcpView;

use crate::Segment;

impl<'a> Segment<'a> {
    /// The TCP segment in a decoded packet, or `None` when the packet has no complete TCP
    /// header or is part of a fragmented IP datagram (reassemble it first and decode the
    /// datagram with `pcap_decode::decode_transport`).
    ///
    /// When the snapshot length cut the payload short, `orig_payload_len` is the length the
    /// IP header announces, so the missing bytes become a gap rather than vanish.
    pub fn from_decoded(ts_ns: i64, d: &Decoded<'a>) -> Option<Segment<'a>> {
        if d.fragment().is_some_and(|f| f.more || f.offset != 0) {
            return None;
        }
        let mut seg = Segment::from_tcp(ts_ns, d.src_ip()?, d.dst_ip()?, d.tcp()?, d.payload);
        seg.orig_payload_len = d
            .declared_payload_len()
            .filter(|&n| n > d.payload.len())
            .and_then(|n| u32::try_from(n).ok());
        if !d.tunnels.is_empty() {
            seg.tunnel = d.tunnel_id();
        }
        Some(seg)
    }

    /// The segment of a TCP header decoded on its own (e.g. from a reassembled IP
    /// datagram), between `src` and `dst`, carrying `payload`.
    pub fn from_tcp(
        ts_ns: i64,
        src: IpAddr,
        dst: IpAddr,
        tcp: &TcpView<'_>,
        payload: &'a [u8],
    ) -> Segment<'a> {
        Segment {
            ts_ns,
            src,
            dst,
            src_port: tcp.src_port(),
            dst_port: tcp.dst_port(),
            seq: tcp.seq(),
            ack: tcp.ack(),
            flags: tcp.flags(),
            window: tcp.window(),
            wscale: if tcp.flags().syn() {
                window_scale(tcp.option_bytes())
            } else {
                None
            },
            payload,
            orig_payload_len: None,
            tunnel: 0,
        }
    }
}

/// Option kinds read here (RFC 9293 §3.1, RFC 7323 §2.2).
mod kind {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const WSCALE: u8 = 3;
    /// Length of the window scale option (kind, length, shift).
    pub const WSCALE_LEN: u8 = 3;
}

/// The shift count of the window scale option among a SYN's option bytes, if there is a
/// well-formed one. A walk over the raw bytes rather than `TcpView::options`: this runs for
/// every SYN and needs neither the other options nor errors, and kept out of line it leaves
/// `from_tcp` small for the other segments.
#[inline(never)]
fn window_scale(mut options: &[u8]) -> Option<u8> {
    loop {
        match *options {
            [] | [kind::EOL, ..] => return None,
            [kind::NOP, ref rest @ ..] => options = rest,
            [kind::WSCALE, kind::WSCALE_LEN, shift, ..] => return Some(shift),
            [_, len, ..] if len >= 2 => options = options.get(usize::from(len)..)?,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use pcap_capture::LinkType;
    use pcap_decode::build::{TcpSpec, emit_tcp_option, ipv4_tcp};
    use pcap_decode::decode_packet;

    use super::*;
    use crate::TcpFlags;
    use pcap_decode::tcp::TcpOption;

    #[test]
    fn decoded_syn_and_truncated_payload() {
        let frame = ipv4_tcp(
            &TcpSpec {
                seq: 7,
                flags: 0x018,
                ..Default::default()
            },
            b"hello world",
        );
        let d = decode_packet(LinkType::ETHERNET, &frame);
        let s = Segment::from_decoded(5, &d).unwrap();
        assert_eq!(
            (s.seq, s.flags, s.payload),
            (7, TcpFlags(0x18), &b"hello world"[..])
        );
        assert_eq!((s.orig_payload_len, s.wire_len(), s.ts_ns), (None, 11, 5));

        // Cut by a snapshot length 5 bytes into the payload.
        let cut = &frame[..frame.len() - 6];
        let d = decode_packet(LinkType::ETHERNET, cut);
        let s = Segment::from_decoded(5, &d).unwrap();
        assert_eq!((s.payload, s.orig_payload_len), (&b"hello"[..], Some(11)));
    }

    #[test]
    fn window_scale_is_read_from_syns_only() {
        let mut options = Vec::new();
        for o in [
            TcpOption::Mss(1460),
            TcpOption::Nop,
            TcpOption::WindowScale(7),
        ] {
            emit_tcp_option(&mut options, &o);
        }
        let frame = |flags: u16| {
            let options = options.clone();
            let tcp = TcpSpec {
                flags,
                options,
                ..Default::default()
            };
            ipv4_tcp(&tcp, b"")
        };
        let wscale = |f: &[u8]| {
            Segment::from_decoded(0, &decode_packet(LinkType::ETHERNET, f))
                .unwrap()
                .wscale
        };
        assert_eq!(wscale(&frame(0x002)), Some(7));
        assert_eq!(wscale(&frame(0x012)), Some(7));
        // Malformed or cut short: none.
        assert_eq!(window_scale(&[1, 3, 3]), None);
        assert_eq!(window_scale(&[2, 1, 3, 3, 7]), None);
        assert_eq!(window_scale(&[0, 3, 3, 7]), None);
        assert_eq!(window_scale(&[2, 4, 5, 180, 1, 3, 3, 9]), Some(9));
        // The option means nothing outside a SYN.
        assert_eq!(wscale(&frame(0x010)), None);
        assert_eq!(
            wscale(&ipv4_tcp(
                &TcpSpec {
                    flags: 0x002,
                    ..Default::default()
                },
                b""
            )),
            None
        );
    }

    /// The same inner 4-tuple in two VXLAN VNIs: two sessions; the reply in the same VNI
    /// joins its session.
    #[test]
    fn same_inner_tuple_in_two_vnis_stays_apart() {
        use pcap_decode::build::{
            EthSpec, IpSpec, Ipv4Spec, UdpSpec, ethernet_frame, ip_packet, tcp_segment,
            udp_datagram,
        };
        let frame = |vni: u32, reply: bool| {
            let (a, b) = ([10, 1, 0, 1], [10, 1, 0, 2]);
            let ip = IpSpec::V4(Ipv4Spec {
                src: if reply { b } else { a },
                dst: if reply { a } else { b },
                ..Default::default()
            });
            let tcp = TcpSpec {
                src_port: if reply { 80 } else { 40000 },
                dst_port: if reply { 40000 } else { 80 },
                flags: if reply { 0x012 } else { 0x002 },
                seq: vni,
                ack: if reply { 1 } else { 0 },
                ..Default::default()
            };
            let inner = ip_packet(&ip, 6, &tcp_segment(&ip, &tcp, b""));
            let inner = ethernet_frame(&EthSpec::default(), 0x0800, &inner);
            let mut vx = vec![0x08, 0, 0, 0];
            vx.extend_from_slice(&(vni << 8).to_be_bytes());
            vx.extend_from_slice(&inner);
            let outer = IpSpec::V4(Ipv4Spec::default());
            let udp = UdpSpec {
                src_port: 5000,
                dst_port: 4789,
            };
            let ip = ip_packet(&outer, 17, &udp_datagram(&outer, &udp, &vx));
            ethernet_frame(&EthSpec::default(), 0x0800, &ip)
        };
        let mut r = crate::Reassembler::default();
        let mut sink = |_: crate::Event<'_>| {};
        let mut push = |f: Vec<u8>| {
            let d = decode_packet(LinkType::ETHERNET, &f);
            let s = Segment::from_decoded(1, &d).unwrap();
            assert_ne!(s.tunnel, 0);
            r.push(&s, &mut sink).session
        };
        let a = push(frame(42, false));
        let b = push(frame(43, false));
        assert_ne!(a, b);
        assert_eq!(push(frame(42, true)), a);
        assert_eq!(push(frame(43, true)), b);
    }
}
