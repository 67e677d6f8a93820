//! Differential test against tshark: every TCP session's two directions, reassembled, match
//! `oracle/NAME/streams.tsv` (client, server, byte counts and sha256 of `follow,tcp,raw`).
//!
//! Packets are read with `pcap-capture`, decoded with `pcap-decode` and turned into
//! segments with [`Segment::from_decoded`].
//! Mismatches not listed with a reason in `corpus_allow.tsv` fail the test.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use pcap_capture::FileReader;
use pcap_decode::decode_packet;
use pcap_tcp_reassembly::{Direction, Event, EventKind, PerDir, Reassembler, Segment};
use sha2::{Digest, Sha256};

/// Calls `f` with the frame number (from 1) and segment of every TCP packet in a capture,
/// in capture order; reading stops at the first damage, as tshark's does.
fn for_each_segment(path: &std::path::Path, mut f: impl FnMut(usize, &Segment<'_>)) {
    let Ok(mut reader) = FileReader::open(path) else {
        return;
    };
    let mut frame = 0;
    while let Ok(Some(p)) = reader.next_packet() {
        frame += 1;
        let d = decode_packet(p.link_type, p.data);
        if let Some(seg) = Segment::from_decoded(p.ts_ns, &d) {
            f(frame, &seg);
        }
    }
}

/// One session as we reassembled it.
#[derive(Debug, Default)]
struct Stream {
    client: String,
    server: String,
    bytes: PerDir<Vec<u8>>,
    /// Bytes delivered before the first gap, per direction (None: no gap).
    before_gap: PerDir<Option<usize>>,
}

/// Reassembles a capture's segments into per-session streams, gaps skipped as tshark's
/// `follow,tcp,raw` skips missing bytes.
fn reassemble(path: &std::path::Path) -> BTreeMap<u64, Stream> {
    let mut out: BTreeMap<u64, Stream> = BTreeMap::new();
    let mut sink = |e: Event<'_>| match e.kind {
        EventKind::Start { client, server, .. } => {
            let s = out.entry(e.session).or_default();
            s.client = client.to_string();
            s.server = server.to_string();
        }
        EventKind::Data { dir, bytes, .. } => {
            out.entry(e.session).or_default().bytes[dir].extend_from_slice(bytes);
        }
        EventKind::Gap { dir, .. } => {
            let s = out.entry(e.session).or_default();
            s.before_gap[dir].get_or_insert(s.bytes[dir].len());
        }
        _ => {}
    };
    let mut r = Reassembler::default();
    for_each_segment(path, |_, seg| {
        r.push(seg, &mut sink);
    });
    r.finish(&mut sink);
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Compares our streams with the oracle rows; returns (streams compared, mismatch lines).
fn compare(
    name: &str,
    ours: &BTreeMap<u64, Stream>,
    oracle: &pcap_testkit::Tsv,
    ports_only: bool,
) -> (usize, Vec<String>) {
    // tshark names a tunnelled session by its outer addresses (the first `ip.src`): then
    // only the ports can be compared.
    let port = |e: &str| e.rsplit(':').next().unwrap_or("").to_owned();
    let same = |a: &str, b: &str| {
        if ports_only {
            port(a) == port(b)
        } else {
            a == b
        }
    };
    let mut bad = Vec::new();
    let mut n = 0;
    for row in oracle.rows() {
        n += 1;
        let id: u64 = row.get("tcp.stream").parse().unwrap_or(u64::MAX);
        let Some(s) = ours.get(&id) else {
            bad.push(format!("{name}\t{id}\tmissing session"));
            continue;
        };
        let mut what = Vec::new();
        if !same(&s.client, row.get("client")) || !same(&s.server, row.get("server")) {
            what.push(format!(
                "endpoints {} -> {} (tshark {} -> {})",
                s.client,
                s.server,
                row.get("client"),
                row.get("server")
            ));
        }
        let mut stops_at_gap = false;
        for d in Direction::BOTH {
            let dir = d.as_str();
            let want_len = row.get(&format!("{dir}_bytes"));
            let want_sha = row.get(&format!("{dir}_sha256"));
            let len = s.bytes[d].len().to_string();
            if len == want_len && sha256_hex(&s.bytes[d]) == want_sha {
                continue;
            }
            // tshark's follow stops at the first hole when out-of-order reassembly is off
            // (decode_as.tsv): then its bytes must be exactly ours before our first gap.
            let prefix = s.before_gap[d].and_then(|p| s.bytes[d].get(..p));
            if prefix.is_some_and(|p| p.len().to_string() == want_len && sha256_hex(p) == want_sha)
            {
                stops_at_gap = true;
                continue;
            }
            what.push(format!("{dir} {len} bytes (tshark {want_len})"));
        }
        if !what.is_empty() {
            bad.push(format!("{name}\t{id}\t{}", what.join("; ")));
        } else if stops_at_gap {
            bad.push(format!("{name}\tstops-at-gap\tsession {id}"));
        }
    }
    let extra = ours.len().saturating_sub(oracle.len());
    if extra > 0 {
        bad.push(format!(
            "{name}\t-\t{extra} more sessions than tshark ({} vs {})",
            ours.len(),
            oracle.len()
        ));
    }
    (n, bad)
}

/// `capture\tstream\treason` lines: known, explained disagreements.
fn allow_list() -> HashMap<(String, String), String> {
    parse_allow(include_str!("corpus_allow.tsv"))
}

fn parse_allow(text: &str) -> HashMap<(String, String), String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            Some((
                (f.next()?.to_owned(), f.next()?.to_owned()),
                f.next()?.to_owned(),
            ))
        })
        .collect()
}

#[test]
fn corpus_streams_match_tshark() {
    let Some(corpus) = pcap_testkit::corpus("corpus_streams_match_tshark") else {
        return;
    };
    streams_match(&corpus, &allow_list(), "corpus_allow.tsv", false);
}

/// The tunnels corpus: sessions are those of the innermost TCP, keyed with their tunnel.
#[test]
fn corpus_tunnels_streams_match_tshark() {
    let Some(corpus) = pcap_testkit::corpus_tunnels("corpus_tunnels_streams_match_tshark") else {
        return;
    };
    let allow = parse_allow(include_str!("tunnels_allow.tsv"));
    streams_match(&corpus, &allow, "tunnels_allow.tsv", true);
}

/// Every capture's reassembled sessions against its `streams.tsv`.
fn streams_match(
    corpus: &pcap_testkit::Corpus,
    allow: &HashMap<(String, String), String>,
    allow_file: &str,
    ports_only: bool,
) {
    let (mut captures, mut compared, mut allowed) = (0, 0, 0);
    let mut clean = 0;
    let mut failures = Vec::new();
    for name in corpus.captures() {
        let Some(oracle) = corpus.oracle_tsv(&name, "streams.tsv") else {
            continue;
        };
        let ours = reassemble(&corpus.capture_path(&name));
        let (n, bad) = compare(&name, &ours, &oracle, ports_only);
        captures += 1;
        compared += n;
        if bad.is_empty() {
            clean += 1;
        }
        for line in bad {
            let mut f = line.splitn(3, '\t');
            let key = (
                f.next().unwrap_or("").to_owned(),
                f.next().unwrap_or("").to_owned(),
            );
            if allow.contains_key(&key) {
                allowed += 1;
            } else {
                failures.push(line);
            }
        }
    }
    eprintln!(
        "corpus streams: {captures} captures ({clean} all sessions matching), {compared} \
         sessions compared, {} mismatches ({allowed} allow-listed in {allow_file}, {} \
         unexplained)",
        failures.len() + allowed,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "unexplained mismatches:\n{}",
        failures.join("\n")
    );
}

/// Per-frame agreement with `tcp_events.tsv`: the session each TCP frame belongs to
/// (tshark's `tcp.stream`), and the keep-alive and retransmission flags.
#[test]
fn corpus_frames_match_tshark_tcp_events() {
    let Some(corpus) = pcap_testkit::corpus("corpus_frames_match_tshark_tcp_events") else {
        return;
    };
    let allow = allow_list();
    let (mut frames, mut allowed) = (0usize, 0usize);
    let mut failures = Vec::new();
    // Flags are compared for information: tshark's retransmission heuristics (timing,
    // window) differ from ours by design.
    let mut flag_stats = [[0usize; 4]; 2]; // [keep-alive, retransmission] x [both, only ours, only tshark, neither]
    for name in corpus.captures() {
        let Some(oracle) = corpus.oracle_tsv(&name, "tcp_events.tsv") else {
            continue;
        };
        let want: HashMap<usize, (String, bool, bool)> = oracle
            .rows()
            .map(|r| {
                let rexmit = [
                    "retransmission",
                    "fast_retransmission",
                    "spurious_retransmission",
                ]
                .iter()
                .any(|c| r.get(c) == "1");
                (
                    r.get("frame.number").parse().unwrap_or(0),
                    (
                        r.get("tcp.stream").to_owned(),
                        r.get("keep_alive") == "1",
                        rexmit,
                    ),
                )
            })
            .collect();
        let mut r = Reassembler::default();
        let seen = std::cell::Cell::new((false, false));
        let mut sink = |e: Event<'_>| match e.kind {
            EventKind::KeepAlive { .. } => seen.set((true, seen.get().1)),
            EventKind::Retransmission { .. } | EventKind::SynRetry { .. } => {
                seen.set((seen.get().0, true))
            }
            _ => {}
        };
        let mut bad = 0;
        for_each_segment(&corpus.capture_path(&name), |frame, seg| {
            seen.set((false, false));
            let got = r.push(seg, &mut sink);
            let seen = seen.get();
            let Some((stream, ka, rx)) = want.get(&frame) else {
                return;
            };
            frames += 1;
            if got.session.to_string() != *stream {
                bad += 1;
                if bad <= 3 {
                    failures.push(format!(
                        "{name}\tframe {}\tsession {} (tshark {stream})",
                        frame, got.session
                    ));
                }
            }
            for (k, (ours, theirs)) in [(seen.0, *ka), (seen.1, *rx)].into_iter().enumerate() {
                let cell = match (ours, theirs) {
                    (true, true) => 0,
                    (true, false) => 1,
                    (false, true) => 2,
                    (false, false) => 3,
                };
                flag_stats[k][cell] += 1;
            }
        });
        r.finish(&mut sink);
        if bad > 0 && allow.contains_key(&(name.clone(), "frames".to_owned())) {
            allowed += bad;
            failures.retain(|l| !l.starts_with(&format!("{name}\t")));
        }
    }
    eprintln!(
        "corpus tcp frames: {frames} frames compared, {} session mismatches shown, {allowed} allow-listed",
        failures.len()
    );
    for (k, what) in ["keep-alive", "retransmission"].iter().enumerate() {
        let [both, ours, theirs, _] = flag_stats[k];
        eprintln!("  {what}: {both} both, {ours} only ours, {theirs} only tshark (informational)");
    }
    assert!(
        failures.is_empty(),
        "frames in another session than tshark's:\n{}",
        failures.join("\n")
    );
}
