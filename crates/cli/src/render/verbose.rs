//! What `capture -v` adds to a line, as `tcpdump -v` does: the IP header's fields (TTL, id,
//! fragment offset, flags, options) and the status of each checksum.
//!
//! ```text
//! (tos 0x0, ttl 64, id 4660, offset 0, flags [DF], proto TCP (6), length 60, cksum 0x1c46 (correct))
//! ... TCP [S.] seq 0 ack 0 win 8192 options [mss 1460,sackOK,TS val 10 ecr 20,nop,wscale 7] cksum 0xb1e6 (correct) len 0
//! ```
//! A checksum is `correct`, `incorrect -> 0xNNNN` (what it should be), or `unverified` with
//! the reason: the segment was cut by the snapshot length, or the field holds only the
//! pseudo-header sum, which is what a sender with checksum offload hands to its NIC (so
//! captures taken on that sender are not flagged as broken).

use std::fmt::{self, Write};
use std::net::IpAddr;

use pcap_decode::tcp::{TcpOption, TcpView};
use pcap_decode::udp::UdpView;
use pcap_decode::{Net, ip_proto};

/// IPv4 option kinds tcpdump names (RFC 791, RFC 2113).
mod ipopt {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const RR: u8 = 7;
    pub const TS: u8 = 68;
    pub const SECURITY: u8 = 130;
    pub const LSRR: u8 = 131;
    pub const SSRR: u8 = 137;
    pub const RA: u8 = 148;
}

/// The IP flags and fragment offset, options, TTL and checksum:
/// `(tos 0x0, ttl 64, id 4660, offset 0, flags [DF], proto TCP (6), length 60, cksum 0x1c46 (correct))`
/// for IPv4, `(class 0x00, flowlabel 0x00000, hlim 64, next-header TCP (6), payload length 20)`
/// for IPv6.
pub fn write_ip<W: Write>(w: &mut W, net: &Net<'_>) -> fmt::Result {
    match net {
        Net::Ipv4(v) => {
            write!(
                w,
                "(tos {:#x}, ttl {}, id {}, offset {}, flags [{}], proto {} ({}), length {}",
                v.tos(),
                v.ttl(),
                v.id(),
                v.frag_offset(),
                Ipv4Flags(v.reserved_flag(), v.dont_frag(), v.more_frags()),
                proto_name(v.protocol()),
                v.protocol(),
                v.total_len()
            )?;
            if !v.options().is_empty() {
                w.write_str(", options (")?;
                write_ipv4_options(w, v.options())?;
                w.write_char(')')?;
            }
            let stored = v.checksum();
            if v.checksum_valid() {
                write!(w, ", cksum {stored:#06x} (correct))")
            } else {
                // The sum with the field taken as zero is what the field should hold.
                let mut sum = Sum::default();
                sum.add(v.header());
                sum.add_word(!stored);
                write!(
                    w,
                    ", cksum {stored:#06x} (incorrect -> {:#06x}))",
                    sum.finish()
                )
            }
        }
        Net::Ipv6(v) => write!(
            w,
            "(class {:#04x}, flowlabel {:#07x}, hlim {}, next-header {} ({}), payload length {})",
            v.traffic_class(),
            v.flow_label(),
            v.hop_limit(),
            proto_name(v.upper_protocol()),
            v.upper_protocol(),
            v.payload_len()
        ),
        // ARP has none of these.
        _ => Ok(()),
    }
}

/// tcpdump's name of an IP protocol.
fn proto_name(p: u8) -> &'static str {
    match p {
        ip_proto::ICMP => "ICMP",
        super::icmp::IGMP => "IGMP",
        ip_proto::IPIP => "IPIP",
        ip_proto::TCP => "TCP",
        ip_proto::UDP => "UDP",
        ip_proto::IPV6 => "IPv6",
        ip_proto::GRE => "GRE",
        ip_proto::ICMPV6 => "ICMPv6",
        _ => "unknown",
    }
}

/// The IPv4 flags as tcpdump lists them: `DF`, `+` (more fragments), `rsvd`, or `none`.
struct Ipv4Flags(bool, bool, bool);

impl fmt::Display for Ipv4Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Ipv4Flags(rsvd, df, mf) = *self;
        let names = [(rsvd, "rsvd"), (df, "DF"), (mf, "+")];
        let mut any = false;
        for (_, name) in names.iter().filter(|(on, _)| *on) {
            if any {
                f.write_char(' ')?;
            }
            f.write_str(name)?;
            any = true;
        }
        if !any {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// IPv4 options by name, comma-separated; a length that runs past the header ends the list
/// with `[bad length N]`.
fn write_ipv4_options<W: Write>(w: &mut W, mut rest: &[u8]) -> fmt::Result {
    let mut first = true;
    while let Some(&kind) = rest.first() {
        if !first {
            w.write_char(',')?;
        }
        first = false;
        let name = match kind {
            ipopt::EOL => "EOL",
            ipopt::NOP => "NOP",
            ipopt::RR => "RR",
            ipopt::TS => "TS",
            ipopt::SECURITY => "SECURITY",
            ipopt::LSRR => "LSRR",
            ipopt::SSRR => "SSRR",
            ipopt::RA => "RA",
            _ => "",
        };
        match name {
            "" => write!(w, "unknown {kind}")?,
            n => w.write_str(n)?,
        }
        if kind == ipopt::EOL {
            return Ok(());
        }
        if kind == ipopt::NOP {
            rest = rest.get(1..).unwrap_or_default();
            continue;
        }
        let len = rest.get(1).copied().map_or(0, usize::from);
        match rest.get(len..) {
            Some(after) if len >= 2 => rest = after,
            _ => return write!(w, " [bad length {len}]"),
        }
    }
    Ok(())
}

/// TCP options as tcpdump writes them (`options [mss 1460,sackOK,TS val 10 ecr 20,nop,wscale 7]`),
/// before the checksum's status.
pub fn write_tcp<W: Write>(
    w: &mut W,
    net: &Net<'_>,
    t: &TcpView<'_>,
    payload: &[u8],
    wire_payload: usize,
) -> fmt::Result {
    if !t.option_bytes().is_empty() {
        w.write_str(" options [")?;
        for (k, opt) in t.options(0).enumerate() {
            if k > 0 {
                w.write_char(',')?;
            }
            match opt {
                Ok(TcpOption::Eol) => w.write_str("eol")?,
                Ok(TcpOption::Nop) => w.write_str("nop")?,
                Ok(TcpOption::Mss(m)) => write!(w, "mss {m}")?,
                Ok(TcpOption::WindowScale(s)) => write!(w, "wscale {s}")?,
                Ok(TcpOption::SackPermitted) => w.write_str("sackOK")?,
                Ok(TcpOption::Sack(blocks)) => {
                    write!(w, "sack {}", blocks.len())?;
                    for (left, right) in blocks.iter() {
                        write!(w, " {{{left}:{right}}}")?;
                    }
                }
                Ok(TcpOption::Timestamp { val, ecr }) => write!(w, "TS val {val} ecr {ecr}")?,
                Ok(TcpOption::Unknown { kind, data }) => {
                    write!(w, "unknown-{kind} len {}", data.len())?;
                }
                // A kind this crate does not name yet.
                Ok(_) => w.write_str("unknown")?,
                Err(_) => {
                    w.write_str("[bad opt]")?;
                    break;
                }
            }
        }
        w.write_char(']')?;
    }
    let status = transport_checksum(net, ip_proto::TCP, &[t.header()], payload, wire_payload);
    write!(w, " cksum {:#06x} ({status})", t.checksum())
}

/// The UDP checksum's status (`cksum 0x1234 (correct)`, or `no cksum` over IPv4).
pub fn write_udp<W: Write>(
    w: &mut W,
    net: &Net<'_>,
    u: &UdpView<'_>,
    payload: &[u8],
    wire_payload: usize,
) -> fmt::Result {
    if u.checksum() == 0 && matches!(net, Net::Ipv4(_)) {
        return w.write_str(" no cksum");
    }
    let header = [
        u.src_port().to_be_bytes(),
        u.dst_port().to_be_bytes(),
        u.length().to_be_bytes(),
        u.checksum().to_be_bytes(),
    ];
    let header = header.as_flattened();
    let status = transport_checksum(net, ip_proto::UDP, &[header], payload, wire_payload);
    write!(w, " cksum {:#06x} ({status})", u.checksum())
}

/// What a transport checksum check found.
enum Status {
    Correct,
    /// What the field should hold.
    Incorrect(u16),
    /// Not all of the segment was captured.
    Cut,
    /// The field holds the pseudo-header sum alone: checksum offload on the sender.
    Offloaded,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Correct => f.write_str("correct"),
            Status::Incorrect(want) => write!(f, "incorrect -> {want:#06x}"),
            Status::Cut => f.write_str("unverified, cut"),
            Status::Offloaded => f.write_str("unverified, offloaded"),
        }
    }
}

/// Checks a TCP or UDP checksum: `headers` then `payload` are the segment, whose length on
/// the wire is the headers' plus `wire_payload`.
fn transport_checksum(
    net: &Net<'_>,
    proto: u8,
    headers: &[&[u8]],
    payload: &[u8],
    wire_payload: usize,
) -> Status {
    if wire_payload > payload.len() {
        return Status::Cut;
    }
    let header_len: usize = headers.iter().map(|h| h.len()).sum();
    let len = header_len.saturating_add(payload.len());
    let (Some(src), Some(dst)) = (net.src_ip(), net.dst_ip()) else {
        return Status::Cut;
    };
    let mut pseudo = Sum::default();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            pseudo.add(&s.octets());
            pseudo.add(&d.octets());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            pseudo.add(&s.octets());
            pseudo.add(&d.octets());
        }
        _ => return Status::Cut,
    }
    // The length goes in as 32 bits (IPv6) or 16 (IPv4); the one's complement sum is the same.
    pseudo.add(&(len as u32).to_be_bytes());
    pseudo.add_word(u16::from(proto));
    let mut sum = pseudo;
    for h in headers {
        sum.add(h);
    }
    sum.add(payload);
    if sum.finish() == 0 {
        return Status::Correct;
    }
    // Offload: the field holds the folded pseudo-header sum, not yet complemented.
    let stored = checksum_field(headers, proto);
    if stored == Some(!pseudo.finish()) {
        return Status::Offloaded;
    }
    let mut zeroed = sum;
    zeroed.add_word(!stored.unwrap_or(0));
    Status::Incorrect(zeroed.finish())
}

/// The checksum field of the transport header (the first of `headers`).
fn checksum_field(headers: &[&[u8]], proto: u8) -> Option<u16> {
    let at = if proto == ip_proto::TCP { 16 } else { 6 };
    let h = headers.first()?;
    Some(u16::from_be_bytes([*h.get(at)?, *h.get(at + 1)?]))
}

/// A running Internet checksum (RFC 1071) over 16-bit big-endian words. Every part added
/// but the last must have an even length, which holds for the headers and the pseudo-header.
#[derive(Debug, Default, Clone, Copy)]
struct Sum(u64);

impl Sum {
    fn add(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(2);
        for w in &mut words {
            if let [hi, lo] = *w {
                self.0 += u64::from(u16::from_be_bytes([hi, lo]));
            }
        }
        if let [last] = words.remainder() {
            self.0 += u64::from(u16::from_be_bytes([*last, 0]));
        }
    }

    fn add_word(&mut self, word: u16) {
        self.0 += u64::from(word);
    }

    /// The one's complement of the folded sum: 0 when the data, checksum included, is right.
    fn finish(self) -> u16 {
        let mut s = self.0;
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }
}
