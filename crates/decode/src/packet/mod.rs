//! The lax top-level decoder: every layer it could decode, plus why it stopped.

use std::net::IpAddr;

use arrayvec::ArrayVec;
use pcap_capture::LinkType;

use crate::arp::ArpView;
use crate::error::{DecodeError, Layer};
use crate::ethernet::{self, EthernetView, Llc, ethertype};
use crate::icmp::IcmpView;
use crate::ipv4::Ipv4View;
use crate::ipv6::Ipv6View;
use crate::null::{NullHeader, family};
use crate::pppoe::{self, PppoeSession, ppp_proto};
use crate::sll::SllView;
use crate::tcp::TcpView;
use crate::tunnel::{self, MAX_TUNNELS, Next, Tunnel, TunnelKind};
use crate::udp::UdpView;
use crate::vlan::{MAX_VLANS, VlanTag};

mod tunnels;

/// IP protocol numbers dispatched on.
pub mod ip_proto {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// IPv4 in IP.
    pub const IPIP: u8 = 4;
    /// IPv6 in IP.
    pub const IPV6: u8 = 41;
    /// GRE.
    pub const GRE: u8 = 47;
}

/// Fragment information from an IPv4 header or an IPv6 fragment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// Offset of this fragment's data in the original payload, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

/// The link layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Link<'a> {
    /// Ethernet II or 802.3 (then [`Decoded::llc`] is set).
    Ethernet(EthernetView<'a>),
    /// Linux cooked capture, v1 or v2.
    Sll(SllView<'a>),
    /// BSD NULL or OpenBSD LOOP.
    Null(NullHeader),
    /// Raw IP: no link header.
    Raw,
    /// Linux netlink: recognised, not decoded (the payload is the netlink message).
    Netlink,
    /// PPP (with or without HDLC-like framing); the value is the PPP protocol.
    Ppp(u16),
    /// Cisco HDLC; the value is the ether type.
    Chdlc(u16),
    /// Linux NFLOG; the value is the address family.
    Nflog(u8),
    /// IEEE 802.11 (data frames decoded through LLC/SNAP); `radiotap` when a radiotap header
    /// came first.
    Wlan {
        /// A radiotap header preceded the 802.11 header.
        radiotap: bool,
    },
}

/// The network layer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Net<'a> {
    /// ARP.
    Arp(ArpView<'a>),
    /// IPv4.
    Ipv4(Ipv4View<'a>),
    /// IPv6 (extension headers walked).
    Ipv6(Ipv6View<'a>),
}

impl Net<'_> {
    /// IP source address (None for ARP).
    pub fn src_ip(&self) -> Option<IpAddr> {
        match self {
            Net::Ipv4(v) => Some(IpAddr::V4(v.src())),
            Net::Ipv6(v) => Some(IpAddr::V6(v.src())),
            Net::Arp(_) => None,
        }
    }

    /// IP destination address (None for ARP).
    pub fn dst_ip(&self) -> Option<IpAddr> {
        match self {
            Net::Ipv4(v) => Some(IpAddr::V4(v.dst())),
            Net::Ipv6(v) => Some(IpAddr::V6(v.dst())),
            Net::Arp(_) => None,
        }
    }

    /// Upper protocol: IPv4 protocol, or IPv6 next header after the extension headers.
    pub fn protocol(&self) -> Option<u8> {
        match self {
            Net::Ipv4(v) => Some(v.protocol()),
            Net::Ipv6(v) => Some(v.upper_protocol()),
            Net::Arp(_) => None,
        }
    }

    /// Fragment information, when the packet is a fragment.
    pub fn fragment(&self) -> Option<Fragment> {
        match self {
            Net::Ipv4(v) => v.fragment(),
            Net::Ipv6(v) => v.fragment(),
            Net::Arp(_) => None,
        }
    }
}

/// The transport layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport<'a> {
    /// TCP.
    Tcp(TcpView<'a>),
    /// UDP.
    Udp(UdpView<'a>),
    /// ICMP (over IPv4).
    Icmp(IcmpView<'a>),
    /// ICMPv6.
    Icmpv6(IcmpView<'a>),
}

/// Everything [`decode_packet`] could decode from one frame.
///
/// Decoding is lax: each layer is kept as soon as it is decoded, and `stop` says why decoding
/// went no further, so a printer always has something to show for a packet cut short by the
/// snapshot length.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decoded<'a> {
    /// Link-layer header.
    pub link: Option<Link<'a>>,
    /// 802.2 LLC header (802.3 frames only).
    pub llc: Option<Llc>,
    /// VLAN tags, outermost first.
    pub vlans: ArrayVec<VlanTag, MAX_VLANS>,
    /// PPPoE session header, when IP is carried over PPPoE.
    pub pppoe: Option<PppoeSession>,
    /// Tunnel layers crossed, outermost first: `net`, `transport` and `payload` are then those
    /// of the innermost packet. Empty for a packet that is not tunnelled.
    pub tunnels: ArrayVec<Tunnel<'a>, MAX_TUNNELS>,
    /// Network layer.
    pub net: Option<Net<'a>>,
    /// Transport layer (absent for non-first fragments and unknown IP protocols).
    pub transport: Option<Transport<'a>>,
    /// Offset of the transport header (or of the network payload) in the frame.
    pub transport_offset: usize,
    /// The bytes after the last decoded header: TCP/UDP payload as captured (IP padding
    /// removed), IP payload for fragments and unknown protocols, link payload otherwise.
    pub payload: &'a [u8],
    /// A length field claims more bytes than were captured (snaplen), or a header was cut.
    pub truncated: bool,
    /// Why decoding stopped before the payload, if it did.
    pub stop: Option<DecodeError>,
}

impl Default for Decoded<'_> {
    /// Nothing decoded: what [`decode_packet_into`] starts from.
    #[inline]
    fn default() -> Self {
        Decoded {
            link: None,
            llc: None,
            vlans: ArrayVec::new(),
            pppoe: None,
            tunnels: ArrayVec::new(),
            net: None,
            transport: None,
            transport_offset: 0,
            payload: &[],
            truncated: false,
            stop: None,
        }
    }
}

/// Decodes a frame of link type `link`, as far as it goes. Never panics.
///
/// Unknown link types give [`DecodeError::Unsupported`] with [`Layer::Link`].
#[inline]
pub fn decode_packet(link: LinkType, data: &[u8]) -> Decoded<'_> {
    let mut d = Decoded::default();
    decode_packet_into(&mut d, link, data);
    d
}

/// [`decode_packet`] into `d`, whatever it held before: the result is built where the
/// caller keeps it. `Decoded` has room for [`MAX_TUNNELS`] tunnel layers and is some 500
/// bytes, which returning it by value copies for every packet; a loop over packets decodes
/// into a `Decoded` of its own instead (`pcap_analyzer` does).
///
/// ```
/// use pcap_capture::LinkType;
/// use pcap_decode::{Decoded, build, decode_packet_into};
///
/// let frame = build::ipv4_tcp(&build::TcpSpec::default(), b"hi");
/// let mut d = Decoded::default();
/// decode_packet_into(&mut d, LinkType::ETHERNET, &frame);
/// assert_eq!(d.payload, b"hi");
/// ```
#[inline]
pub fn decode_packet_into<'a>(d: &mut Decoded<'a>, link: LinkType, data: &'a [u8]) {
    d.link = None;
    d.llc = None;
    d.vlans.clear();
    d.pppoe = None;
    d.tunnels.clear();
    d.net = None;
    d.transport = None;
    d.transport_offset = 0;
    d.payload = data;
    d.truncated = false;
    d.stop = None;
    if let Err(e) = d.decode_link(link, data) {
        d.truncated |= e.is_truncation();
        d.stop = Some(e);
    }
}

/// Decodes the payload of a reassembled IP datagram of protocol `protocol`, tunnels included:
/// what [`decode_transport`] does, plus the tunnels (GRE, IP-in-IP, UDP tunnels) a fragmented
/// outer datagram carries. The result has no link layer and no outer network layer (the
/// tunnels' outer addresses are unknown); its `net`, `transport` and `payload` are those of
/// the innermost packet when there is a tunnel. Offsets count from the datagram's payload.
pub fn decode_datagram(protocol: u8, data: &[u8]) -> Decoded<'_> {
    let mut d = Decoded {
        payload: data,
        ..Decoded::default()
    };
    if let Err(e) = d.decode_ip_payload(protocol, data, 0, false) {
        d.truncated |= e.is_truncation();
        d.stop = Some(e);
    }
    d
}

/// Decodes a transport header of IP protocol `protocol` from `data`, found at `offset` in the
/// frame; unknown protocols give `None` and the data back.
///
/// This is the entry point for reassembled IP datagrams (the `defrag` hook): decode the
/// reassembled payload with the protocol of its fragments.
pub fn decode_transport(
    protocol: u8,
    data: &[u8],
    offset: usize,
) -> Result<(Option<Transport<'_>>, &[u8]), DecodeError> {
    Ok(match protocol {
        ip_proto::TCP => {
            let (tcp, payload) = TcpView::parse(data, offset)?;
            (Some(Transport::Tcp(tcp)), payload)
        }
        ip_proto::UDP => {
            // Hook for the `dns` module: UDP payloads to or from port 53/5353 are DNS.
            let (udp, payload) = UdpView::parse(data, offset)?;
            (Some(Transport::Udp(udp)), payload)
        }
        ip_proto::ICMP => (
            Some(Transport::Icmp(IcmpView::parse_v4(data, offset)?)),
            data,
        ),
        ip_proto::ICMPV6 => (
            Some(Transport::Icmpv6(IcmpView::parse_v6(data, offset)?)),
            data,
        ),
        _ => (None, data),
    })
}

impl<'a> Decoded<'a> {
    fn decode_link(&mut self, link: LinkType, data: &'a [u8]) -> Result<(), DecodeError> {
        match link {
            LinkType::ETHERNET => {
                let (eth, rest) = EthernetView::parse(data)?;
                self.link = Some(Link::Ethernet(eth));
                self.payload = rest;
                let et = eth.ethertype();
                if et <= ethernet::MAX_8023_LEN {
                    return self.decode_llc(et, rest, ethernet::HEADER_LEN);
                }
                self.decode_ethertype(Layer::Ethernet, et, rest, ethernet::HEADER_LEN)
            }
            LinkType::LINUX_SLL | LinkType::LINUX_SLL2 => {
                let v2 = link == LinkType::LINUX_SLL2;
                let (sll, rest) = if v2 {
                    SllView::parse_v2(data)?
                } else {
                    SllView::parse_v1(data)?
                };
                self.link = Some(Link::Sll(sll));
                self.payload = rest;
                let layer = if v2 { Layer::Sll2 } else { Layer::Sll };
                let off = data.len().saturating_sub(rest.len());
                self.decode_ethertype(layer, sll.protocol(), rest, off)
            }
            LinkType::NULL | LinkType::LOOP => {
                let (h, rest) = if link == LinkType::NULL {
                    NullHeader::parse_null(data)?
                } else {
                    NullHeader::parse_loop(data)?
                };
                self.link = Some(Link::Null(h));
                self.payload = rest;
                let off = crate::null::HEADER_LEN;
                if let Some(et) = h.ethertype() {
                    return self.decode_ethertype(Layer::Null, et, rest, off);
                }
                match h.family {
                    family::INET => self.decode_ipv4(rest, off),
                    family::INET6_BSD | family::INET6_FREEBSD | family::INET6_DARWIN => {
                        self.decode_ipv6(rest, off)
                    }
                    other => Err(DecodeError::Unsupported {
                        layer: Layer::Null,
                        value: other,
                    }),
                }
            }
            LinkType::RAW | LinkType::RAW_OPENBSD | LinkType::RAW_BSD => {
                self.link = Some(Link::Raw);
                match data.first().map(|b| b >> 4) {
                    Some(4) => self.decode_ipv4(data, 0),
                    Some(6) => self.decode_ipv6(data, 0),
                    Some(v) => Err(DecodeError::Unsupported {
                        layer: Layer::Link,
                        value: u32::from(v),
                    }),
                    None => Err(DecodeError::Len {
                        layer: Layer::Link,
                        required: 1,
                        actual: 0,
                        offset: 0,
                    }),
                }
            }
            LinkType::IPV4 => {
                self.link = Some(Link::Raw);
                self.decode_ipv4(data, 0)
            }
            LinkType::IPV6 => {
                self.link = Some(Link::Raw);
                self.decode_ipv6(data, 0)
            }
            LinkType::NETLINK => {
                self.link = Some(Link::Netlink);
                Ok(())
            }
            LinkType::PPP | LinkType::PPP_HDLC => {
                let (proto, len) = tunnel::ppp(data, 0)?;
                self.link = Some(Link::Ppp(proto));
                let rest = data.get(len..).unwrap_or_default();
                self.payload = rest;
                self.decode_ppp_proto(proto, rest, len)
            }
            LinkType::C_HDLC => {
                let et = crate::link::chdlc(data)?;
                self.link = Some(Link::Chdlc(et));
                let rest = data.get(crate::link::CHDLC_LEN..).unwrap_or_default();
                self.payload = rest;
                self.decode_ethertype(Layer::Chdlc, et, rest, crate::link::CHDLC_LEN)
            }
            LinkType::NFLOG => {
                let (family, rest, at) = crate::link::nflog(data)?;
                self.link = Some(Link::Nflog(family));
                self.payload = rest;
                match family {
                    2 => self.decode_ipv4(rest, at),
                    10 => self.decode_ipv6(rest, at),
                    other => Err(DecodeError::Unsupported {
                        layer: Layer::Nflog,
                        value: u32::from(other),
                    }),
                }
            }
            LinkType::IEEE802_11 => {
                self.link = Some(Link::Wlan { radiotap: false });
                self.decode_wlan(data, 0)
            }
            LinkType::IEEE802_11_RADIOTAP => {
                let (len, fcs) = crate::link::radiotap(data)?;
                self.link = Some(Link::Wlan { radiotap: true });
                let mut rest = data.get(len..).unwrap_or_default();
                if fcs {
                    rest = rest.get(..rest.len().saturating_sub(4)).unwrap_or_default();
                }
                self.decode_wlan(rest, len)
            }
            other => Err(DecodeError::Unsupported {
                layer: Layer::Link,
                value: u32::from(other.0),
            }),
        }
    }

    /// An 802.3 frame: `len` is the length field, `data` the LLC header (and maybe SNAP) at
    /// `off`. Only SNAP with an ether type (organisation code 0) is decoded further; other
    /// LLC payloads (STP, CDP...) are recognised and left as the payload.
    fn decode_llc(&mut self, len: u16, data: &'a [u8], off: usize) -> Result<(), DecodeError> {
        let body = data.get(..usize::from(len)).unwrap_or(data);
        let (llc, after) = Llc::parse(body, off)?;
        self.llc = Some(llc);
        self.payload = after;
        match llc.snap {
            Some(([0, 0, 0], proto)) => self.decode_ethertype(
                Layer::Llc,
                proto,
                after,
                off.saturating_add(ethernet::LLC_LEN + ethernet::SNAP_LEN),
            ),
            _ => Ok(()),
        }
    }

    /// Dispatches on an ether type found by `layer`, following VLAN tags.
    fn decode_ethertype(
        &mut self,
        layer: Layer,
        mut et: u16,
        mut data: &'a [u8],
        mut off: usize,
    ) -> Result<(), DecodeError> {
        while matches!(et, ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD) {
            let (tag, rest) = VlanTag::parse(et, data, off)?;
            if self.vlans.try_push(tag).is_err() {
                return Err(DecodeError::Malformed {
                    layer: Layer::Vlan,
                    field: "depth",
                    value: MAX_VLANS.saturating_add(1) as u32,
                    offset: off,
                });
            }
            self.payload = rest;
            et = tag.ethertype;
            data = rest;
            off = off.saturating_add(crate::vlan::TAG_LEN);
        }
        if et <= ethernet::MAX_8023_LEN && !self.vlans.is_empty() && layer != Layer::Llc {
            // A tagged 802.3 frame: the inner type field is a length. (Not after SNAP, so
            // that LLC cannot nest: recursion stays bounded.)
            return self.decode_llc(et, data, off);
        }
        match et {
            ethertype::IPV4 => self.decode_ipv4(data, off),
            ethertype::IPV6 => self.decode_ipv6(data, off),
            _ => self.decode_other_ethertype(layer, et, data, off),
        }
    }

    /// Ether types other than IP: ARP, PPPoE and the encapsulations, kept out of the path
    /// of plain IP.
    #[inline(never)]
    fn decode_other_ethertype(
        &mut self,
        layer: Layer,
        et: u16,
        data: &'a [u8],
        off: usize,
    ) -> Result<(), DecodeError> {
        match et {
            ethertype::ARP => {
                let (arp, rest) = ArpView::parse(data, off)?;
                self.net = Some(Net::Arp(arp));
                self.payload = rest;
                Ok(())
            }
            pppoe::ETHERTYPE_SESSION => {
                let (s, body) = PppoeSession::parse(data, off)?;
                self.pppoe = Some(s);
                self.payload = body;
                let at = off.saturating_add(s.header_len());
                match s.protocol {
                    ppp_proto::IPV4 => self.decode_ipv4(body, at),
                    ppp_proto::IPV6 => self.decode_ipv6(body, at),
                    tunnel::ppp_proto::MPLS | tunnel::ppp_proto::MPLS_MULTICAST => {
                        self.decode_mpls(body, at)
                    }
                    other => Err(DecodeError::Unsupported {
                        layer: Layer::Pppoe,
                        value: u32::from(other),
                    }),
                }
            }
            tunnel::ethertype::MPLS | tunnel::ethertype::MPLS_MULTICAST => {
                self.decode_mpls(data, off)
            }
            tunnel::ethertype::ERSPAN_2 | tunnel::ethertype::ERSPAN_3 => {
                let h = tunnel::erspan(et, data, off)?;
                self.enter(h, data, off)
            }
            tunnel::ethertype::NSH => {
                let h = tunnel::nsh(data, off)?;
                self.enter(h, data, off)
            }
            other => {
                let layer = if self.vlans.is_empty() {
                    layer
                } else {
                    Layer::Vlan
                };
                Err(DecodeError::Unsupported {
                    layer,
                    value: u32::from(other),
                })
            }
        }
    }

    fn decode_ipv4(&mut self, data: &'a [u8], off: usize) -> Result<(), DecodeError> {
        let p = Ipv4View::parse(data, off)?;
        self.truncated |= p.truncated;
        self.net = Some(Net::Ipv4(p.view));
        self.decode_ip_payload(
            p.view.protocol(),
            p.payload,
            off.saturating_add(p.view.header_len()),
            p.view.frag_offset() != 0,
        )
    }

    fn decode_ipv6(&mut self, data: &'a [u8], off: usize) -> Result<(), DecodeError> {
        let p = Ipv6View::parse(data, off)?;
        self.truncated |= p.truncated;
        let upper = p.view.upper_protocol();
        let at = off
            .saturating_add(crate::ipv6::HEADER_LEN)
            .saturating_add(p.view.extensions_len());
        let later_fragment = p.view.fragment().is_some_and(|f| f.offset != 0);
        self.net = Some(Net::Ipv6(p.view));
        if let Some(stop) = p.stop {
            self.payload = &[];
            return Err(stop);
        }
        self.decode_ip_payload(upper, p.payload, at, later_fragment)
    }

    // Inlined into the IPv4 and IPv6 decoders: plain TCP takes the straight path, and every
    // tunnel goes through a function of its own that is kept out of it.
    #[inline(always)]
    fn decode_ip_payload(
        &mut self,
        protocol: u8,
        payload: &'a [u8],
        at: usize,
        later_fragment: bool,
    ) -> Result<(), DecodeError> {
        self.payload = payload;
        self.transport_offset = at;
        if later_fragment {
            // Only the first fragment carries the transport header; the defrag module
            // reassembles and calls decode_transport on the whole datagram.
            return Ok(());
        }
        if matches!(protocol, ip_proto::IPIP | ip_proto::IPV6 | ip_proto::GRE) {
            return self.decode_ip_tunnel(protocol, payload, at);
        }
        let (transport, rest) = decode_transport(protocol, payload, at)?;
        self.transport = transport;
        self.payload = rest;
        match transport {
            Some(Transport::Udp(u)) => self.decode_udp_tunnel(u.src_port(), u.dst_port(), rest, at),
            _ => Ok(()),
        }
    }

    /// An 802.11 frame at `off`: data frames go on through LLC/SNAP.
    fn decode_wlan(&mut self, data: &'a [u8], off: usize) -> Result<(), DecodeError> {
        self.payload = data;
        let Some((len, et)) = crate::link::wlan(data, off)? else {
            return Ok(());
        };
        let rest = data.get(len..).unwrap_or_default();
        self.payload = rest;
        self.decode_ethertype(Layer::Llc, et, rest, off.saturating_add(len))
    }

    /// A hash of the tunnel layers that tell flows apart (0 when there are none): their kinds,
    /// and the ids that are the same in both directions ([`TunnelKind::id_is_symmetric`]).
    /// Two sessions with the same inner addresses and ports in different tunnels get
    /// different values; both directions of one session get the same.
    pub fn tunnel_id(&self) -> u64 {
        if self.tunnels.is_empty() {
            return 0;
        }
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for t in &self.tunnels {
            h = tunnel::fnv(h, t.kind as u64);
            if t.kind.id_is_symmetric() {
                h = tunnel::fnv(h, t.id.map_or(u64::MAX, u64::from));
            }
        }
        // 0 stays reserved for "not tunnelled".
        h.max(1)
    }

    /// A hash of the whole tunnel path (0 when there is none): every layer's kind, id and
    /// outer addresses. Unlike [`Decoded::tunnel_id`] it is not meant to match the reverse
    /// direction, so one-way ids (GRE keys, TEIDs, MPLS labels) count too. It keys IP
    /// fragments: fragments with the same inner addresses and id in two tunnels belong to
    /// two datagrams.
    pub fn tunnel_path(&self) -> u64 {
        if self.tunnels.is_empty() {
            return 0;
        }
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for t in &self.tunnels {
            h = tunnel::fnv(h, t.kind as u64);
            h = tunnel::fnv(h, t.id.map_or(u64::MAX, u64::from));
            for addr in [t.src(), t.dst()] {
                let bits = match addr {
                    Some(IpAddr::V4(a)) => u128::from(a.to_bits()),
                    Some(IpAddr::V6(a)) => a.to_bits(),
                    None => u128::MAX,
                };
                h = tunnel::fnv(h, bits as u64);
                h = tunnel::fnv(h, (bits >> 64) as u64);
            }
        }
        // 0 stays reserved for "not tunnelled".
        h.max(1)
    }

    /// The Ethernet header, if the link is Ethernet.
    pub fn ethernet(&self) -> Option<&EthernetView<'a>> {
        match &self.link {
            Some(Link::Ethernet(e)) => Some(e),
            _ => None,
        }
    }

    /// IP source address.
    pub fn src_ip(&self) -> Option<IpAddr> {
        self.net.as_ref().and_then(Net::src_ip)
    }

    /// IP destination address.
    pub fn dst_ip(&self) -> Option<IpAddr> {
        self.net.as_ref().and_then(Net::dst_ip)
    }

    /// The IPv4 header, if any.
    pub fn ipv4(&self) -> Option<&Ipv4View<'a>> {
        match &self.net {
            Some(Net::Ipv4(v)) => Some(v),
            _ => None,
        }
    }

    /// The IPv6 header, if any.
    pub fn ipv6(&self) -> Option<&Ipv6View<'a>> {
        match &self.net {
            Some(Net::Ipv6(v)) => Some(v),
            _ => None,
        }
    }

    /// The ARP packet, if any.
    pub fn arp(&self) -> Option<&ArpView<'a>> {
        match &self.net {
            Some(Net::Arp(v)) => Some(v),
            _ => None,
        }
    }

    /// The TCP header, if any; its payload is [`Decoded::payload`].
    pub fn tcp(&self) -> Option<&TcpView<'a>> {
        match &self.transport {
            Some(Transport::Tcp(t)) => Some(t),
            _ => None,
        }
    }

    /// The UDP header, if any; its payload is [`Decoded::payload`].
    pub fn udp(&self) -> Option<&UdpView<'a>> {
        match &self.transport {
            Some(Transport::Udp(u)) => Some(u),
            _ => None,
        }
    }

    /// The ICMP or ICMPv6 message, if any.
    pub fn icmp(&self) -> Option<&IcmpView<'a>> {
        match &self.transport {
            Some(Transport::Icmp(i) | Transport::Icmpv6(i)) => Some(i),
            _ => None,
        }
    }

    /// Fragment information, when the IP packet is a fragment.
    pub fn fragment(&self) -> Option<Fragment> {
        self.net.as_ref().and_then(Net::fragment)
    }

    /// The DNS message in a UDP payload to or from a DNS port ([`crate::dns::PORTS`]: DNS,
    /// mDNS, LLMNR), decoded lazily: only the 12-byte header is checked here, records are
    /// read when iterated. `None` for anything else; `Some(Err)` for a payload too short.
    pub fn dns(&self) -> Option<Result<crate::dns::DnsMessage<'a>, crate::dns::DnsError>> {
        let Some(Transport::Udp(u)) = &self.transport else {
            return None;
        };
        let ports = crate::dns::PORTS;
        if !ports.contains(&u.src_port()) && !ports.contains(&u.dst_port()) {
            return None;
        }
        Some(crate::dns::DnsMessage::parse(self.payload))
    }

    /// Length of the TCP or UDP payload as the IP header declares it (tshark's `tcp.len`).
    ///
    /// It exceeds `payload.len()` when the snapshot length cut the packet short; a
    /// reassembler uses it to count the missing tail as lost bytes. `None` without a TCP or
    /// UDP layer, or when the declared lengths do not add up.
    pub fn declared_payload_len(&self) -> Option<usize> {
        let header_len = match self.transport.as_ref()? {
            Transport::Tcp(t) => t.header_len(),
            Transport::Udp(_) => crate::udp::HEADER_LEN,
            _ => return None,
        };
        match self.declared_ip_payload_len()? {
            Some(n) => n.checked_sub(header_len),
            // Jumbograms and TSO packets declare no length: the captured bytes are all there is.
            None => Some(self.payload.len()),
        }
    }

    /// Length of the IP payload (after the IPv4 header or the IPv6 extension headers) as the
    /// IP header declares it: `Some(None)` when the header declares no length (0), `None`
    /// without an IP layer or when the lengths do not add up.
    pub fn declared_ip_payload_len(&self) -> Option<Option<usize>> {
        match self.net.as_ref()? {
            Net::Ipv4(v) if v.total_len() != 0 => usize::from(v.total_len())
                .checked_sub(v.header_len())
                .map(Some),
            Net::Ipv6(v) if v.payload_len() != 0 => usize::from(v.payload_len())
                .checked_sub(v.extensions_len())
                .map(Some),
            Net::Ipv4(_) | Net::Ipv6(_) => Some(None),
            Net::Arp(_) => None,
        }
    }

    /// The IP payload of `frame` (the frame this was decoded from): the bytes after the IPv4
    /// header or IPv6 extension headers, Ethernet padding removed, cut short by the snapshot
    /// length. What a fragment contributes to its datagram.
    pub fn ip_payload<'f>(&self, frame: &'f [u8]) -> &'f [u8] {
        let rest = frame.get(self.transport_offset..).unwrap_or_default();
        match self.declared_ip_payload_len() {
            Some(Some(n)) => rest.get(..n).unwrap_or(rest),
            _ => rest,
        }
    }
}
