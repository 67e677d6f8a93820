//! Differential test: our DNS question names against tshark's `dns.qry.name`, frame by frame,
//! over every classic-pcap capture of the corpus. Fragmented datagrams go through the
//! defragmenter first, as tshark reassembles them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use pcap_decode::defrag::{Defragmenter, FragKey};
use pcap_decode::dns::{DnsMessage, Name, PORTS, Rdata};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// A name as tshark shows it: labels joined by `.`, bytes outside printable ASCII as `\xNN`,
/// the root as `<Root>`.
fn tshark_name(n: Name<'_>) -> String {
    let labels: Vec<String> = n
        .labels()
        .map(|l| {
            l.iter()
                .map(|&b| match b {
                    0x20..=0x7e => char::from(b).to_string(),
                    _ => format!("\\x{b:02x}"),
                })
                .collect()
        })
        .collect();
    if labels.is_empty() {
        "<Root>".to_owned()
    } else {
        labels.join(".")
    }
}

/// Our comma-joined question names for a UDP payload on a DNS port, if it carries DNS.
fn names(payload: &[u8]) -> Option<String> {
    let msg = DnsMessage::parse(payload).ok()?;
    let mut out = Vec::new();
    for q in msg.questions() {
        match q {
            Ok(q) => out.push(tshark_name(q.name)),
            Err(e) => out.push(format!("<error: {e}>")),
        }
    }
    Some(out.join(","))
}

fn udp_names(ip: &[u8]) -> Option<String> {
    let (sp, dp, payload) = common::parse_udp(ip)?;
    (PORTS.contains(&sp) || PORTS.contains(&dp))
        .then(|| names(payload))
        .flatten()
}

#[test]
fn question_names_match_tshark() {
    let Some(corpus) = pcap_testkit::corpus("dns_corpus") else {
        return;
    };
    let allow: HashSet<(String, usize)> = include_str!("dns_allow.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            let cap = f.next().unwrap().to_owned();
            let frame = f.next().unwrap().parse().unwrap();
            assert!(
                f.next().is_some_and(|r| !r.is_empty()),
                "allow entry without reason: {l}"
            );
            (cap, frame)
        })
        .collect();
    let (mut compared, mut matched, mut allowed, mut skipped_frames) = (0, 0, 0, 0);
    let mut mismatches = Vec::new();
    for cap in corpus.captures() {
        let Some(tsv) = corpus.oracle_tsv(&cap, "packets.tsv") else {
            continue;
        };
        let want: BTreeMap<usize, String> = tsv
            .rows()
            .filter(|r| !r.get("dns.qry.name").is_empty())
            .map(|r| {
                (
                    r.get("frame.number").parse().unwrap(),
                    r.get("dns.qry.name").to_owned(),
                )
            })
            .collect();
        let data = std::fs::read(corpus.capture_path(&cap)).unwrap();
        let Some(frames) = common::read_pcap(&cap, &data) else {
            skipped_frames += want.len();
            continue;
        };
        let mut defrag = Defragmenter::default();
        let mut got: BTreeMap<usize, String> = BTreeMap::new();
        for f in &frames {
            let Some(ip) = common::parse_ip(&f.ip) else {
                continue;
            };
            let ours = match ip.frag {
                None if ip.proto == 17 => udp_names(ip.payload),
                Some((off, mf, id)) => {
                    let key = FragKey {
                        src: ip.src,
                        dst: ip.dst,
                        protocol: ip.proto,
                        id,
                        tunnel: 0,
                    };
                    match defrag.push(f.ts_ns, key, off, mf, ip.payload) {
                        Ok(Some(d)) if ip.proto == 17 => udp_names(d.payload),
                        _ => None,
                    }
                }
                None => None,
            };
            if let Some(n) = ours.filter(|n| !n.is_empty()) {
                got.insert(f.number, n);
            }
        }
        let frames_seen: HashSet<usize> = frames.iter().map(|f| f.number).collect();
        let keys: BTreeSet<usize> = want.keys().chain(got.keys()).copied().collect();
        for frame in keys {
            if !frames_seen.contains(&frame) {
                eprintln!("  skipped {cap} frame {frame}: link layer not read by the test reader");
                skipped_frames += 1;
                continue;
            }
            compared += 1;
            let (w, g) = (want.get(&frame), got.get(&frame));
            if w == g {
                matched += 1;
            } else if allow.contains(&(cap.clone(), frame)) {
                allowed += 1;
            } else {
                mismatches.push(format!("{cap} frame {frame}: tshark {w:?}, ours {g:?}"));
            }
        }
    }
    eprintln!(
        "dns_corpus: {compared} frames compared, {matched} equal, {allowed} allowed, {} mismatches, {skipped_frames} frames skipped (unreadable file or link layer)",
        mismatches.len()
    );
    for m in &mismatches {
        eprintln!("  MISMATCH {m}");
    }
    assert!(compared > 400, "too few frames compared: {compared}");
    assert!(mismatches.is_empty(), "{} mismatches", mismatches.len());
}

/// Our record data in the columns of `data/dns_answers.tsv`: A, AAAA, CNAME, PTR, NS, SOA mname.
fn answer_columns(msg: &DnsMessage<'_>) -> [String; 6] {
    let mut cols: [Vec<String>; 6] = Default::default();
    for r in msg.records() {
        let Ok(r) = r else { break };
        let (i, text) = match r.rdata() {
            Ok(Rdata::A(a)) => (0, a.to_string()),
            Ok(Rdata::Aaaa(a)) => (1, a.to_string()),
            Ok(Rdata::Cname(n)) => (2, tshark_name(n)),
            Ok(Rdata::Ptr(n)) => (3, tshark_name(n)),
            Ok(Rdata::Ns(n)) => (4, tshark_name(n)),
            Ok(Rdata::Soa { mname, .. }) => (5, tshark_name(mname)),
            _ => continue,
        };
        cols[i].push(text);
    }
    cols.map(|c| c.join(","))
}

/// Record data (addresses and names of every record) against a tshark oracle kept in
/// `tests/data/dns_answers.tsv` for the four captures with the most DNS traffic.
#[test]
fn answers_match_tshark() {
    let Some(corpus) = pcap_testkit::corpus("dns_corpus_answers") else {
        return;
    };
    let oracle = pcap_testkit::Tsv::parse(
        &include_str!("data/dns_answers.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let mut want: BTreeMap<(String, usize), String> = BTreeMap::new();
    for r in oracle.rows() {
        let key = (r.get("capture").to_owned(), r.get("frame").parse().unwrap());
        let cols = ["id", "a", "aaaa", "cname", "ptr", "ns", "soa_mname"].map(|c| r.get(c));
        want.insert(key, cols.join("\t"));
    }
    let captures: BTreeSet<String> = want.keys().map(|k| k.0.clone()).collect();
    let (mut compared, mut mismatches) = (0, Vec::new());
    for cap in captures {
        let data = std::fs::read(corpus.capture_path(&cap)).unwrap();
        let frames = common::read_pcap(&cap, &data).expect("oracle captures are readable");
        for f in frames {
            let Some(ip) = common::parse_ip(&f.ip) else {
                continue;
            };
            if ip.proto != 17 || ip.frag.is_some() {
                continue;
            }
            let Some((sp, dp, payload)) = common::parse_udp(ip.payload) else {
                continue;
            };
            if !(PORTS.contains(&sp) || PORTS.contains(&dp)) {
                continue;
            }
            let Ok(msg) = DnsMessage::parse(payload) else {
                continue;
            };
            let [a, aaaa, cname, ptr, ns, soa] = answer_columns(&msg);
            let ours = [msg.id().to_string(), a, aaaa, cname, ptr, ns, soa].join("\t");
            compared += 1;
            let theirs = want.get(&(cap.clone(), f.number));
            if theirs != Some(&ours) {
                mismatches.push(format!(
                    "{cap} frame {}: tshark {theirs:?}, ours {ours:?}",
                    f.number
                ));
            }
        }
    }
    eprintln!(
        "dns_corpus answers: {compared} messages compared against {} oracle rows, {} mismatches",
        want.len(),
        mismatches.len()
    );
    for m in &mismatches {
        eprintln!("  MISMATCH {m}");
    }
    assert_eq!(compared, want.len(), "messages decoded vs oracle rows");
    assert!(mismatches.is_empty());
}
