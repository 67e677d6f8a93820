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
            payload,
            orig_payload_len: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use pcap_capture::LinkType;
    use pcap_decode::build::{TcpSpec, ipv4_tcp};
    use pcap_decode::decode_packet;

    use super::*;
    use crate::TcpFlags;

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
}
