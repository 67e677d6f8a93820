//! ICMP, ICMPv6 and IGMP as tcpdump words them: each row of `icmp_tcpdump.tsv` is the text
//! `tcpdump -nn -r CAPTURE` (4.99.3) printed for one frame of a corpus capture, from
//! `ICMP`/`ICMP6,`/`igmp` on (at most 40 frames per capture), and `capture`'s line for that
//! frame must end with exactly that text.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use pcap_capture::FileReader;
use pcap_cli::render::write_summary;
use pcap_decode::decode_packet;
use pcap_testkit::Corpus;

/// The table's rows: capture name, frame number (from 1), tcpdump's text.
fn table() -> Vec<(String, u64, String)> {
    let text = include_str!("icmp_tcpdump.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let mut f = l.splitn(3, '\t');
            let (name, frame, want) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            (name.to_owned(), frame.parse().unwrap(), want.to_owned())
        })
        .collect()
}

/// The summary line of every frame in `rows`' captures found in `corpus`, by (capture, frame).
fn lines(corpus: &Corpus, rows: &[(String, u64, String)]) -> HashMap<(String, u64), String> {
    let mut wanted: HashMap<&str, Vec<u64>> = HashMap::new();
    for (name, frame, _) in rows {
        wanted.entry(name).or_default().push(*frame);
    }
    let mut out = HashMap::new();
    for name in corpus.captures() {
        let Some(frames) = wanted.get(name.as_str()) else {
            continue;
        };
        let mut reader = FileReader::open(corpus.capture_path(&name)).unwrap();
        let mut n = 0u64;
        while let Ok(Some(pkt)) = reader.next_packet() {
            n += 1;
            if frames.contains(&n) {
                let mut line = String::new();
                write_summary(&mut line, &decode_packet(pkt.link_type, pkt.data)).unwrap();
                out.insert((name.clone(), n), line);
            }
        }
    }
    out
}

#[test]
fn icmp_icmpv6_and_igmp_lines_match_tcpdump() {
    let rows = table();
    let mut checked = 0;
    for corpus in [
        pcap_testkit::corpus("icmp_icmpv6_and_igmp_lines_match_tcpdump"),
        pcap_testkit::corpus_tunnels("icmp_icmpv6_and_igmp_lines_match_tcpdump"),
    ]
    .into_iter()
    .flatten()
    {
        let lines = lines(&corpus, &rows);
        let present = corpus.captures();
        for (name, frame, want) in rows.iter().filter(|r| present.contains(&r.0)) {
            let line = lines
                .get(&(name.clone(), *frame))
                .unwrap_or_else(|| panic!("{name} has no frame {frame}"));
            assert!(
                line.ends_with(&format!(" {want}")),
                "{name} frame {frame}:\n  ours:    {line}\n  tcpdump: {want}"
            );
            checked += 1;
        }
    }
    eprintln!("{checked} ICMP/ICMPv6/IGMP lines checked against tcpdump");
}
