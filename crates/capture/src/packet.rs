//! The packet type shared by every source, and link-layer types.

use std::fmt;

/// A link-layer header type (tcpdump.org `LINKTYPE_*` value) as found in pcap and pcapng files.
///
/// A newtype rather than an enum: files carry any 16-bit value (pcapng's interface block
/// stores 16 bits), and a reader must pass unknown ones through rather than fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the capturing host's byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II / IEEE 802.3.
    pub const ETHERNET: LinkType = LinkType(1);
    /// PPP, with or without the HDLC-like `ff 03` address and control bytes.
    pub const PPP: LinkType = LinkType(9);
    /// Raw IP under BSD's `DLT_RAW` number (IPv4 or IPv6 by the version nibble).
    pub const RAW_BSD: LinkType = LinkType(12);
    /// PPP in HDLC-like framing (RFC 1662).
    pub const PPP_HDLC: LinkType = LinkType(50);
    /// Cisco HDLC.
    pub const C_HDLC: LinkType = LinkType(104);
    /// IEEE 802.11 frames, no radio header.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// IEEE 802.11 frames after a radiotap header.
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    /// Linux NFLOG (netfilter log messages as TLVs).
    pub const NFLOG: LinkType = LinkType(239);
    /// Raw IP (IPv4 or IPv6 told apart by the version nibble), as written by OpenBSD.
    pub const RAW_OPENBSD: LinkType = LinkType(14);
    /// Raw IP (IPv4 or IPv6 told apart by the version nibble).
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture, version 1 (SLL).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux netlink.
    pub const NETLINK: LinkType = LinkType(253);
    /// Linux "cooked" capture, version 2 (SLL2).
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// The short name tcpdump and capinfos use for this link type, if we know it.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            LinkType::NULL => "NULL",
            LinkType::ETHERNET => "EN10MB",
            LinkType::RAW | LinkType::RAW_OPENBSD | LinkType::RAW_BSD => "RAW",
            LinkType::PPP => "PPP",
            LinkType::PPP_HDLC => "PPP_SERIAL",
            LinkType::C_HDLC => "C_HDLC",
            LinkType::IEEE802_11 => "IEEE802_11",
            LinkType::IEEE802_11_RADIOTAP => "IEEE802_11_RADIO",
            LinkType::NFLOG => "NFLOG",
            LinkType::LOOP => "LOOP",
            LinkType::LINUX_SLL => "LINUX_SLL",
            LinkType::IPV4 => "IPV4",
            LinkType::IPV6 => "IPV6",
            LinkType::NETLINK => "NETLINK",
            LinkType::LINUX_SLL2 => "LINUX_SLL2",
            _ => return None,
        })
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "LINKTYPE_{}", self.0),
        }
    }
}

/// One captured packet, from a file or a live device.
///
/// `data` borrows the source's buffer: it is valid until the source is asked for the next
/// packet, so a consumer that needs the bytes longer copies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Capture time in nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// Bytes captured (`data.len()`), at most the snapshot length.
    pub caplen: u32,
    /// Length of the packet on the wire, which can exceed `caplen`.
    pub orig_len: u32,
    /// Link-layer type of `data`.
    pub link_type: LinkType,
    /// Interface index (pcapng interface id; 0 for classic pcap and live captures).
    pub interface: u32,
    /// Bytes of frame check sequence at the end of `data`, as the file declares it (the FCS
    /// bits of a pcap header's link-type field, pcapng's `if_fcslen`); 0 when it declares
    /// none. Ethernet frames captured with their FCS carry 4.
    pub fcs_len: u8,
    /// The captured bytes, starting at the link-layer header.
    pub data: &'a [u8],
}
