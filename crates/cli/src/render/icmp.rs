//! ICMP, ICMPv6 and IGMP in tcpdump's words (print-icmp.c, print-icmp6.c, print-igmp.c of
//! tcpdump 4.99), so that a line reads as tcpdump users expect:
//!
//! ```text
//! ICMP echo request, id 7, seq 1, length 16
//! ICMP 192.0.2.54 udp port 53 unreachable, length 36
//! ICMP6, neighbor solicitation, who has fe80::9, length 32
//! igmp v2 report 239.1.1.1
//! ```
//! The message's own bytes come from the packet's payload (for ICMP, `Decoded::payload` is
//! the whole message); a field that was not captured is left out, never guessed.

use std::fmt::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr};

use pcap_decode::icmp::{IcmpView, Quoted, icmpv4, icmpv6};
use pcap_decode::{Decoded, Net, ip_proto};

/// ICMPv4 types tcpdump names that `pcap_decode::icmp::icmpv4` has no constant for.
mod v4 {
    pub const SOURCE_QUENCH: u8 = 4;
    pub const REDIRECT: u8 = 5;
    pub const ROUTER_ADVERT: u8 = 9;
    pub const ROUTER_SOLICIT: u8 = 10;
    pub const PARAM_PROBLEM: u8 = 12;
    pub const TIMESTAMP: u8 = 13;
    pub const TIMESTAMP_REPLY: u8 = 14;
    pub const INFO_REQUEST: u8 = 15;
    pub const INFO_REPLY: u8 = 16;
    pub const MASK_REQUEST: u8 = 17;
    pub const MASK_REPLY: u8 = 18;
}

/// ICMPv6 types tcpdump names that `pcap_decode::icmp::icmpv6` has no constant for.
mod v6 {
    pub const PARAM_PROBLEM: u8 = 4;
    pub const MLD_QUERY: u8 = 130;
    pub const MLD_REPORT: u8 = 131;
    pub const MLD_DONE: u8 = 132;
    pub const MLD2_REPORT: u8 = 143;
}

/// Where the fields after type, code and checksum sit in the messages that use them.
mod field {
    /// Gateway of a redirect, MTU of "need to frag", pointer of a parameter problem,
    /// address count of a router advertisement, mask of a mask reply.
    pub const REST: usize = 4;
    /// Next-hop MTU of "need to frag" (RFC 1191).
    pub const NEXT_MTU: usize = 6;
    /// Router advertisement: address entry size (in 32-bit words) and lifetime.
    pub const ADDR_SIZE: usize = 5;
    pub const LIFETIME: usize = 6;
    /// Router advertisement: first (address, preference) entry.
    pub const ROUTERS: usize = 8;
    /// MLDv2 and IGMPv3 reports: record count.
    pub const MLD2_RECORDS: usize = 6;
    /// Timestamp reply: originate, receive and transmit times (ms since midnight UT).
    pub const TIMESTAMPS: usize = 8;
    /// MLD: the multicast address; MLDv2 query: the number of sources after it.
    pub const MLD_GROUP: usize = 8;
    pub const MLD2_SOURCES: usize = 26;
    /// Address mask reply: the mask, after identifier and sequence number.
    pub const MASK: usize = 8;
    /// ICMPv6 redirect: the destination, after the target.
    pub const REDIRECT_DST: usize = 24;
    /// IGMP: group address.
    pub const GROUP: usize = 4;
}

/// Writes `i` (the transport of `d`, found in `net`) as tcpdump does, after the addresses:
/// `ICMP echo request, id 7, seq 1, length 16` or `ICMP6, echo reply, ...`.
pub fn write_icmp<W: Write>(
    w: &mut W,
    d: &Decoded<'_>,
    net: &Net<'_>,
    i: &IcmpView<'_>,
) -> fmt::Result {
    let msg = d.payload;
    if i.is_v6() {
        w.write_str("ICMP6, ")?;
        write_v6(w, i, msg)?;
    } else {
        w.write_str("ICMP ")?;
        write_v4(w, i, msg)?;
    }
    write!(w, ", length {}", ip_payload_len(net, msg.len()))
}

/// The IP payload's length as the IP header gives it (tcpdump's ICMP `length`), or the
/// captured length when the header says 0 or less.
fn ip_payload_len(net: &Net<'_>, captured: usize) -> usize {
    let claimed = match net {
        Net::Ipv4(v) => usize::from(v.total_len()).checked_sub(v.header_len()),
        Net::Ipv6(v) => usize::from(v.payload_len()).checked_sub(v.extensions_len()),
        _ => None,
    };
    claimed.map_or(captured, |n| n.max(captured))
}

fn be16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

fn be32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(s.try_into().ok()?))
}

fn ipv4_at(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    be32_at(b, at).map(Ipv4Addr::from)
}

/// The quoted packet's destination, or `?` when the quote was not captured.
struct QuotedDst(Option<Quoted>);

impl fmt::Display for QuotedDst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(q) => q.dst.fmt(f),
            None => f.write_str("?"),
        }
    }
}

/// A time of an ICMP timestamp message, milliseconds since midnight UT, as tcpdump writes
/// it: hours are not taken modulo 24 (`457:32:59.264` for a value that is no time of day).
struct Stamp(u32);

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (ms, s) = (self.0 % 1000, self.0 / 1000);
        write!(
            f,
            "{:02}:{:02}:{:02}.{ms:03}",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }
}

fn write_v4<W: Write>(w: &mut W, i: &IcmpView<'_>, msg: &[u8]) -> fmt::Result {
    let code = i.code();
    let q = i.quoted_packet();
    let dst = QuotedDst(q);
    match i.icmp_type() {
        t @ (icmpv4::ECHO_REQUEST | icmpv4::ECHO_REPLY) => {
            let name = if t == icmpv4::ECHO_REQUEST {
                "request"
            } else {
                "reply"
            };
            write!(w, "echo {name}")?;
            if let Some((id, seq)) = i.echo() {
                write!(w, ", id {id}, seq {seq}")?;
            }
            Ok(())
        }
        icmpv4::UNREACHABLE => write_v4_unreachable(w, code, q, msg),
        v4::SOURCE_QUENCH => w.write_str("source quench"),
        v4::REDIRECT => {
            let (name, to) = match code {
                0 => ("redirect", "net"),
                1 => ("redirect", "host"),
                2 => ("redirect-tos", "net"),
                3 => ("redirect-tos", "host"),
                _ => return write!(w, "redirect-#{code} {dst}"),
            };
            write!(w, "{name} {dst} to {to}")?;
            match ipv4_at(msg, field::REST) {
                Some(gw) => write!(w, " {gw}"),
                None => w.write_str(" ?"),
            }
        }
        v4::ROUTER_ADVERT => write_router_advert(w, msg),
        v4::ROUTER_SOLICIT => w.write_str("router solicitation"),
        icmpv4::TIME_EXCEEDED => match code {
            0 => w.write_str("time exceeded in-transit"),
            1 => w.write_str("ip reassembly time exceeded"),
            _ => write!(w, "time exceeded-#{code}"),
        },
        v4::PARAM_PROBLEM if code == 0 => match msg.get(field::REST) {
            Some(p) => write!(w, "parameter problem - octet {p}"),
            None => w.write_str("parameter problem"),
        },
        v4::PARAM_PROBLEM => write!(w, "parameter problem - code {code}"),
        t @ (v4::TIMESTAMP | v4::TIMESTAMP_REPLY) => {
            let name = if t == v4::TIMESTAMP { "query" } else { "reply" };
            write!(w, "time stamp {name}")?;
            if let (Some(id), Some(seq)) = (be16_at(msg, 4), be16_at(msg, 6)) {
                write!(w, " id {id} seq {seq}")?;
            }
            if t == v4::TIMESTAMP_REPLY {
                let at = |k: usize| be32_at(msg, field::TIMESTAMPS + 4 * k).map(Stamp);
                if let (Some(org), Some(recv), Some(xmit)) = (at(0), at(1), at(2)) {
                    write!(w, ": org {org}, recv {recv}, xmit {xmit}")?;
                }
            }
            Ok(())
        }
        v4::INFO_REQUEST => w.write_str("information request"),
        v4::INFO_REPLY => w.write_str("information reply"),
        v4::MASK_REQUEST => w.write_str("address mask request"),
        v4::MASK_REPLY => match be32_at(msg, field::MASK) {
            Some(mask) => write!(w, "address mask is {mask:#010x}"),
            None => w.write_str("address mask reply"),
        },
        t => write!(w, "type-#{t}"),
    }
}

/// Destination unreachable, worded by code as tcpdump's `unreach` table.
fn write_v4_unreachable<W: Write>(
    w: &mut W,
    code: u8,
    q: Option<Quoted>,
    msg: &[u8],
) -> fmt::Result {
    let dst = QuotedDst(q);
    match code {
        0 => write!(w, "net {dst} unreachable"),
        1 => write!(w, "host {dst} unreachable"),
        2 => match q {
            Some(q) => write!(w, "{} protocol {} unreachable", q.dst, q.protocol),
            None => w.write_str("? protocol unreachable"),
        },
        3 => match q {
            Some(Quoted {
                dst,
                protocol,
                ports: Some((_, port)),
                ..
            }) => match protocol {
                ip_proto::TCP => write!(w, "{dst} tcp port {port} unreachable"),
                ip_proto::UDP => write!(w, "{dst} udp port {port} unreachable"),
                p => write!(w, "{dst} protocol {p} port {port} unreachable"),
            },
            _ => write!(w, "{dst} port unreachable"),
        },
        4 => match be16_at(msg, field::NEXT_MTU).filter(|&mtu| mtu != 0) {
            Some(mtu) => write!(w, "{dst} unreachable - need to frag (mtu {mtu})"),
            None => write!(w, "{dst} unreachable - need to frag"),
        },
        5 => write!(w, "{dst} unreachable - source route failed"),
        6 => write!(w, "net {dst} unreachable - unknown"),
        7 => write!(w, "host {dst} unreachable - unknown"),
        8 => write!(w, "{dst} unreachable - source host isolated"),
        9 => write!(w, "net {dst} unreachable - admin prohibited"),
        10 => write!(w, "host {dst} unreachable - admin prohibited"),
        11 => write!(w, "net {dst} unreachable - tos prohibited"),
        12 => write!(w, "host {dst} unreachable - tos prohibited"),
        13 => write!(w, "host {dst} unreachable - admin prohibited filter"),
        14 => write!(w, "host {dst} unreachable - host precedence violation"),
        15 => write!(w, "host {dst} unreachable - precedence cutoff"),
        c => write!(w, "{dst} unreachable - #{c}"),
    }
}

/// `router advertisement lifetime 3:20 1: {192.168.144.2 2147483648}`: the lifetime as
/// seconds, M:SS or H:MM:SS, the address count, then each router and its preference.
fn write_router_advert<W: Write>(w: &mut W, msg: &[u8]) -> fmt::Result {
    w.write_str("router advertisement")?;
    let (Some(&count), Some(&size), Some(life)) = (
        msg.get(field::REST),
        msg.get(field::ADDR_SIZE),
        be16_at(msg, field::LIFETIME),
    ) else {
        return Ok(());
    };
    match life {
        0..60 => write!(w, " lifetime {life}")?,
        60..3600 => write!(w, " lifetime {}:{:02}", life / 60, life % 60)?,
        _ => write!(
            w,
            " lifetime {}:{:02}:{:02}",
            life / 3600,
            life % 3600 / 60,
            life % 60
        )?,
    }
    write!(w, " {count}:")?;
    // Entries of another size than (address, preference) are not read, as in tcpdump.
    if size != 2 {
        return write!(w, " [size {size}]");
    }
    for k in 0..usize::from(count) {
        let at = field::ROUTERS + k * 8;
        match (ipv4_at(msg, at), be32_at(msg, at + 4)) {
            (Some(addr), Some(pref)) => write!(w, " {{{addr} {pref}}}")?,
            _ => break,
        }
    }
    Ok(())
}

fn write_v6<W: Write>(w: &mut W, i: &IcmpView<'_>, msg: &[u8]) -> fmt::Result {
    let code = i.code();
    let q = i.quoted_packet();
    let dst = QuotedDst(q);
    match i.icmp_type() {
        icmpv6::UNREACHABLE => {
            let name = match code {
                0 => "unreachable route",
                1 => "unreachable prohibited",
                2 => "beyond scope",
                3 => "unreachable address",
                4 => "unreachable port",
                _ => return write!(w, "destination unreachable, unknown unreach code ({code})"),
            };
            write!(w, "destination unreachable, {name}")?;
            match (code, q) {
                (2, Some(q)) => write!(w, " {}, source address {}", q.dst, q.src),
                (
                    4,
                    Some(Quoted {
                        dst,
                        protocol,
                        ports: Some((_, port)),
                        ..
                    }),
                ) => match protocol {
                    ip_proto::TCP => write!(w, ", {dst} tcp port {port}"),
                    ip_proto::UDP => write!(w, ", {dst} udp port {port}"),
                    p => write!(w, ", {dst} protocol {p} port {port} unreachable"),
                },
                (4, _) => Ok(()),
                _ => write!(w, " {dst}"),
            }
        }
        icmpv6::PACKET_TOO_BIG => {
            w.write_str("packet too big")?;
            match be32_at(msg, field::REST) {
                Some(mtu) => write!(w, ", mtu {mtu}"),
                None => Ok(()),
            }
        }
        icmpv6::TIME_EXCEEDED => match code {
            0 => write!(w, "time exceeded in-transit for {dst}"),
            1 => w.write_str("time exceeded reassembly"),
            c => write!(w, "time exceeded, unknown code ({c})"),
        },
        v6::PARAM_PROBLEM => {
            let what = match code {
                0 => "erroneous",
                1 => "next header",
                2 => "option",
                c => return write!(w, "parameter problem, code-#{c}"),
            };
            write!(w, "parameter problem, {what}")?;
            match be32_at(msg, field::REST) {
                Some(octet) => write!(w, " - octet {octet}"),
                None => Ok(()),
            }
        }
        t @ (icmpv6::ECHO_REQUEST | icmpv6::ECHO_REPLY) => {
            let name = if t == icmpv6::ECHO_REQUEST {
                "request"
            } else {
                "reply"
            };
            write!(w, "echo {name}")?;
            if let Some((id, seq)) = i.echo() {
                write!(w, ", id {id}, seq {seq}")?;
            }
            Ok(())
        }
        v6::MLD_QUERY => {
            w.write_str("multicast listener query")?;
            // MLDv2 (RFC 3810): 28 bytes and more; the group, and how many sources.
            let group = msg
                .get(field::MLD_GROUP..field::MLD_GROUP + 16)
                .and_then(|b| <[u8; 16]>::try_from(b).ok())
                .map(Ipv6Addr::from);
            match (group, be16_at(msg, field::MLD2_SOURCES)) {
                (Some(g), Some(n)) => {
                    write!(w, " v2 [gaddr {g}")?;
                    if n > 0 {
                        write!(w, ", {n} source(s)")?;
                    }
                    w.write_char(']')
                }
                _ => Ok(()),
            }
        }
        v6::MLD_REPORT => w.write_str("multicast listener report"),
        v6::MLD_DONE => w.write_str("multicast listener done"),
        v6::MLD2_REPORT => {
            w.write_str("multicast listener report v2")?;
            match be16_at(msg, field::MLD2_RECORDS) {
                Some(n) => write!(w, ", {n} group record(s)"),
                None => Ok(()),
            }
        }
        icmpv6::ROUTER_SOLICIT => w.write_str("router solicitation"),
        icmpv6::ROUTER_ADVERT => w.write_str("router advertisement"),
        icmpv6::NEIGHBOR_SOLICIT => {
            w.write_str("neighbor solicitation")?;
            match i.nd_target() {
                Some(t) => write!(w, ", who has {t}"),
                None => Ok(()),
            }
        }
        icmpv6::NEIGHBOR_ADVERT => {
            w.write_str("neighbor advertisement")?;
            match i.nd_target() {
                Some(t) => write!(w, ", tgt is {t}"),
                None => Ok(()),
            }
        }
        icmpv6::REDIRECT => {
            w.write_str("redirect")?;
            let dest = msg
                .get(field::REDIRECT_DST..field::REDIRECT_DST + 16)
                .and_then(|b| <[u8; 16]>::try_from(b).ok())
                .map(Ipv6Addr::from);
            match (i.nd_target(), dest) {
                (Some(t), Some(d)) => write!(w, ", {d} to {t}"),
                _ => Ok(()),
            }
        }
        t => write!(w, "type-#{t}"),
    }
}

/// IP protocol number of IGMP.
pub const IGMP: u8 = 2;

/// IGMP types (RFC 2236, RFC 3376) tcpdump names.
mod igmp {
    pub const QUERY: u8 = 0x11;
    pub const V1_REPORT: u8 = 0x12;
    pub const V2_REPORT: u8 = 0x16;
    pub const LEAVE: u8 = 0x17;
    pub const V3_REPORT: u8 = 0x22;
    /// Length of an IGMPv1/v2 message; a query of 12 bytes or more is IGMPv3.
    pub const V2_LEN: usize = 8;
    pub const V3_QUERY_LEN: usize = 12;
    /// Max response time tcpdump leaves unsaid (10 s, the default).
    pub const DEFAULT_MAX_RESP: u8 = 100;
}

/// Writes an IGMP message (`msg`, the IP payload) as tcpdump does: `igmp v2 report
/// 239.1.1.1`, `igmp query v2 [gaddr 239.1.1.1]`, `igmp v3 report, 1 group record(s)`.
pub fn write_igmp<W: Write>(w: &mut W, msg: &[u8]) -> fmt::Result {
    let Some(&t) = msg.first() else {
        return w.write_str("igmp [|igmp]");
    };
    let group = ipv4_at(msg, field::GROUP);
    let addr = |w: &mut W| match group {
        Some(g) => write!(w, " {g}"),
        None => w.write_str(" [|igmp]"),
    };
    match t {
        igmp::QUERY => {
            w.write_str("igmp query")?;
            let mrc = msg.get(1).copied().unwrap_or(0);
            if msg.len() >= igmp::V3_QUERY_LEN {
                w.write_str(" v3")?;
            } else if mrc != 0 {
                w.write_str(" v2")?;
            } else {
                w.write_str(" v1")?;
            }
            if mrc != 0 && mrc != igmp::DEFAULT_MAX_RESP && msg.len() < igmp::V3_QUERY_LEN {
                write!(w, " [max resp time {mrc}]")?;
            }
            if let Some(g) = group.filter(|g| !g.is_unspecified()) {
                write!(w, " [gaddr {g}]")?;
            }
            if msg.len() != igmp::V2_LEN && msg.len() < igmp::V3_QUERY_LEN {
                write!(w, " [len {}]", msg.len())?;
            }
            Ok(())
        }
        igmp::V1_REPORT => {
            w.write_str("igmp v1 report")?;
            addr(w)
        }
        igmp::V2_REPORT => {
            w.write_str("igmp v2 report")?;
            addr(w)
        }
        igmp::LEAVE => {
            w.write_str("igmp leave")?;
            addr(w)
        }
        igmp::V3_REPORT => {
            w.write_str("igmp v3 report")?;
            match be16_at(msg, field::MLD2_RECORDS) {
                Some(n) => write!(w, ", {n} group record(s)"),
                None => w.write_str(" [|igmp]"),
            }
        }
        t => write!(w, "igmp-{t}"),
    }
}

/// True when `net` carries IGMP.
pub fn is_igmp(net: &Net<'_>) -> bool {
    net.protocol() == Some(IGMP) && net.fragment().is_none_or(|f| f.offset == 0)
}
