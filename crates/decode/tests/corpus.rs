//! Differential test: every frame of every corpus capture, decoded by us and by tshark
//! (`oracle/NAME/packets.tsv`), must agree field by field.
//!
//! Rules for tshark's comma-joined repeated fields (ICMP errors quoting an IP header, tunnels):
//! we compare the *first* occurrence, which is the outer header we decode. Transport columns
//! are skipped when tshark's value comes from somewhere we do not decode on purpose:
//! - the packet is an IP fragment (tshark reassembles and shows the transport of the whole
//!   datagram on the last fragment; reassembly is the `defrag` module's job);
//! - our transport is ICMP/ICMPv6 (tshark's tcp/udp columns are those of the quoted packet);
//!   those are compared separately with [`IcmpView::quoted_packet`]: the quoted addresses are
//!   tshark's second `ip.src`/`ip.dst` occurrence, the quoted ports its tcp/udp ports.
//!
//! [`IcmpView::quoted_packet`]: pcap_decode::icmp::IcmpView::quoted_packet
//!
//! tshark's `ip.frag_offset` is in 8-byte units (ours is bytes), and its `vlan.id` lists
//! 802.1Q tags only (802.1ad tags are `ieee8021ad.id`).
//!
//! `tcp.len` is compared with the length the IP header declares (tshark's definition), not
//! with the captured payload, which differs for snaplen-cut packets.
//! Any other mismatch fails unless listed in `corpus_allow.tsv` with a reason.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::fmt::Write as _;

use pcap_capture::FileReader;
use pcap_decode::{Decoded, Net, Transport, decode_packet};

const FIELDS: &[&str] = &[
    "eth.src",
    "eth.dst",
    "vlan.id",
    "ip.src",
    "ip.dst",
    "ip.proto",
    "ip.ttl",
    "ip.id",
    "ip.flags.mf",
    "ip.frag_offset",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.nxt",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.flags.str",
    "tcp.len",
    "tcp.window_size_value",
    "udp.srcport",
    "udp.dstport",
    "arp.opcode",
    "arp.src.proto_ipv4",
    "arp.dst.proto_ipv4",
    "icmp.type",
    "icmpv6.type",
];

fn is_transport_field(f: &str) -> bool {
    f.starts_with("tcp.") || f.starts_with("udp.")
}

fn is_icmp_field(f: &str) -> bool {
    f.starts_with("icmp")
}

/// tshark's 12-character `tcp.flags.str`: bit 11 first, a letter where set, `·` where clear.
fn tshark_flags(flags: u16) -> String {
    const LETTERS: [char; 12] = ['R', 'R', 'R', 'A', 'C', 'E', 'U', 'A', 'P', 'R', 'S', 'F'];
    LETTERS
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if flags & (1 << (11 - i)) != 0 {
                c
            } else {
                '·'
            }
        })
        .collect()
}

/// Our value for a column, in tshark's text form ("" = absent).
fn ours(d: &Decoded<'_>, field: &str) -> String {
    let mut s = String::new();
    let eth = d.ethernet();
    let v4 = d.ipv4();
    let v6 = d.ipv6();
    let tcp = d.tcp();
    let udp = d.udp();
    let arp = d.arp();
    match field {
        "eth.src" => eth.map(|e| write!(s, "{}", e.src())),
        "eth.dst" => eth.map(|e| write!(s, "{}", e.dst())),
        "vlan.id" => {
            // tshark names 802.1ad (0x88a8) tags `ieee8021ad.id`, not `vlan.id`.
            let ids: Vec<String> = d
                .vlans
                .iter()
                .filter(|v| v.tpid != 0x88a8)
                .map(|v| v.id().to_string())
                .collect();
            s = ids.join(",");
            None
        }
        "ip.src" => v4.map(|v| write!(s, "{}", v.src())),
        "ip.dst" => v4.map(|v| write!(s, "{}", v.dst())),
        "ip.proto" => v4.map(|v| write!(s, "{}", v.protocol())),
        "ip.ttl" => v4.map(|v| write!(s, "{}", v.ttl())),
        "ip.id" => v4.map(|v| write!(s, "{:#06x}", v.id())),
        "ip.flags.mf" => v4.map(|v| write!(s, "{}", u8::from(v.more_frags()))),
        // tshark 4.0 shows the offset in 8-byte units (the corpus README says bytes).
        "ip.frag_offset" => v4.map(|v| write!(s, "{}", v.frag_offset() / 8)),
        "ipv6.src" => v6.map(|v| write!(s, "{}", v.src())),
        "ipv6.dst" => v6.map(|v| write!(s, "{}", v.dst())),
        "ipv6.nxt" => v6.map(|v| write!(s, "{}", v.next_header())),
        "tcp.srcport" => tcp.map(|t| write!(s, "{}", t.src_port())),
        "tcp.dstport" => tcp.map(|t| write!(s, "{}", t.dst_port())),
        "tcp.seq_raw" => tcp.map(|t| write!(s, "{}", t.seq())),
        "tcp.ack_raw" => tcp.map(|t| write!(s, "{}", t.ack())),
        "tcp.flags.str" => tcp.map(|t| write!(s, "{}", tshark_flags(t.flags().0))),
        "tcp.len" => tcp.map(|t| write!(s, "{}", declared_tcp_len(d, t.header_len()))),
        "tcp.window_size_value" => tcp.map(|t| write!(s, "{}", t.window())),
        "udp.srcport" => udp.map(|u| write!(s, "{}", u.src_port())),
        "udp.dstport" => udp.map(|u| write!(s, "{}", u.dst_port())),
        "arp.opcode" => arp.map(|a| write!(s, "{}", a.op())),
        "arp.src.proto_ipv4" => arp.and_then(|a| a.sender_ip()).map(|ip| write!(s, "{ip}")),
        "arp.dst.proto_ipv4" => arp.and_then(|a| a.target_ip()).map(|ip| write!(s, "{ip}")),
        "icmp.type" => match d.transport {
            Some(Transport::Icmp(i)) => Some(write!(s, "{}", i.icmp_type())),
            _ => None,
        },
        "icmpv6.type" => match d.transport {
            Some(Transport::Icmpv6(i)) => Some(write!(s, "{}", i.icmp_type())),
            _ => None,
        },
        other => panic!("unknown field {other}"),
    };
    s
}

/// TCP payload length as the IP header declares it (tshark's `tcp.len`).
fn declared_tcp_len(d: &Decoded<'_>, tcp_hlen: usize) -> i64 {
    let captured = (d.payload.len() + tcp_hlen) as i64;
    let ip_payload = match &d.net {
        Some(Net::Ipv4(v)) if v.total_len() != 0 => {
            i64::from(v.total_len()) - v.header_len() as i64
        }
        Some(Net::Ipv6(v)) if v.payload_len() != 0 => {
            i64::from(v.payload_len()) - v.extensions_len() as i64
        }
        _ => captured,
    };
    ip_payload - tcp_hlen as i64
}

fn first(v: &str) -> &str {
    v.split(',').next().unwrap_or("")
}

fn last(v: &str) -> &str {
    v.rsplit(',').next().unwrap_or("")
}

/// Fields compared on the tunnels corpus: those of the innermost packet, which is what
/// `decode_packet` keeps after crossing the tunnels (tshark's last occurrence).
const INNER_FIELDS: &[&str] = &[
    "ip.src",
    "ip.dst",
    "ip.proto",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.flags.str",
    "tcp.len",
    "udp.srcport",
    "udp.dstport",
    "icmp.type",
    "icmpv6.type",
];

struct Allow(HashSet<(String, String, String)>);

impl Allow {
    fn load() -> Allow {
        Allow::parse(include_str!("corpus_allow.tsv"))
    }

    fn parse(text: &str) -> Allow {
        let mut set = HashSet::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let cols: Vec<&str> = line.split('\t').collect();
            assert!(
                cols.len() >= 4 && !cols[3].trim().is_empty(),
                "allow-list line needs a reason: {line}"
            );
            set.insert((cols[0].to_owned(), cols[1].to_owned(), cols[2].to_owned()));
        }
        Allow(set)
    }

    fn allows(&self, cap: &str, frame: &str, field: &str) -> bool {
        let k = |f: &str| (cap.to_owned(), f.to_owned(), field.to_owned());
        self.0.contains(&k(frame)) || self.0.contains(&k("*"))
    }
}

#[test]
fn corpus_fields_agree_with_tshark() {
    let Some(corpus) = pcap_testkit::corpus("corpus_fields_agree_with_tshark") else {
        return;
    };
    compare_corpus(&corpus, &Allow::load(), false);
}

/// The tunnels corpus: the fields of the innermost packet (addresses, protocol, ports, TCP
/// header) against tshark's last occurrence of each column, through every tunnel and link
/// type. Disagreements by design are in `tunnels_allow.tsv`.
#[test]
fn corpus_tunnels_inner_fields_agree_with_tshark() {
    let Some(corpus) =
        pcap_testkit::corpus_tunnels("corpus_tunnels_inner_fields_agree_with_tshark")
    else {
        return;
    };
    compare_corpus(
        &corpus,
        &Allow::parse(include_str!("tunnels_allow.tsv")),
        true,
    );
}

/// Compares every frame of every capture with `packets.tsv`; `inner`: the innermost packet's
/// fields ([`INNER_FIELDS`], tshark's last occurrence), else every field's first occurrence.
fn compare_corpus(corpus: &pcap_testkit::Corpus, allow: &Allow, inner: bool) {
    let (mut captures, mut clean) = (0u64, 0u64);
    let (mut frames, mut fields, mut allowed) = (0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    let (mut stopped, mut quoted) = (0u64, 0u64);
    for name in corpus.captures() {
        let Some(tsv) = corpus.oracle_tsv(&name, "packets.tsv") else {
            eprintln!("{name}: no packets.tsv oracle");
            continue;
        };
        let mut reader = match FileReader::open(corpus.capture_path(&name)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{name}: not readable ({e}); oracle has {} rows", tsv.len());
                continue;
            }
        };
        let rows: Vec<_> = tsv.rows().collect();
        let mut n = 0usize;
        captures += 1;
        let failures_before = failures.len();
        loop {
            let pkt = match reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => {
                    eprintln!("{name}: read error after {n} packets: {e}");
                    break;
                }
            };
            let Some(row) = rows.get(n) else { break };
            n += 1;
            assert_eq!(
                row.get("frame.number"),
                n.to_string(),
                "{name}: oracle row order"
            );
            frames += 1;
            let d = decode_packet(pkt.link_type, pkt.data);
            if let Some(stop) = &d.stop {
                stopped += 1;
                eprintln!("{name} frame {n}: {stop}");
            }
            let fragment = d.fragment().is_some();
            let icmp = matches!(d.transport, Some(Transport::Icmp(_) | Transport::Icmpv6(_)));
            if inner {
                let v6 = d.ipv6().is_some();
                for &field in INNER_FIELDS {
                    // The innermost IP is one family: tshark's columns of the other family
                    // are the outer headers'.
                    if (v6 && field.starts_with("ip.")) || (!v6 && field.starts_with("ipv6.")) {
                        continue;
                    }
                    // An ARP (or other non-IP) inner frame: tshark's IP columns are outer.
                    if d.src_ip().is_none() && field.starts_with("ip") {
                        continue;
                    }
                    if (fragment || icmp) && is_transport_field(field)
                        || fragment && is_icmp_field(field)
                    {
                        continue;
                    }
                    // An ICMP error quoting a packet: tshark's last occurrence is the quote.
                    let quoted = d.icmp().and_then(|i| i.quoted_packet()).is_some_and(|q| {
                        q.src.is_ipv4() == field.starts_with("ip.")
                            && (field.starts_with("ip") || is_transport_field(field))
                    });
                    let all: Vec<&str> = row.get(field).split(',').collect();
                    let theirs = if quoted && all.len() >= 2 {
                        all[all.len() - 2]
                    } else {
                        last(row.get(field))
                    };
                    let mine = ours(&d, field);
                    // A column tshark fills only for outer layers (e.g. the UDP of a VXLAN
                    // packet whose inner packet is TCP) is not ours to match.
                    let outer_only = mine.is_empty() && d.transport.is_some();
                    if outer_only && is_transport_field(field) {
                        continue;
                    }
                    fields += 1;
                    if mine != theirs {
                        let frame = n.to_string();
                        if allow.allows(&name, &frame, field) {
                            allowed += 1;
                        } else {
                            failures.push(format!(
                                "{name}\t{frame}\t{field}\tours={mine:?} tshark={theirs:?} ({})",
                                row.get("frame.protocols")
                            ));
                        }
                    }
                }
                continue;
            }
            if let Some(q) = d.icmp().and_then(|i| i.quoted_packet()) {
                // tshark lists the quoted header second (ip.src = "outer,inner") and the quoted
                // ports as the only tcp/udp occurrence.
                let (src_col, dst_col) = if q.src.is_ipv4() {
                    ("ip.src", "ip.dst")
                } else {
                    ("ipv6.src", "ipv6.dst")
                };
                let nth = |col: &str| {
                    let v: Vec<&str> = row.get(col).split(',').collect();
                    let idx = if d.ipv4().is_some() == q.src.is_ipv4() {
                        1
                    } else {
                        0
                    };
                    v.get(idx).copied().unwrap_or("").to_owned()
                };
                let mut pairs = vec![
                    (src_col, q.src.to_string(), nth(src_col)),
                    (dst_col, q.dst.to_string(), nth(dst_col)),
                ];
                let proto = if q.protocol == 6 { "tcp" } else { "udp" };
                if let Some((sp, dp)) = q.ports.filter(|_| q.protocol == 6 || q.protocol == 17) {
                    pairs.push((
                        "quoted srcport",
                        sp.to_string(),
                        first(row.get(&format!("{proto}.srcport"))).to_owned(),
                    ));
                    pairs.push((
                        "quoted dstport",
                        dp.to_string(),
                        first(row.get(&format!("{proto}.dstport"))).to_owned(),
                    ));
                }
                for (field, mine, theirs) in pairs {
                    fields += 1;
                    quoted += 1;
                    if mine != theirs {
                        failures.push(format!(
                            "{name}\t{n}\tquoted {field}\tours={mine:?} tshark={theirs:?}"
                        ));
                    }
                }
            }
            for &field in FIELDS {
                let skip = (fragment || icmp) && is_transport_field(field)
                    || fragment && is_icmp_field(field);
                if skip {
                    continue;
                }
                let theirs = if field == "vlan.id" {
                    row.get(field)
                } else {
                    first(row.get(field))
                };
                let mine = ours(&d, field);
                fields += 1;
                if mine != theirs {
                    let frame = n.to_string();
                    if allow.allows(&name, &frame, field) {
                        allowed += 1;
                    } else {
                        failures.push(format!(
                            "{name}\t{frame}\t{field}\tours={mine:?} tshark={theirs:?} ({})",
                            row.get("frame.protocols")
                        ));
                    }
                }
            }
        }
        if n != rows.len() {
            eprintln!("{name}: compared {n} frames, oracle has {}", rows.len());
        }
        if failures.len() == failures_before {
            clean += 1;
        }
    }
    eprintln!("corpus decode: {captures} captures, {clean} without unlisted mismatches");
    eprintln!(
        "corpus decode: {frames} frames ({stopped} stopped early), {fields} fields compared \
         ({quoted} from ICMP-quoted headers), {} mismatches ({allowed} allow-listed)",
        failures.len() + allowed as usize
    );
    for f in failures.iter().take(200) {
        eprintln!("MISMATCH {f}");
    }
    assert!(
        failures.is_empty(),
        "{} unlisted mismatches",
        failures.len()
    );
}
