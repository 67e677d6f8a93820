//! Packet builders for tests: Ethernet + IPv4/IPv6 + TCP/UDP frames with correct lengths and
//! checksums, from plain field values.
//!
//! These allocate (one `Vec` per frame) and are meant for tests and fixtures in this and
//! other crates (reassembly, HTTP), not for the decoding path.

// Indexes only buffers this module has just built at fixed sizes; never input.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use crate::bytes::{checksum, checksum_sum};
use crate::ethernet::ethertype;
use crate::packet::ip_proto;
use crate::tcp::{TcpOption, kind};

/// Ethernet addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthSpec {
    /// Source MAC.
    pub src: [u8; 6],
    /// Destination MAC.
    pub dst: [u8; 6],
}

impl Default for EthSpec {
    fn default() -> Self {
        EthSpec {
            src: [0x02, 0, 0, 0, 0, 1],
            dst: [0x02, 0, 0, 0, 0, 2],
        }
    }
}

/// IPv4 header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Spec {
    /// Source address.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub id: u16,
    /// Don't-fragment flag.
    pub dont_frag: bool,
}

impl Default for Ipv4Spec {
    fn default() -> Self {
        Ipv4Spec {
            src: [10, 0, 0, 1],
            dst: [10, 0, 0, 2],
            ttl: 64,
            id: 1,
            dont_frag: true,
        }
    }
}

/// IPv6 header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Spec {
    /// Source address.
    pub src: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
    /// Hop limit.
    pub hop_limit: u8,
}

impl Default for Ipv6Spec {
    fn default() -> Self {
        let mut src = [0u8; 16];
        let mut dst = [0u8; 16];
        src[..2].copy_from_slice(&[0x20, 0x01]);
        dst[..2].copy_from_slice(&[0x20, 0x01]);
        src[15] = 1;
        dst[15] = 2;
        Ipv6Spec {
            src,
            dst,
            hop_limit: 64,
        }
    }
}

/// The IP layer of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpSpec {
    /// IPv4.
    V4(Ipv4Spec),
    /// IPv6 (no extension headers).
    V6(Ipv6Spec),
}

impl Default for IpSpec {
    fn default() -> Self {
        IpSpec::V4(Ipv4Spec::default())
    }
}

/// Link and IP layers of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameSpec {
    /// Ethernet addresses.
    pub eth: EthSpec,
    /// IP header.
    pub ip: IpSpec,
}

/// TCP header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSpec {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags ([`crate::tcp::TcpFlags`] bits).
    pub flags: u16,
    /// Window.
    pub window: u16,
    /// Raw option bytes (padded with EOL to a multiple of 4; at most 40 bytes are used).
    pub options: Vec<u8>,
}

impl Default for TcpSpec {
    fn default() -> Self {
        TcpSpec {
            src_port: 40000,
            dst_port: 80,
            seq: 1,
            ack: 0,
            flags: crate::tcp::TcpFlags::ACK.0,
            window: 65535,
            options: Vec::new(),
        }
    }
}

/// UDP header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UdpSpec {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

/// Appends the wire form of a TCP option.
pub fn emit_tcp_option(out: &mut Vec<u8>, opt: &TcpOption<'_>) {
    match *opt {
        TcpOption::Eol => out.push(kind::EOL),
        TcpOption::Nop => out.push(kind::NOP),
        TcpOption::Mss(v) => {
            out.extend_from_slice(&[kind::MSS, 4]);
            out.extend_from_slice(&v.to_be_bytes());
        }
        TcpOption::WindowScale(v) => out.extend_from_slice(&[kind::WSCALE, 3, v]),
        TcpOption::SackPermitted => out.extend_from_slice(&[kind::SACK_PERMITTED, 2]),
        TcpOption::Sack(blocks) => {
            out.extend_from_slice(&[kind::SACK, (2 + 8 * blocks.len()) as u8]);
            for (l, r) in blocks.iter() {
                out.extend_from_slice(&l.to_be_bytes());
                out.extend_from_slice(&r.to_be_bytes());
            }
        }
        TcpOption::Timestamp { val, ecr } => {
            out.extend_from_slice(&[kind::TIMESTAMP, 10]);
            out.extend_from_slice(&val.to_be_bytes());
            out.extend_from_slice(&ecr.to_be_bytes());
        }
        TcpOption::Unknown { kind, data } => {
            out.extend_from_slice(&[kind, (data.len() + 2) as u8]);
            out.extend_from_slice(data);
        }
    }
}

/// Pseudo-header partial sum for the transport checksum.
fn pseudo_sum(ip: &IpSpec, protocol: u8, len: usize) -> u32 {
    let mut p = Vec::with_capacity(40);
    match ip {
        IpSpec::V4(v) => {
            p.extend_from_slice(&v.src);
            p.extend_from_slice(&v.dst);
            p.extend_from_slice(&[0, protocol]);
            p.extend_from_slice(&(len as u16).to_be_bytes());
        }
        IpSpec::V6(v) => {
            p.extend_from_slice(&v.src);
            p.extend_from_slice(&v.dst);
            p.extend_from_slice(&(len as u32).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, protocol]);
        }
    }
    checksum_sum(0, &p)
}

/// A TCP segment (header, options, payload) with its checksum for `ip`.
pub fn tcp_segment(ip: &IpSpec, tcp: &TcpSpec, payload: &[u8]) -> Vec<u8> {
    let mut opts = tcp.options.clone();
    opts.truncate(40);
    while opts.len() % 4 != 0 {
        opts.push(kind::EOL);
    }
    let hlen = 20 + opts.len();
    let mut s = Vec::with_capacity(hlen + payload.len());
    s.extend_from_slice(&tcp.src_port.to_be_bytes());
    s.extend_from_slice(&tcp.dst_port.to_be_bytes());
    s.extend_from_slice(&tcp.seq.to_be_bytes());
    s.extend_from_slice(&tcp.ack.to_be_bytes());
    let word = ((hlen as u16 / 4) << 12) | (tcp.flags & 0x0fff);
    s.extend_from_slice(&word.to_be_bytes());
    s.extend_from_slice(&tcp.window.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]);
    s.extend_from_slice(&opts);
    s.extend_from_slice(payload);
    let c = checksum(pseudo_sum(ip, ip_proto::TCP, s.len()), &s);
    s[16..18].copy_from_slice(&c.to_be_bytes());
    s
}

/// A UDP datagram with its checksum for `ip`.
pub fn udp_datagram(ip: &IpSpec, udp: &UdpSpec, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut s = Vec::with_capacity(len);
    s.extend_from_slice(&udp.src_port.to_be_bytes());
    s.extend_from_slice(&udp.dst_port.to_be_bytes());
    s.extend_from_slice(&(len as u16).to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(payload);
    let c = match checksum(pseudo_sum(ip, ip_proto::UDP, len), &s) {
        0 => 0xffff,
        c => c,
    };
    s[6..8].copy_from_slice(&c.to_be_bytes());
    s
}

/// An IP packet (no options or extension headers) around `payload`, with the IPv4 header checksum.
pub fn ip_packet(ip: &IpSpec, protocol: u8, payload: &[u8]) -> Vec<u8> {
    match ip {
        IpSpec::V4(v) => {
            let total = 20 + payload.len();
            let mut p = Vec::with_capacity(total);
            p.extend_from_slice(&[0x45, 0]);
            p.extend_from_slice(&(total as u16).to_be_bytes());
            p.extend_from_slice(&v.id.to_be_bytes());
            p.extend_from_slice(&(if v.dont_frag { 0x4000u16 } else { 0 }).to_be_bytes());
            p.extend_from_slice(&[v.ttl, protocol, 0, 0]);
            p.extend_from_slice(&v.src);
            p.extend_from_slice(&v.dst);
            let c = checksum(0, &p);
            p[10..12].copy_from_slice(&c.to_be_bytes());
            p.extend_from_slice(payload);
            p
        }
        IpSpec::V6(v) => {
            let mut p = Vec::with_capacity(40 + payload.len());
            p.extend_from_slice(&[0x60, 0, 0, 0]);
            p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
            p.extend_from_slice(&[protocol, v.hop_limit]);
            p.extend_from_slice(&v.src);
            p.extend_from_slice(&v.dst);
            p.extend_from_slice(payload);
            p
        }
    }
}

/// An Ethernet II frame.
pub fn ethernet_frame(eth: &EthSpec, ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&eth.dst);
    f.extend_from_slice(&eth.src);
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ip_ethertype(ip: &IpSpec) -> u16 {
    match ip {
        IpSpec::V4(_) => ethertype::IPV4,
        IpSpec::V6(_) => ethertype::IPV6,
    }
}

/// An Ethernet + IP + TCP frame with correct lengths and checksums.
pub fn tcp_frame(frame: &FrameSpec, tcp: &TcpSpec, payload: &[u8]) -> Vec<u8> {
    let seg = tcp_segment(&frame.ip, tcp, payload);
    let ip = ip_packet(&frame.ip, ip_proto::TCP, &seg);
    ethernet_frame(&frame.eth, ip_ethertype(&frame.ip), &ip)
}

/// An Ethernet + IP + UDP frame with correct lengths and checksums.
pub fn udp_frame(frame: &FrameSpec, udp: &UdpSpec, payload: &[u8]) -> Vec<u8> {
    let dgram = udp_datagram(&frame.ip, udp, payload);
    let ip = ip_packet(&frame.ip, ip_proto::UDP, &dgram);
    ethernet_frame(&frame.eth, ip_ethertype(&frame.ip), &ip)
}

/// Shorthand: an Ethernet + IPv4 + TCP frame with default addresses.
pub fn ipv4_tcp(tcp: &TcpSpec, payload: &[u8]) -> Vec<u8> {
    tcp_frame(&FrameSpec::default(), tcp, payload)
}

/// A DNS message builder for tests: header, then questions and records in order, names
/// written as labels and, when `compress` is set, compressed against every suffix written
/// before (RFC 1035 4.1.4).
#[derive(Debug, Default)]
pub struct DnsBuilder {
    /// The message so far.
    pub buf: Vec<u8>,
    suffixes: std::collections::HashMap<Vec<Vec<u8>>, usize>,
    /// Compress names against earlier suffixes.
    pub compress: bool,
}

impl DnsBuilder {
    /// A message with this header: ID, flags word and the four section counts.
    pub fn new(id: u16, flags: u16, counts: [u16; 4], compress: bool) -> Self {
        let mut b = DnsBuilder {
            compress,
            ..Default::default()
        };
        b.u16(id);
        b.u16(flags);
        for c in counts {
            b.u16(c);
        }
        b
    }

    /// Appends a big-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a name given as labels (root excluded), compressed if asked.
    pub fn name(&mut self, labels: &[Vec<u8>]) {
        for i in 0..labels.len() {
            let suffix = labels[i..].to_vec();
            if self.compress {
                if let Some(&at) = self.suffixes.get(&suffix) {
                    self.u16(0xc000 | at as u16);
                    return;
                }
            }
            if self.buf.len() < 0x3fff {
                self.suffixes.insert(suffix, self.buf.len());
            }
            self.buf.push(labels[i].len() as u8);
            self.buf.extend_from_slice(&labels[i]);
        }
        self.buf.push(0);
    }

    /// Appends a question.
    pub fn question(&mut self, labels: &[Vec<u8>], qtype: u16, qclass: u16) {
        self.name(labels);
        self.u16(qtype);
        self.u16(qclass);
    }

    /// Appends a record; `rdata` appends the data (and may write names), and its length is
    /// filled in afterwards.
    pub fn record(
        &mut self,
        labels: &[Vec<u8>],
        rtype: u16,
        class: u16,
        ttl: u32,
        rdata: impl FnOnce(&mut DnsBuilder),
    ) {
        self.name(labels);
        self.u16(rtype);
        self.u16(class);
        self.u32(ttl);
        let len_at = self.buf.len();
        self.u16(0);
        rdata(self);
        let len = (self.buf.len() - len_at - 2) as u16;
        self.buf[len_at..len_at + 2].copy_from_slice(&len.to_be_bytes());
    }
}

/// A name's labels from its dotted form (`"www.example.com"`; `""` is the root), for
/// [`DnsBuilder`].
pub fn dns_labels(dotted: &str) -> Vec<Vec<u8>> {
    dotted
        .split('.')
        .filter(|l| !l.is_empty())
        .map(|l| l.as_bytes().to_vec())
        .collect()
}

/// A DNS response (ID `0xbeef`, question `A example.com`) with one record of every type
/// [`crate::dns::Rdata`] decodes, names compressed: CNAME, A, AAAA, MX, TXT, SRV, PTR, NS
/// and an unknown type 99 as answers, SOA in the authority section and an EDNS OPT record
/// (one COOKIE option) as additional.
pub fn dns_every_type_response() -> Vec<u8> {
    use crate::dns::rtype;
    let mut b = DnsBuilder::new(0xbeef, 0x8580, [1, 9, 1, 1], true);
    let ex = dns_labels("example.com");
    b.question(&ex, rtype::A, 1);
    b.record(&ex, rtype::CNAME, 1, 300, |b| {
        b.name(&dns_labels("www.example.com"))
    });
    b.record(&dns_labels("www.example.com"), rtype::A, 1, 60, |b| {
        b.buf.extend_from_slice(&[93, 184, 216, 34])
    });
    b.record(&ex, rtype::AAAA, 1, 60, |b| {
        let mut a = [0u8; 16];
        a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        a[15] = 1;
        b.buf.extend_from_slice(&a)
    });
    b.record(&ex, rtype::MX, 1, 60, |b| {
        b.u16(10);
        b.name(&dns_labels("mail.example.com"));
    });
    b.record(&ex, rtype::TXT, 1, 60, |b| {
        b.buf.extend_from_slice(b"\x05hello\x00\x03a\"b");
    });
    b.record(
        &dns_labels("_sip._tcp.example.com"),
        rtype::SRV,
        1,
        60,
        |b| {
            b.u16(1);
            b.u16(2);
            b.u16(5060);
            b.name(&dns_labels("sip.example.com"));
        },
    );
    b.record(
        &dns_labels("34.216.184.93.in-addr.arpa"),
        rtype::PTR,
        1,
        60,
        |b| b.name(&ex),
    );
    b.record(&ex, rtype::NS, 1, 60, |b| {
        b.name(&dns_labels("ns1.example.com"))
    });
    b.record(&ex, 99, 1, 60, |b| b.buf.extend_from_slice(&[0xde, 0xad]));
    b.record(&ex, rtype::SOA, 1, 60, |b| {
        b.name(&dns_labels("ns1.example.com"));
        b.name(&dns_labels("hostmaster.example.com"));
        for v in [2024, 7200, 3600, 1209600, 300] {
            b.u32(v);
        }
    });
    b.record(&[], rtype::OPT, 1232, 0x0000_8000, |b| {
        b.u16(10); // COOKIE
        b.u16(8);
        b.buf.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    });
    b.buf
}
