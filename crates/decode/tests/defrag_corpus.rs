//! Corpus check for IP reassembly: over every classic-pcap capture, the frames that complete a
//! datagram must be the frames where tshark shows the reassembled upper layer, and every
//! reassembled datagram must be internally consistent (UDP length field equal to the
//! reassembled length (or, for one capture, 4 bytes shorter: see below), and a valid UDP/TCP/ICMP/ICMPv6 checksum over the whole datagram).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use pcap_decode::defrag::{Defragmenter, FragKey};
use std::collections::BTreeSet;

/// Whether tshark dissected the upper layer of a fragment frame (so it completed reassembly).
fn tshark_reassembled(protocols: &str) -> bool {
    let layers: Vec<&str> = protocols.split(':').collect();
    let at = layers
        .iter()
        .position(|l| *l == "ipv6.fraghdr")
        .or_else(|| layers.iter().rposition(|l| *l == "ip"));
    at.and_then(|i| layers.get(i + 1))
        .is_some_and(|next| *next != "data")
}

/// Checks a reassembled datagram against its own length and checksum fields.
fn consistent(ip: &common::Ip<'_>, payload: &[u8]) -> Result<(), String> {
    let (src, dst) = (ip.src, ip.dst);
    let ok = |pseudo| common::checksum(src, dst, ip.proto, payload, pseudo) == 0;
    match ip.proto {
        17 => {
            let len = usize::from(u16::from_be_bytes([payload[4], payload[5]]));
            let zero_sum = payload[6] == 0 && payload[7] == 0;
            // ipv6-fragments.pcap's sender put 4 bytes after its UDP datagrams inside the
            // fragmented payload (tshark reassembles the same 741 bytes for 737 of UDP), so the
            // length field may be shorter than the datagram but never longer, and the checksum
            // covers the UDP length.
            let udp = &payload[..len.min(payload.len())];
            let ok_udp = common::checksum(src, dst, ip.proto, udp, true) == 0;
            if len > payload.len() || len < 8 {
                Err(format!("udp length {len} vs reassembled {}", payload.len()))
            } else if !zero_sum && !ok_udp {
                Err("bad udp checksum".into())
            } else {
                Ok(())
            }
        }
        6 | 58 => ok(true).then_some(()).ok_or_else(|| "bad checksum".into()),
        1 => ok(false)
            .then_some(())
            .ok_or_else(|| "bad icmp checksum".into()),
        p => Err(format!("protocol {p} not checked")),
    }
}

#[test]
fn reassembly_matches_tshark() {
    let Some(corpus) = pcap_testkit::corpus("defrag_corpus") else {
        return;
    };
    let (mut fragments, mut datagrams, mut verified) = (0, 0, 0);
    let mut problems = Vec::new();
    for cap in corpus.captures() {
        let Some(tsv) = corpus.oracle_tsv(&cap, "packets.tsv") else {
            continue;
        };
        let data = std::fs::read(corpus.capture_path(&cap)).unwrap();
        let Some(frames) = common::read_pcap(&cap, &data) else {
            continue;
        };
        let mut defrag = Defragmenter::default();
        let (mut ours, mut frag_frames) = (BTreeSet::new(), BTreeSet::new());
        for f in &frames {
            let Some(ip) = common::parse_ip(&f.ip) else {
                continue;
            };
            let Some((off, mf, id)) = ip.frag else {
                continue;
            };
            fragments += 1;
            frag_frames.insert(f.number);
            let key = FragKey {
                src: ip.src,
                dst: ip.dst,
                protocol: ip.proto,
                id,
                tunnel: 0,
            };
            match defrag.push(f.ts_ns, key, off, mf, ip.payload) {
                Ok(Some(d)) => {
                    datagrams += 1;
                    ours.insert(f.number);
                    match consistent(&ip, d.payload) {
                        Ok(()) => verified += 1,
                        Err(e) => problems.push(format!("{cap} frame {}: {e}", f.number)),
                    }
                }
                Ok(None) => {}
                Err(e) => problems.push(format!("{cap} frame {}: {e}", f.number)),
            }
        }
        let theirs: BTreeSet<usize> = tsv
            .rows()
            .filter(|r| tshark_reassembled(r.get("frame.protocols")))
            .map(|r| r.get("frame.number").parse().unwrap())
            .filter(|n| frag_frames.contains(n))
            .collect();
        if ours != theirs {
            problems.push(format!(
                "{cap}: completing frames ours {ours:?}, tshark {theirs:?}"
            ));
        }
        if !frag_frames.is_empty() {
            eprintln!(
                "defrag_corpus: {cap}: {} fragments, {} datagrams, stats {:?}",
                frag_frames.len(),
                ours.len(),
                defrag.stats()
            );
        }
    }
    eprintln!(
        "defrag_corpus: {fragments} fragments, {datagrams} datagrams reassembled, {verified} verified, {} problems",
        problems.len()
    );
    for p in &problems {
        eprintln!("  PROBLEM {p}");
    }
    assert!(datagrams >= 10, "too few datagrams: {datagrams}");
    assert!(problems.is_empty());
}
