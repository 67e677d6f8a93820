//! Tunnel and encapsulation headers: MPLS, GRE (with ERSPAN), VXLAN, VXLAN-GPE, NSH, GENEVE,
//! GTP-U, Teredo and AYIYA, plus the record [`Tunnel`] that [`crate::Decoded::tunnels`] keeps
//! of each one crossed on the way to the innermost packet.
//!
//! Each parser checks its header (lengths, versions, reserved bits) before saying what comes
//! next, so that a datagram that merely uses a tunnel's port is not taken for a tunnel: a
//! header that does not validate gives `None`, and the datagram stays what it was.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::bytes::{array, be16, be32, u8_at};
use crate::error::{DecodeError, Layer, need};

/// How many tunnel layers [`crate::decode_packet`] crosses before it stops with
/// [`DecodeError::Malformed`] (`field: "tunnel depth"`). Each MPLS label counts as one.
pub const MAX_TUNNELS: usize = 8;

/// Well-known UDP ports of the tunnels decoded over UDP.
pub mod port {
    /// VXLAN (RFC 7348).
    pub const VXLAN: u16 = 4789;
    /// VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe).
    pub const VXLAN_GPE: u16 = 4790;
    /// GENEVE (RFC 8926).
    pub const GENEVE: u16 = 6081;
    /// GTP-U (3GPP TS 29.281).
    pub const GTP_U: u16 = 2152;
    /// Teredo (RFC 4380).
    pub const TEREDO: u16 = 3544;
    /// AYIYA (draft-massar-v6ops-ayiya).
    pub const AYIYA: u16 = 5072;
    /// GRE in UDP (RFC 8086).
    pub const GRE_UDP: u16 = 4754;
}

/// Ether types (and GRE protocol types) of the encapsulations decoded.
pub mod ethertype {
    /// MPLS unicast.
    pub const MPLS: u16 = 0x8847;
    /// MPLS multicast.
    pub const MPLS_MULTICAST: u16 = 0x8848;
    /// Transparent Ethernet bridging (GRE, GENEVE).
    pub const TEB: u16 = 0x6558;
    /// ERSPAN type II (type I when GRE carries no sequence number).
    pub const ERSPAN_2: u16 = 0x88be;
    /// ERSPAN type III.
    pub const ERSPAN_3: u16 = 0x22eb;
    /// PPP (PPTP's enhanced GRE).
    pub const PPP: u16 = 0x880b;
    /// Aruba's GRE carrying 802.11 frames.
    pub const ARUBA_80211: u16 = 0x8200;
    /// Network service header.
    pub const NSH: u16 = 0x894f;
}

/// The kind of a tunnel layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TunnelKind {
    /// One MPLS label stack entry (id: the label).
    Mpls,
    /// GRE (id: the key, if present).
    Gre,
    /// ERSPAN type I, II or III over GRE (id: the session id).
    Erspan,
    /// VXLAN (id: the VNI).
    Vxlan,
    /// VXLAN-GPE (id: the VNI).
    VxlanGpe,
    /// Network service header (id: the service path id).
    Nsh,
    /// GENEVE (id: the VNI).
    Geneve,
    /// IPv4 or IPv6 directly in IPv4 or IPv6 (protocol 4 or 41).
    IpInIp,
    /// GTP-U (id: the TEID).
    GtpU,
    /// Teredo: IPv6 in UDP.
    Teredo,
    /// AYIYA: IP in UDP.
    Ayiya,
}

impl TunnelKind {
    /// Lowercase name used in summaries and JSON.
    pub fn name(self) -> &'static str {
        match self {
            TunnelKind::Mpls => "mpls",
            TunnelKind::Gre => "gre",
            TunnelKind::Erspan => "erspan",
            TunnelKind::Vxlan => "vxlan",
            TunnelKind::VxlanGpe => "vxlan-gpe",
            TunnelKind::Nsh => "nsh",
            TunnelKind::Geneve => "geneve",
            TunnelKind::IpInIp => "ip-in-ip",
            TunnelKind::GtpU => "gtp-u",
            TunnelKind::Teredo => "teredo",
            TunnelKind::Ayiya => "ayiya",
        }
    }

    /// Whether the tunnel's id is the same in both directions of a conversation, and so may
    /// tell flows apart. GTP-U TEIDs are chosen by each receiving end, MPLS labels belong to
    /// one-way paths and GRE keys are often set per direction (the corpus's
    /// `tun-gre-key-teb-http` has one key each way): keyed on, they would split each session
    /// into its two halves. For those only the kind of tunnel counts.
    pub fn id_is_symmetric(self) -> bool {
        matches!(
            self,
            TunnelKind::Erspan
                | TunnelKind::Vxlan
                | TunnelKind::VxlanGpe
                | TunnelKind::Geneve
                | TunnelKind::Nsh
        )
    }
}

/// One tunnel layer crossed on the way in, outermost first in [`crate::Decoded::tunnels`].
///
/// Kept small (32 bytes): [`crate::Decoded`] holds room for [`MAX_TUNNELS`] of them and is
/// moved for every packet, tunnelled or not. The outer addresses are read on demand from the
/// outer IP header, borrowed from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tunnel<'a> {
    /// What kind of encapsulation.
    pub kind: TunnelKind,
    /// Its identifier (VNI, GRE key, TEID, MPLS label, ERSPAN session, NSH path), if it has one.
    pub id: Option<u32>,
    /// Offset of the tunnel header in the frame.
    pub offset: u32,
    /// The IP header the tunnel was found in (empty when it is not carried in IP, e.g. MPLS).
    outer: &'a [u8],
}

impl<'a> Tunnel<'a> {
    pub(crate) fn new(kind: TunnelKind, id: Option<u32>, offset: usize, outer: &'a [u8]) -> Self {
        Tunnel {
            kind,
            id,
            offset: u32::try_from(offset).unwrap_or(u32::MAX),
            outer,
        }
    }

    /// Outer IP source address (None when the tunnel is not carried in IP, e.g. MPLS).
    pub fn src(&self) -> Option<IpAddr> {
        self.addr(12, 8)
    }

    /// Outer IP destination address.
    pub fn dst(&self) -> Option<IpAddr> {
        self.addr(16, 24)
    }

    fn addr(&self, v4_at: usize, v6_at: usize) -> Option<IpAddr> {
        match self.outer.first()? >> 4 {
            4 if self.outer.len() >= 20 => {
                Some(IpAddr::V4(Ipv4Addr::from(array::<4>(self.outer, v4_at))))
            }
            6 if self.outer.len() >= 40 => {
                Some(IpAddr::V6(Ipv6Addr::from(array::<16>(self.outer, v6_at))))
            }
            _ => None,
        }
    }
}

/// What follows a tunnel header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// An Ethernet frame.
    Ethernet,
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// IPv4 or IPv6, by the version nibble.
    Ip,
    /// Dispatch on this ether type (GRE's protocol type).
    Ethertype(u16),
    /// An 802.11 frame.
    Wlan,
    /// A network service header.
    Nsh,
    /// An MPLS label stack.
    Mpls,
    /// A PPP frame (address/control optional).
    Ppp,
    /// Nothing decodable (recognised, not decoded further).
    Opaque,
}

/// A parsed tunnel header: its id, what follows and the header's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub kind: TunnelKind,
    pub id: Option<u32>,
    pub next: Next,
    pub len: usize,
}

fn malformed(layer: Layer, field: &'static str, value: u32, offset: usize) -> DecodeError {
    DecodeError::Malformed {
        layer,
        field,
        value,
        offset,
    }
}

/// GRE (RFC 2784, 2890; version 1 for PPTP, RFC 2637). Source routing is refused.
// Header lengths are sums of a few constants (at most 20): no overflow.
#[allow(clippy::arithmetic_side_effects)]
pub(crate) fn gre(data: &[u8], offset: usize) -> Result<Header, DecodeError> {
    let h = need(data, 4, Layer::Gre, offset)?;
    let flags = be16(h, 0);
    let proto = be16(h, 2);
    let version = flags & 0x0007;
    const C: u16 = 0x8000;
    const R: u16 = 0x4000;
    const K: u16 = 0x2000;
    const S: u16 = 0x1000;
    const A: u16 = 0x0080;
    if flags & R != 0 {
        return Err(malformed(Layer::Gre, "routing", 1, offset));
    }
    let mut len = 4usize;
    let mut id = None;
    match version {
        0 => {
            // Reserved0 bits 5..12 (after C, R, K, S, s) must be zero.
            if flags & 0x07f8 != 0 {
                return Err(malformed(Layer::Gre, "flags", u32::from(flags), offset));
            }
            if flags & C != 0 {
                len += 4;
            }
            if flags & K != 0 {
                id = Some(be32(need(data, len + 4, Layer::Gre, offset)?, len));
                len += 4;
            }
        }
        1 => {
            if flags & K == 0 || proto != ethertype::PPP {
                return Err(malformed(Layer::Gre, "version", 1, offset));
            }
            // Payload length (16 bits) then call id (16 bits): the call id is per direction.
            len += 4;
        }
        v => return Err(malformed(Layer::Gre, "version", u32::from(v), offset)),
    }
    let seq = flags & S != 0;
    if seq {
        len += 4;
    }
    if version == 1 && flags & A != 0 {
        len += 4;
    }
    need(data, len, Layer::Gre, offset)?;
    let next = match proto {
        ethertype::TEB => Next::Ethernet,
        ethertype::PPP => Next::Ppp,
        ethertype::ARUBA_80211 => Next::Wlan,
        ethertype::ERSPAN_2 if !seq => {
            // ERSPAN type I: no header, an Ethernet frame straight away.
            Next::Ethernet
        }
        other => Next::Ethertype(other),
    };
    Ok(Header {
        kind: TunnelKind::Gre,
        id,
        next,
        len,
    })
}

/// ERSPAN type II (8 bytes) or III (12, plus 8 with the platform sub-header).
pub(crate) fn erspan(proto: u16, data: &[u8], offset: usize) -> Result<Header, DecodeError> {
    let h = need(data, 8, Layer::Erspan, offset)?;
    let version = u8_at(h, 0) >> 4;
    let session = u32::from(be16(h, 2) & 0x03ff);
    let len = match (proto, version) {
        (ethertype::ERSPAN_2, 1) => 8,
        (ethertype::ERSPAN_3, 2) => {
            let h = need(data, 12, Layer::Erspan, offset)?;
            // O flag: the last bit of the header says a platform sub-header follows.
            if u8_at(h, 11) & 0x01 != 0 { 20 } else { 12 }
        }
        _ => {
            return Err(malformed(
                Layer::Erspan,
                "version",
                u32::from(version),
                offset,
            ));
        }
    };
    need(data, len, Layer::Erspan, offset)?;
    Ok(Header {
        kind: TunnelKind::Erspan,
        id: Some(session),
        next: Next::Ethernet,
        len,
    })
}

/// VXLAN: the I flag set, the other flag bits (but GBP's) and the reserved bytes clear.
pub(crate) fn vxlan(data: &[u8]) -> Option<Header> {
    let h = data.get(..8)?;
    let flags = u8_at(h, 0);
    if flags & 0x08 == 0 || flags & 0x77 != 0 || u8_at(h, 7) != 0 {
        return None;
    }
    Some(Header {
        kind: TunnelKind::Vxlan,
        id: Some(be32(h, 4) >> 8),
        next: Next::Ethernet,
        len: 8,
    })
}

/// VXLAN-GPE: version 0, the P flag for the next protocol (1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH,
/// 5 MPLS).
pub(crate) fn vxlan_gpe(data: &[u8]) -> Option<Header> {
    let h = data.get(..8)?;
    let flags = u8_at(h, 0);
    if flags & 0x30 != 0 || u8_at(h, 7) != 0 {
        return None;
    }
    let next = if flags & 0x04 == 0 {
        Next::Ethernet
    } else {
        match u8_at(h, 3) {
            1 => Next::Ipv4,
            2 => Next::Ipv6,
            3 => Next::Ethernet,
            4 => Next::Nsh,
            5 => Next::Mpls,
            _ => return None,
        }
    };
    Some(Header {
        kind: TunnelKind::VxlanGpe,
        id: (flags & 0x08 != 0).then(|| be32(h, 4) >> 8),
        next,
        len: 8,
    })
}

/// NSH (RFC 8300): version 0, length in 4-byte words, next protocol 1 IPv4, 2 IPv6,
/// 3 Ethernet, 5 MPLS.
pub(crate) fn nsh(data: &[u8], offset: usize) -> Result<Header, DecodeError> {
    let h = need(data, 8, Layer::Nsh, offset)?;
    let version = u8_at(h, 0) >> 6;
    if version != 0 {
        return Err(malformed(Layer::Nsh, "version", u32::from(version), offset));
    }
    let words = usize::from(u8_at(h, 1) & 0x3f);
    let len = words.saturating_mul(4);
    if len < 8 {
        return Err(malformed(Layer::Nsh, "length", words as u32, offset));
    }
    need(data, len, Layer::Nsh, offset)?;
    let next = match u8_at(h, 3) {
        1 => Next::Ipv4,
        2 => Next::Ipv6,
        3 => Next::Ethernet,
        5 => Next::Mpls,
        _ => Next::Opaque,
    };
    Ok(Header {
        kind: TunnelKind::Nsh,
        id: Some(be32(h, 4) >> 8),
        next,
        len,
    })
}

/// GENEVE: version 0, options length in 4-byte words, protocol type an ether type.
pub(crate) fn geneve(data: &[u8]) -> Option<Header> {
    let h = data.get(..8)?;
    if u8_at(h, 0) >> 6 != 0 || u8_at(h, 7) != 0 {
        return None;
    }
    let len = 8usize.saturating_add(usize::from(u8_at(h, 0) & 0x3f).saturating_mul(4));
    data.get(..len)?;
    let next = match be16(h, 2) {
        ethertype::TEB => Next::Ethernet,
        other => Next::Ethertype(other),
    };
    Some(Header {
        kind: TunnelKind::Geneve,
        id: Some(be32(h, 4) >> 8),
        next,
        len,
    })
}

/// GTP-U version 1, G-PDU messages (type 255) only: the optional fields and extension
/// headers are skipped; the payload is IP.
pub(crate) fn gtp_u(data: &[u8]) -> Option<Header> {
    let h = data.get(..8)?;
    let flags = u8_at(h, 0);
    // Version 1, protocol type 1 (GTP, not GTP').
    if flags >> 5 != 1 || flags & 0x10 == 0 || u8_at(h, 1) != 0xff {
        return None;
    }
    let declared = usize::from(be16(h, 2));
    let mut len = 8usize;
    if flags & 0x07 != 0 {
        // Sequence number, N-PDU number and next extension header type.
        data.get(..12)?;
        len = 12;
        let mut next_ext = u8_at(data, 11);
        let mut hops = 0u8;
        while next_ext != 0 {
            hops = hops.saturating_add(1);
            if hops > 8 {
                return None;
            }
            let words = usize::from(*data.get(len)?);
            if words == 0 {
                return None;
            }
            let end = len.checked_add(words.checked_mul(4)?)?;
            next_ext = *data.get(end.checked_sub(1)?)?;
            len = end;
        }
    }
    // The length field counts everything after the first 8 bytes.
    if declared.checked_add(8)? < len {
        return None;
    }
    Some(Header {
        kind: TunnelKind::GtpU,
        id: Some(be32(h, 4)),
        next: Next::Ip,
        len,
    })
}

/// Teredo: optional authentication and origin indications, then an IPv6 header whose
/// payload length matches what the UDP datagram carries.
pub(crate) fn teredo(data: &[u8]) -> Option<Header> {
    let mut len = 0usize;
    if be16(data, 0) == 0x0001 {
        // Authentication: id length, auth length, 8-byte nonce, confirmation byte.
        let id_len = usize::from(*data.get(2)?);
        let au_len = usize::from(*data.get(3)?);
        len = 4usize
            .checked_add(id_len)?
            .checked_add(au_len)?
            .checked_add(9)?;
    }
    if data.get(len..)?.len() >= 2 && be16(data, len) == 0x0000 {
        // Origin indication: 8 bytes.
        len = len.checked_add(8)?;
    }
    let ip = data.get(len..)?;
    if ip.len() < crate::ipv6::HEADER_LEN || u8_at(ip, 0) >> 4 != 6 {
        return None;
    }
    let payload_len = usize::from(be16(ip, 4));
    if payload_len.checked_add(crate::ipv6::HEADER_LEN)? != ip.len() {
        return None;
    }
    Some(Header {
        kind: TunnelKind::Teredo,
        id: None,
        next: Next::Ipv6,
        len,
    })
}

/// AYIYA: identity and signature lengths, opcode 1 (forward), next header 4 or 41.
pub(crate) fn ayiya(data: &[u8]) -> Option<Header> {
    let h = data.get(..8)?;
    let id_len = 1usize.checked_shl(u32::from(u8_at(h, 0) >> 4))?;
    let sig_len = usize::from(u8_at(h, 1) >> 4).checked_mul(4)?;
    if u8_at(h, 2) & 0x0f != 1 {
        return None;
    }
    let next = match u8_at(h, 3) {
        4 => Next::Ipv4,
        41 => Next::Ipv6,
        _ => return None,
    };
    let len = 8usize.checked_add(id_len)?.checked_add(sig_len)?;
    data.get(..len)?;
    Some(Header {
        kind: TunnelKind::Ayiya,
        id: None,
        next,
        len,
    })
}

/// One MPLS label stack entry: (label, bottom of stack).
pub(crate) fn mpls_entry(data: &[u8], offset: usize) -> Result<(u32, bool), DecodeError> {
    let h = need(data, 4, Layer::Mpls, offset)?;
    let v = be32(h, 0);
    Ok((v >> 12, v & 0x100 != 0))
}

/// What follows the bottom of an MPLS stack: IP by its version nibble, or a pseudowire
/// control word (first nibble 0) and an Ethernet frame.
pub(crate) fn mpls_payload(data: &[u8], offset: usize) -> Result<(Next, usize), DecodeError> {
    let first = u8_at(need(data, 1, Layer::Mpls, offset)?, 0);
    Ok(match first >> 4 {
        4 => (Next::Ipv4, 0),
        6 => (Next::Ipv6, 0),
        0 => (Next::Ethernet, 4),
        v => return Err(malformed(Layer::Mpls, "payload", u32::from(v), offset)),
    })
}

/// PPP (RFC 1661/1662): optional `ff 03` address and control, then a 1- or 2-byte protocol.
/// Returns the protocol and the header length.
// Header lengths are sums of a few constants (at most 4): no overflow.
#[allow(clippy::arithmetic_side_effects)]
pub(crate) fn ppp(data: &[u8], offset: usize) -> Result<(u16, usize), DecodeError> {
    let mut at = 0usize;
    if data.starts_with(&[0xff, 0x03]) {
        at = 2;
    }
    let first = u8_at(need(data, at + 1, Layer::Ppp, offset)?, at);
    if first & 0x01 != 0 {
        // Protocol field compression: one odd byte.
        Ok((u16::from(first), at + 1))
    } else {
        let h = need(data, at + 2, Layer::Ppp, offset)?;
        Ok((be16(h, at), at + 2))
    }
}

/// PPP protocol numbers beyond IPv4/IPv6.
pub mod ppp_proto {
    /// MPLS unicast.
    pub const MPLS: u16 = 0x0281;
    /// MPLS multicast.
    pub const MPLS_MULTICAST: u16 = 0x0283;
}

/// A 64-bit FNV-1a step.
#[inline]
pub(crate) fn fnv(mut h: u64, v: u64) -> u64 {
    for b in v.to_le_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn vxlan_needs_the_i_flag() {
        assert!(vxlan(&[0x08, 0, 0, 0, 0, 0, 42, 0]).is_some());
        assert_eq!(vxlan(&[0x08, 0, 0, 0, 0, 0, 42, 0]).unwrap().id, Some(42));
        assert!(vxlan(&[0x00, 0, 0, 0, 0, 0, 42, 0]).is_none());
        assert!(vxlan(&[0x08, 0, 0, 0, 0, 0, 42]).is_none());
    }

    #[test]
    fn gre_key_and_sequence() {
        let h = gre(&[0x30, 0, 0x65, 0x58, 0, 0, 0, 7, 0, 0, 0, 1], 0).unwrap();
        assert_eq!((h.id, h.len, h.next), (Some(7), 12, Next::Ethernet));
        assert!(
            gre(&[0x30, 0, 0x65, 0x58, 0, 0, 0, 7], 0)
                .unwrap_err()
                .is_truncation()
        );
        assert!(gre(&[0x00, 0x03, 0x08, 0x00], 0).is_err());
    }

    #[test]
    fn gtp_u_g_pdu_only() {
        let mut g = vec![0x30, 0xff, 0, 0, 0, 0, 0, 9];
        assert_eq!(gtp_u(&g).unwrap().id, Some(9));
        g[1] = 1;
        assert!(gtp_u(&g).is_none());
    }
}
