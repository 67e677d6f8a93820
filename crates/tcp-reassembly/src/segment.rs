//! The reassembler's input: one TCP segment, decoder-agnostic.

use std::net::{IpAddr, SocketAddr};

use crate::TcpFlags;

/// One TCP segment as seen on the wire, with its payload borrowed from the packet.
///
/// The reassembler does not depend on a particular decoder: an adapter fills this struct
/// from whatever TCP view the decoder offers. In-order payload is handed to the sink
/// straight from `payload`, without a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Capture time in nanoseconds since the Unix epoch; drives idle timeouts.
    pub ts_ns: i64,
    /// Source IP address.
    pub src: IpAddr,
    /// Destination IP address.
    pub dst: IpAddr,
    /// Source TCP port.
    pub src_port: u16,
    /// Destination TCP port.
    pub dst_port: u16,
    /// Sequence number (raw, not relative).
    pub seq: u32,
    /// Acknowledgement number (meaningful only with [`TcpFlags::ACK`]).
    pub ack: u32,
    /// The flag bits (`pcap-decode`'s type; only SYN, ACK, FIN and RST matter here).
    pub flags: TcpFlags,
    /// The advertised window, unscaled.
    pub window: u16,
    /// The window scale option's shift count, on a SYN or SYN/ACK that carries one (`None`
    /// otherwise). With both SYNs of a handshake seen, the reassembler knows each side's
    /// receive window and checks RSTs against it (RFC 7323: the scale applies only when both
    /// SYNs carry the option).
    pub wscale: Option<u8>,
    /// The captured TCP payload.
    pub payload: &'a [u8],
    /// The payload length on the wire when the snapshot length cut the packet short
    /// (`None` = `payload.len()`). The missing tail is reported as a gap, so the stream
    /// offsets stay true to the sequence numbers.
    pub orig_payload_len: Option<u32>,
    /// The tunnel the segment came through (`pcap_decode::Decoded::tunnel_id`), 0 for none.
    /// It is part of the flow key: sessions with the same endpoints in different tunnels
    /// (VXLAN VNIs, GRE keys...) are kept apart.
    pub tunnel: u64,
}

impl Segment<'_> {
    /// The source endpoint.
    pub fn src_addr(&self) -> SocketAddr {
        SocketAddr::new(self.src, self.src_port)
    }

    /// The destination endpoint.
    pub fn dst_addr(&self) -> SocketAddr {
        SocketAddr::new(self.dst, self.dst_port)
    }

    /// Payload length on the wire: at least the captured length.
    pub fn wire_len(&self) -> usize {
        let orig = self
            .orig_payload_len
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        orig.max(self.payload.len())
    }
}
