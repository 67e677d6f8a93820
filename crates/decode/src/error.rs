//! Decoding errors: each one names the layer, what was wrong and where in the frame.

use std::fmt;

/// The protocol layer (or header) an error or a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layer {
    /// The capture's link type itself (no header was read).
    Link,
    /// Ethernet II / 802.3 header.
    Ethernet,
    /// 802.2 LLC header following an 802.3 length field.
    Llc,
    /// 802.1Q / 802.1ad VLAN tag.
    Vlan,
    /// Linux cooked capture v1.
    Sll,
    /// Linux cooked capture v2.
    Sll2,
    /// BSD NULL / OpenBSD LOOP address-family header.
    Null,
    /// PPPoE session header.
    Pppoe,
    /// ARP packet.
    Arp,
    /// IPv4 header.
    Ipv4,
    /// IPv6 fixed header.
    Ipv6,
    /// An IPv6 extension header.
    Ipv6Ext,
    /// ICMP (v4) header.
    Icmp,
    /// ICMPv6 header.
    Icmpv6,
    /// TCP header.
    Tcp,
    /// A TCP option.
    TcpOption,
    /// UDP header.
    Udp,
    /// PPP header (link type, PPTP or PPPoE payload).
    Ppp,
    /// Cisco HDLC header.
    Chdlc,
    /// NFLOG header and TLVs.
    Nflog,
    /// Radiotap header.
    Radiotap,
    /// 802.11 MAC header.
    Wlan,
    /// MPLS label stack entry.
    Mpls,
    /// GRE header.
    Gre,
    /// ERSPAN header.
    Erspan,
    /// Network service header.
    Nsh,
    /// Any tunnel layer (depth limit).
    Tunnel,
}

impl Layer {
    /// Lowercase name used in error messages and summaries.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Link => "link",
            Layer::Ethernet => "ethernet",
            Layer::Llc => "llc",
            Layer::Vlan => "vlan",
            Layer::Sll => "sll",
            Layer::Sll2 => "sll2",
            Layer::Null => "null",
            Layer::Pppoe => "pppoe",
            Layer::Arp => "arp",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Ipv6Ext => "ipv6 extension",
            Layer::Icmp => "icmp",
            Layer::Icmpv6 => "icmpv6",
            Layer::Tcp => "tcp",
            Layer::TcpOption => "tcp option",
            Layer::Udp => "udp",
            Layer::Ppp => "ppp",
            Layer::Chdlc => "chdlc",
            Layer::Nflog => "nflog",
            Layer::Radiotap => "radiotap",
            Layer::Wlan => "802.11",
            Layer::Mpls => "mpls",
            Layer::Gre => "gre",
            Layer::Erspan => "erspan",
            Layer::Nsh => "nsh",
            Layer::Tunnel => "tunnel",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why decoding a layer stopped.
///
/// Offsets count bytes from the start of the frame (the first link-layer byte), so an error
/// can be matched with a hex dump of the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes were available than the header (or a length field) requires; usually a
    /// packet cut by the capture's snapshot length.
    #[error(
        "truncated: {layer} header: needs {required} bytes, {actual} available at offset {offset}"
    )]
    Len {
        /// Layer being decoded.
        layer: Layer,
        /// Bytes required from `offset`.
        required: usize,
        /// Bytes available from `offset`.
        actual: usize,
        /// Offset of the layer's start in the frame.
        offset: usize,
    },
    /// A field holds a value that makes the header impossible to decode.
    #[error("malformed: {layer} {field} = {value} at offset {offset}")]
    Malformed {
        /// Layer being decoded.
        layer: Layer,
        /// Name of the offending field.
        field: &'static str,
        /// The field's value.
        value: u32,
        /// Offset of the layer's start in the frame.
        offset: usize,
    },
    /// A value (link type, ether type, address family, IP version) this crate does not decode.
    #[error("unsupported: {layer} type {value:#x}")]
    Unsupported {
        /// Layer whose type selector was not recognised.
        layer: Layer,
        /// The selector's value.
        value: u32,
    },
}

impl DecodeError {
    /// The layer at which decoding stopped.
    pub fn layer(&self) -> Layer {
        match *self {
            DecodeError::Len { layer, .. }
            | DecodeError::Malformed { layer, .. }
            | DecodeError::Unsupported { layer, .. } => layer,
        }
    }

    /// True when the error means the capture ended before the packet did.
    pub fn is_truncation(&self) -> bool {
        matches!(self, DecodeError::Len { .. })
    }

    /// Shifts the error's offset by `by` bytes, as it passes out to an enclosing layer.
    #[must_use]
    pub fn add_offset(self, by: usize) -> Self {
        match self {
            DecodeError::Len {
                layer,
                required,
                actual,
                offset,
            } => DecodeError::Len {
                layer,
                required,
                actual,
                offset: offset.saturating_add(by),
            },
            DecodeError::Malformed {
                layer,
                field,
                value,
                offset,
            } => DecodeError::Malformed {
                layer,
                field,
                value,
                offset: offset.saturating_add(by),
            },
            other @ DecodeError::Unsupported { .. } => other,
        }
    }
}

/// Returns `data[..n]` or a [`DecodeError::Len`] for `layer` at `offset`.
#[inline]
pub(crate) fn need(
    data: &[u8],
    n: usize,
    layer: Layer,
    offset: usize,
) -> Result<&[u8], DecodeError> {
    data.get(..n).ok_or(DecodeError::Len {
        layer,
        required: n,
        actual: data.len(),
        offset,
    })
}
