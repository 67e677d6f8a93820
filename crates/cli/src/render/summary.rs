//! One-line packet summaries, in the spirit of tcpdump and node_pcap's `simple_capture`.
//!
//! ```text
//! 00:1c:23:b9:e8:b5 -> ff:ff:ff:ff:ff:ff 10.51.2.10 ARP request 10.51.2.4
//! aa:bb:cc:dd:ee:01 -> aa:bb:cc:dd:ee:02 10.0.0.1:51234 -> 10.0.0.2:80 TCP [S.] seq 123 ack 456 win 8192 len 0
//! ```
//! A TCP payload that starts with a TLS hello says so, found by content on any port:
//! `... len 517 TLS ClientHello sni=example.com alpn=h2,http/1.1`.
//! A decoding error is appended in brackets: `[truncated: tcp header: needs 20 bytes, 12 available at offset 34]`.

use std::fmt::{self, Write};
use std::net::IpAddr;

use pcap_decode::arp::{ArpView, OP_REPLY, OP_REQUEST};
use pcap_decode::{Decoded, Link, Net, Transport};

use super::dns::Summary;
use super::numbers::Shown;
use super::{icmp, verbose};

/// Writes the summary of `d` (no newline) into `w`, MAC addresses included; nothing is
/// allocated but the parsed hello of a payload that starts with a TLS hello record.
pub fn write_summary<W: Write>(w: &mut W, d: &Decoded<'_>) -> fmt::Result {
    let shown = Shown {
        link: true,
        ..Shown::default()
    };
    write_summary_with(w, d, shown)
}

/// [`write_summary`] with the numbers `capture` computed ([`super::numbers`]): relative
/// TCP sequence numbers, and the payload's wire length (`len 1448 (captured 96)`); MAC
/// addresses only when `shown.link` (tcpdump's `-e`), the IP header's fields and checksum
/// status when `shown.verbose` (tcpdump's `-v`, [`super::verbose`]).
pub fn write_summary_with<W: Write>(w: &mut W, d: &Decoded<'_>, shown: Shown) -> fmt::Result {
    let mut sep = Sep(false);
    match &d.link {
        Some(Link::Ethernet(e)) if shown.link => {
            sep.next(w)?;
            write!(w, "{} -> {}", e.src(), e.dst())?;
        }
        Some(Link::Netlink) => {
            sep.next(w)?;
            write!(w, "netlink len {}", d.payload.len())?;
        }
        Some(Link::Ppp(_)) => {
            sep.next(w)?;
            w.write_str("ppp")?;
        }
        Some(Link::Chdlc(_)) => {
            sep.next(w)?;
            w.write_str("chdlc")?;
        }
        Some(Link::Nflog(_)) => {
            sep.next(w)?;
            w.write_str("nflog")?;
        }
        Some(Link::Wlan { .. }) => {
            sep.next(w)?;
            w.write_str("802.11")?;
        }
        _ => {}
    }
    for v in &d.vlans {
        sep.next(w)?;
        write!(w, "vlan {}", v.id())?;
    }
    if let Some(p) = &d.pppoe {
        sep.next(w)?;
        write!(w, "pppoe session {:#06x}", p.session_id)?;
    }
    for t in &d.tunnels {
        sep.next(w)?;
        w.write_str(t.kind.name())?;
        if let Some(id) = t.id {
            write!(w, " {}", id)?;
        }
        if let (Some(src), Some(dst)) = (t.src(), t.dst()) {
            write!(w, " ({src} > {dst})")?;
        }
    }
    if let Some(llc) = &d.llc {
        sep.next(w)?;
        write!(w, "802.3 llc dsap {:#04x} ssap {:#04x}", llc.dsap, llc.ssap)?;
        if let Some((_, proto)) = llc.snap {
            write!(w, " snap {proto:#06x}")?;
        }
    }
    match &d.net {
        Some(Net::Arp(a)) => {
            sep.next(w)?;
            write_arp(w, a)?;
        }
        Some(net @ (Net::Ipv4(_) | Net::Ipv6(_))) => {
            sep.next(w)?;
            write_ip(w, d, net, shown)?;
        }
        // No network layer, or one this writer does not know yet.
        _ => {}
    }
    if let Some(Net::Ipv4(v)) = &d.net {
        // With -v the checksum's status is in the IP fields already.
        if !v.checksum_valid() && !shown.verbose {
            w.write_str(" [bad ip checksum]")?;
        }
    }
    match &d.stop {
        Some(e) => write!(w, " [{e}]"),
        None if d.truncated => w.write_str(" [truncated]"),
        None => Ok(()),
    }
}

/// A payload length: the wire length, and the captured one when it is smaller.
struct Len(usize, Option<usize>);

impl fmt::Display for Len {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(wire) if wire > self.0 => write!(f, "{wire} (captured {})", self.0),
            _ => write!(f, "{}", self.0),
        }
    }
}

/// Writes a space before every item but the first.
struct Sep(bool);

impl Sep {
    fn next<W: Write>(&mut self, w: &mut W) -> fmt::Result {
        if self.0 {
            w.write_char(' ')?;
        }
        self.0 = true;
        Ok(())
    }
}

fn write_arp<W: Write>(w: &mut W, a: &ArpView<'_>) -> fmt::Result {
    let (Some(sip), Some(tip)) = (a.sender_ip(), a.target_ip()) else {
        return write!(
            w,
            "ARP op {} htype {} ptype {:#06x}",
            a.op(),
            a.htype(),
            a.ptype()
        );
    };
    match a.op() {
        OP_REQUEST => write!(w, "{sip} ARP request {tip}"),
        OP_REPLY => {
            write!(w, "{sip} ARP reply {tip}")?;
            if let Some(mac) = a.sender_mac() {
                write!(w, " is-at {mac}")?;
            }
            Ok(())
        }
        op => write!(w, "{sip} ARP op {op} {tip}"),
    }
}

/// An address with a port, bracketed for IPv6.
struct Endpoint(Option<IpAddr>, u16);

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(IpAddr::V6(a)) => write!(f, "[{a}]:{}", self.1),
            Some(IpAddr::V4(a)) => write!(f, "{a}:{}", self.1),
            None => write!(f, "?:{}", self.1),
        }
    }
}

struct Addr(Option<IpAddr>);

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(a) => a.fmt(f),
            None => f.write_str("?"),
        }
    }
}

fn write_ip<W: Write>(w: &mut W, d: &Decoded<'_>, net: &Net<'_>, shown: Shown) -> fmt::Result {
    if shown.verbose {
        verbose::write_ip(w, net)?;
        w.write_char(' ')?;
    }
    let (src, dst) = (net.src_ip(), net.dst_ip());
    let len = d.payload.len();
    let (seq, ack) = match (shown.seq_ack, &d.transport) {
        (Some(n), _) => n,
        (None, Some(Transport::Tcp(t))) => (t.seq(), t.ack()),
        (None, _) => (0, 0),
    };
    let len_shown = Len(len, shown.wire_len);
    match &d.transport {
        Some(Transport::Tcp(t)) => {
            write!(
                w,
                "{} -> {} TCP [{}] seq {}",
                Endpoint(src, t.src_port()),
                Endpoint(dst, t.dst_port()),
                t.flags(),
                seq
            )?;
            if t.flags().ack() {
                write!(w, " ack {ack}")?;
            }
            write!(w, " win {}", t.window())?;
            if shown.verbose {
                let wire = shown.wire_len.unwrap_or(len);
                verbose::write_tcp(w, net, t, d.payload, wire)?;
            }
            write!(w, " len {len_shown}")?;
            if let Some(hello) = super::tls::packet_hello(d.payload) {
                w.write_char(' ')?;
                super::tls::write_packet_hello(w, &hello)?;
            }
            Ok(())
        }
        Some(Transport::Udp(u)) => {
            write!(
                w,
                "{} -> {} UDP",
                Endpoint(src, u.src_port()),
                Endpoint(dst, u.dst_port())
            )?;
            if shown.verbose {
                let wire = shown.wire_len.unwrap_or(len);
                verbose::write_udp(w, net, u, d.payload, wire)?;
            }
            write!(w, " len {len_shown}")?;
            match d.dns() {
                Some(Ok(msg)) => write!(w, " {}", Summary(msg)),
                Some(Err(e)) => write!(w, " DNS [{e}]"),
                None => Ok(()),
            }
        }
        Some(Transport::Icmp(i) | Transport::Icmpv6(i)) => {
            write!(w, "{} -> {} ", Addr(src), Addr(dst))?;
            icmp::write_icmp(w, d, net, i)
        }
        None if icmp::is_igmp(net) => {
            write!(w, "{} -> {} ", Addr(src), Addr(dst))?;
            icmp::write_igmp(w, d.payload)
        }
        // No transport layer, or one this writer does not know yet.
        _ => {
            write!(w, "{} -> {}", Addr(src), Addr(dst))?;
            if let Some(f) = net.fragment() {
                write!(
                    w,
                    " frag id {:#x} offset {}{}",
                    f.id,
                    f.offset,
                    if f.more { " [+]" } else { "" }
                )?;
            }
            match net.protocol() {
                Some(p) => write!(w, " ip-proto {p} len {len}"),
                None => Ok(()),
            }
        }
    }
}
