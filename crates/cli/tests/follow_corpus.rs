//! The CLI end to end on the shared corpus:
//! - `follow` and `flows --json` against tshark's `streams.tsv` (per session: client,
//!   server, and the length and sha256 of each direction's reassembled bytes from
//!   `tshark -z follow,tcp,raw`); mismatches not listed in `follow_allow.tsv` (capture,
//!   stream or `*`, kind, reason) fail;
//! - `grep` against the Host headers of tshark's `http.tsv`;
//! - every capture through every session subcommand, ending cleanly.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");

/// `(capture, stream or "*", kind) -> reason`, from `follow_allow.tsv`.
fn allow_list() -> HashMap<(String, String, String), String> {
    let text = include_str!("follow_allow.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.splitn(4, '\t').collect();
            let [capture, stream, kind, reason] = cells[..] else {
                panic!("allow-list line needs 4 tab-separated cells: {l}");
            };
            assert!(
                !reason.trim().is_empty(),
                "allow-list line without reason: {l}"
            );
            assert!(
                kind == GAP_PREFIX || stream != "*",
                "only {GAP_PREFIX} may be allowed for a whole capture: {l}"
            );
            let key = (capture.to_owned(), stream.to_owned(), kind.to_owned());
            (key, reason.to_owned())
        })
        .collect()
}

/// Mismatch kind: a session with gaps where tshark's bytes are our prefix (tshark's follow
/// stops at the first missing segment).
const GAP_PREFIX: &str = "gap-prefix";
/// Mismatch kind: anything else.
const OTHER: &str = "other";

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// Endpoints compared as socket addresses: tshark writes IPv6 as `[ADDR]:PORT` or
/// `ADDR:PORT` depending on the capture, ours are always `[ADDR]:PORT`.
fn endpoint(s: &str) -> Option<SocketAddr> {
    s.parse().ok().or_else(|| {
        let (ip, port) = s.rsplit_once(':')?;
        Some(SocketAddr::new(ip.parse().ok()?, port.parse().ok()?))
    })
}

fn json_endpoint(v: &serde_json::Value) -> Option<SocketAddr> {
    endpoint(v.as_str()?)
}

#[test]
fn follow_and_flows_agree_with_tshark_streams() {
    let Some(corpus) = pcap_testkit::corpus("follow_and_flows_agree_with_tshark_streams") else {
        return;
    };
    let allow = allow_list();
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("follow_corpus");
    let _ = std::fs::remove_dir_all(&tmp);
    let mut captures = 0;
    let mut compared = 0;
    let mut holed = 0;
    let mut mismatches: Vec<String> = Vec::new();
    let mut allowed: Vec<String> = Vec::new();
    for name in corpus.captures() {
        let Some(streams) = corpus.oracle_tsv(&name, "streams.tsv") else {
            continue;
        };
        captures += 1;
        let capture = corpus.capture_path(&name);
        let dir = tmp.join(&name);
        let follow = Command::new(BIN)
            .arg("follow")
            .arg("-r")
            .arg(&capture)
            .arg("-o")
            .arg(&dir)
            .output()
            .unwrap();
        let index_text = std::fs::read_to_string(dir.join("index.jsonl")).unwrap_or_default();
        let index: BTreeMap<u64, serde_json::Value> = json_lines(&index_text)
            .into_iter()
            .map(|v| (v["stream"].as_u64().unwrap(), v))
            .collect();
        let flows = Command::new(BIN)
            .args(["flows", "--json", "-r"])
            .arg(&capture)
            .output()
            .unwrap();
        let flows = json_lines(&String::from_utf8_lossy(&flows.stdout));

        let mut report = |stream: &str, kind: &str, what: String| {
            let line = format!("{name}\t{stream}\t{what}");
            let key_stream = (name.clone(), stream.to_owned(), kind.to_owned());
            let key_all = (name.clone(), "*".to_owned(), kind.to_owned());
            match allow.get(&key_stream).or_else(|| allow.get(&key_all)) {
                Some(reason) => allowed.push(format!("{line} (allowed: {reason})")),
                None => mismatches.push(line),
            }
        };
        if !follow.status.success() && follow.status.code() != Some(2) {
            report("*", OTHER, format!("follow exited with {}", follow.status));
        }
        if flows.len() != streams.len() {
            report(
                "*",
                OTHER,
                format!("flows: {} sessions, tshark {}", flows.len(), streams.len()),
            );
        }
        if index.len() != streams.len() {
            report(
                "*",
                OTHER,
                format!("index: {} sessions, tshark {}", index.len(), streams.len()),
            );
        }
        for row in streams.rows() {
            compared += 1;
            let id: u64 = row.get("tcp.stream").parse().unwrap();
            let stream = id.to_string();
            let want_ends = (endpoint(row.get("client")), endpoint(row.get("server")));
            if let Some(f) = flows.iter().find(|f| f["stream"].as_u64() == Some(id)) {
                let got = (json_endpoint(&f["client"]), json_endpoint(&f["server"]));
                if got != want_ends {
                    report(
                        &stream,
                        OTHER,
                        format!("flows endpoints {got:?}, tshark {want_ends:?}"),
                    );
                }
            } else {
                report(&stream, OTHER, "missing from flows --json".to_owned());
            }
            let Some(entry) = index.get(&id) else {
                report(&stream, OTHER, "missing from index.jsonl".to_owned());
                continue;
            };
            let got = (
                json_endpoint(&entry["client"]),
                json_endpoint(&entry["server"]),
            );
            if got != want_ends {
                report(
                    &stream,
                    OTHER,
                    format!("index endpoints {got:?}, tshark {want_ends:?}"),
                );
            }
            for side in ["c2s", "s2c"] {
                let bytes = match entry[format!("{side}_file")].as_str() {
                    Some(file) => std::fs::read(dir.join(file))
                        .unwrap_or_else(|e| panic!("{name} stream {id}: {file}: {e}")),
                    None => Vec::new(),
                };
                let want_len: u64 = row.get(&format!("{side}_bytes")).parse().unwrap();
                let want_sha = row.get(&format!("{side}_sha256"));
                if bytes.len() as u64 == want_len && sha256_hex(&bytes) == want_sha {
                    continue;
                }
                // tshark's follow leaves out the bytes it never saw (a segment cut by the
                // snapshot length gives its captured part); our file has a hole there, listed
                // in the index. Without the holes, the bytes must be tshark's.
                if let Some(data) = without_holes(&bytes, &entry[format!("{side}_holes")]) {
                    if entry.get(format!("{side}_holes_unlisted")).is_none()
                        && data.len() as u64 == want_len
                        && sha256_hex(&data) == want_sha
                    {
                        holed += 1;
                        continue;
                    }
                }
                // tshark's follow stops at the first missing segment; our file goes on past
                // it with a zero-filled hole. Check that tshark's bytes are our prefix.
                let prefix = usize::try_from(want_len).unwrap_or(usize::MAX);
                let gaps = entry["gaps"].as_u64().unwrap_or(0);
                let (kind, what) = match bytes.get(..prefix) {
                    Some(p) if gaps > 0 && sha256_hex(p) == want_sha => (
                        GAP_PREFIX,
                        format!(
                            "{side}: gap session, tshark's {want_len} bytes are the prefix of our {}",
                            bytes.len()
                        ),
                    ),
                    _ => (
                        OTHER,
                        format!(
                            "{side}: {} bytes, tshark {want_len} (sha256 {})",
                            bytes.len(),
                            if sha256_hex(&bytes) == want_sha {
                                "same"
                            } else {
                                "differs"
                            }
                        ),
                    ),
                };
                report(&stream, kind, what);
            }
        }
    }
    eprintln!(
        "follow corpus: {captures} captures, {compared} sessions compared, {holed} directions \
         equal once the holes are removed, {} mismatches, {} allowed",
        mismatches.len(),
        allowed.len()
    );
    for a in &allowed {
        eprintln!("  {a}");
    }
    for m in &mismatches {
        eprintln!("MISMATCH {m}");
    }
    assert!(mismatches.is_empty(), "{} mismatches", mismatches.len());
}

/// The file's bytes with the holes listed in the index (`[[offset, len], ...]`) cut out;
/// `None` when the list is malformed or points past the file.
fn without_holes(file: &[u8], holes: &serde_json::Value) -> Option<Vec<u8>> {
    let mut data = Vec::with_capacity(file.len());
    let mut at = 0usize;
    for hole in holes.as_array()? {
        let offset = usize::try_from(hole.get(0)?.as_u64()?).ok()?;
        let len = usize::try_from(hole.get(1)?.as_u64()?).ok()?;
        data.extend_from_slice(file.get(at..offset)?);
        at = offset.checked_add(len)?;
    }
    data.extend_from_slice(file.get(at.min(file.len())..)?);
    Some(data)
}

/// The line every run ends with on stderr, e.g. `pcap-cli: 12 packets, 1 TCP session`.
fn is_closing(line: &str) -> bool {
    line.strip_prefix("pcap-cli: ").is_some_and(|rest| {
        rest.starts_with(|c: char| c.is_ascii_digit()) && rest.contains(" packet")
    })
}

/// Every corpus capture, damaged ones included: `grep` (both modes), `flows` and `follow`
/// end with exit code 0 (or 1: grep found nothing) and their closing line, or 2 and one
/// error line on stderr (after the closing line when packets were read); never a panic.
#[test]
fn every_corpus_capture_ends_cleanly() {
    let Some(corpus) = pcap_testkit::corpus("every_corpus_capture_ends_cleanly") else {
        return;
    };
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus_clean");
    let _ = std::fs::remove_dir_all(&tmp);
    let mut runs = 0;
    let mut failures = Vec::new();
    for name in corpus.captures() {
        let capture = corpus.capture_path(&name);
        let capture = capture.to_str().unwrap();
        let out = tmp.join(&name);
        let out = out.to_str().unwrap();
        let commands: [&[&str]; 5] = [
            &["grep", "(?i)http|host|\\x00\\x00", "-r", capture],
            &["grep", "--packet", "--json", "GET|POST", "-r", capture],
            &["flows", "-r", capture],
            &["flows", "--json", "-r", capture],
            &["follow", "-r", capture, "-o", out],
        ];
        for args in commands {
            runs += 1;
            let o = Command::new(BIN).args(args).output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            // The closing line (packets, sessions, ...) aside, and the warning about packets
            // cut by the snapshot length.
            let closing = err.lines().filter(|l| is_closing(l)).count();
            let rest = err
                .lines()
                .filter(|l| !is_closing(l) && !l.contains("cut by the snapshot length"))
                .count();
            let ok = match o.status.code() {
                Some(0) => closing == 1 && rest == 0,
                // grep found nothing.
                Some(1) if args[0] == "grep" => closing == 1 && rest == 0,
                // A file that cannot be opened ends with its error alone.
                Some(2) => closing <= 1 && rest == 1,
                _ => false,
            };
            if !ok {
                failures.push(format!("{args:?}: {} {err}", o.status));
            }
        }
    }
    eprintln!("corpus runs: {runs}, failures: {}", failures.len());
    for f in &failures {
        eprintln!("FAILED {f}");
    }
    assert!(failures.is_empty());
}

/// `grep` against tshark's HTTP decoding: every request tshark decoded with a Host header
/// (`http.tsv`) must be found by `grep '(?i)\nhost:'` in the same stream, so per stream our
/// count is at least tshark's. It may be higher: grep matches bytes, and tshark does not
/// decode requests with a malformed request line or those past a missing segment.
#[test]
fn grep_finds_every_host_header_tshark_decoded() {
    let Some(corpus) = pcap_testkit::corpus("grep_finds_every_host_header_tshark_decoded") else {
        return;
    };
    let (mut captures, mut streams, mut tshark_total, mut ours_total) = (0, 0, 0u64, 0u64);
    let mut more = 0;
    let mut mismatches = Vec::new();
    for name in corpus.captures() {
        let Some(http) = corpus.oracle_tsv(&name, "http.tsv") else {
            continue;
        };
        captures += 1;
        let mut want: BTreeMap<u64, u64> = BTreeMap::new();
        for row in http.rows() {
            if row.get("kind") == "request" && !row.get("http.host").is_empty() {
                *want
                    .entry(row.get("tcp.stream").parse().unwrap())
                    .or_default() += 1;
            }
        }
        let o = Command::new(BIN)
            .args(["grep", "--json", "(?i)\\nhost:", "-r"])
            .arg(corpus.capture_path(&name))
            .output()
            .unwrap();
        let mut got: BTreeMap<u64, u64> = BTreeMap::new();
        for hit in json_lines(&String::from_utf8_lossy(&o.stdout)) {
            *got.entry(hit["stream"].as_u64().unwrap()).or_default() += 1;
        }
        for (stream, &n) in &want {
            streams += 1;
            tshark_total += n;
            let ours = got.get(stream).copied().unwrap_or(0);
            ours_total += ours;
            if ours < n {
                mismatches.push(format!("{name} stream {stream}: grep {ours}, tshark {n}"));
            } else if ours > n {
                more += 1;
            }
        }
    }
    eprintln!(
        "grep corpus: {captures} captures, {streams} streams with requests, {tshark_total} Host \
         headers decoded by tshark, {ours_total} found by grep in those streams ({more} streams \
         with more), {} mismatches",
        mismatches.len()
    );
    for m in &mismatches {
        eprintln!("MISMATCH {m}");
    }
    assert!(mismatches.is_empty());
}
