//! What the per-link-type fuzz targets share: decode one frame, then read everything that
//! was decoded, every field a renderer would show. (The text and JSON writers themselves
//! live in pcap-cli; its property tests run them over arbitrary frames.)

use pcap_capture::LinkType;
use pcap_decode::dns::{DnsMessage, Name, Rdata};
use pcap_decode::{Decoded, Link, Net, Transport};

/// Decodes `data` as a frame of `link` and walks the result. Any panic on the way is the
/// finding.
pub fn decode_frame(link: LinkType, data: &[u8]) {
    let d = pcap_decode::decode_packet(link, data);
    walk(&d);
}

/// Reads every layer of `d`: addresses, flags, TCP options, ICMP quotes, DNS records; and
/// formats the stop error. Returns a sum of what it read, so nothing is optimised away.
pub fn walk(d: &Decoded<'_>) -> u64 {
    let mut sum = d.payload.len() as u64 + u64::from(d.truncated);
    let mut add = |v: u64| sum = sum.wrapping_add(v);
    match &d.link {
        Some(Link::Ethernet(e)) => add(u64::from(e.ethertype()) + e.src().to_string().len() as u64),
        Some(Link::Sll(s)) => add(s.addr().len() as u64 + u64::from(s.protocol())),
        Some(Link::Null(n)) => add(u64::from(n.family)),
        _ => {}
    }
    for v in &d.vlans {
        add(u64::from(v.id()));
    }
    if let Some(l) = &d.llc {
        add(u64::from(l.dsap) + l.snap.map_or(0, |(_, p)| u64::from(p)));
    }
    match &d.net {
        Some(Net::Arp(a)) => add(u64::from(a.op())
            + u64::from(a.sender_mac().is_some())
            + a.sender_ip().map_or(0, |i| u64::from(u32::from(i)))
            + a.target_ip().map_or(0, |i| u64::from(u32::from(i)))),
        Some(Net::Ipv4(v)) => add(u64::from(v.checksum_valid()) + u64::from(v.frag_offset())),
        Some(Net::Ipv6(v)) => {
            add(u64::from(v.upper_protocol()) + v.fragment().map_or(0, |f| u64::from(f.id)))
        }
        _ => {}
    }
    add(u64::from(d.src_ip().is_some()) + u64::from(d.fragment().is_some()));
    match &d.transport {
        Some(Transport::Tcp(t)) => {
            add(u64::from(t.seq()) + t.flags().to_string().len() as u64);
            for opt in t.options(d.transport_offset) {
                add(u64::from(opt.is_ok()));
            }
        }
        Some(Transport::Udp(u)) => {
            add(u64::from(u.length()));
            match d.dns() {
                Some(Ok(msg)) => add(walk_dns(&msg)),
                Some(Err(e)) => add(e.to_string().len() as u64),
                None => {}
            }
        }
        Some(Transport::Icmp(i) | Transport::Icmpv6(i)) => {
            add(u64::from(i.icmp_type()) + u64::from(i.echo().is_some()));
            add(u64::from(i.nd_target().is_some()));
            if let Some(q) = i.quoted_packet() {
                add(u64::from(q.protocol) + q.ports.map_or(0, |(s, _)| u64::from(s)));
            }
        }
        _ => {}
    }
    if let Some(e) = &d.stop {
        add(e.to_string().len() as u64);
    }
    sum
}

/// Reads every question and record of a DNS message: names label by label, record data
/// field by field. Returns a sum of what it read.
pub fn walk_dns(msg: &DnsMessage<'_>) -> u64 {
    fn name(n: Name<'_>) -> u64 {
        n.labels().map(|l| l.len() as u64 + 1).sum()
    }
    let mut sum = u64::from(msg.id()) + u64::from(msg.flags().0);
    for q in msg.questions() {
        match q {
            Ok(q) => sum += name(q.name),
            Err(e) => sum += e.to_string().len() as u64,
        }
    }
    for r in msg.records() {
        let Ok(r) = r else { break };
        sum += name(r.name);
        sum += match r.rdata() {
            Ok(Rdata::Cname(n) | Rdata::Ns(n) | Rdata::Ptr(n)) => name(n),
            Ok(Rdata::Mx { exchange, .. }) => name(exchange),
            Ok(Rdata::Srv { target, .. }) => name(target),
            Ok(Rdata::Soa { mname, rname, .. }) => name(mname) + name(rname),
            Ok(Rdata::Txt(strings)) => strings.map(|s| s.len() as u64).sum(),
            Ok(Rdata::Opt(o)) => o
                .options()
                .map(|(code, data)| u64::from(code) + data.len() as u64)
                .sum(),
            Ok(_) => 0,
            Err(e) => e.to_string().len() as u64,
        };
    }
    sum
}
