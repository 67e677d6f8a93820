//! `stats` end to end: a hand-built capture whose every figure follows from how it was
//! built, the options, and the corpus against tshark's own tables (packets.tsv for
//! conversations, endpoints and I/O; http.tsv for methods and status codes).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use pcap_decode::build::{self, FrameSpec, IpSpec, Ipv4Spec, UdpSpec};
use pcap_testkit::h2c::{Ports, session};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");
const MS: i64 = 1_000_000;
const T0: i64 = 1_700_000_000_000_000_000;

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "one JSON document on one line");
    serde_json::from_str(&text).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pcap-cli-stats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The Host both requests carry: a right-to-left override (obs-text to HTTP) that must not
/// reach the terminal.
const HOST: &str = "evil\u{202e}txt.example";

/// The hand-built capture: one HTTP/1.1 session of ten frames (GET answered 404 after 7 ms,
/// POST answered 200 after 25 ms) and one UDP datagram 3 s after the first packet. Returns
/// the path and the frames with their times.
fn capture() -> (PathBuf, Vec<(i64, Vec<u8>)>) {
    let get = format!("GET /a HTTP/1.1\r\nHost: {HOST}\r\n\r\n");
    let post = format!("POST /b HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 2\r\n\r\nhi");
    let frames = session(
        Ports {
            client: 40000,
            server: 80,
        },
        &[
            (true, get.into_bytes()),
            (
                false,
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
            ),
            (true, post.into_bytes()),
            (
                false,
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
            ),
        ],
    );
    // SYN, SYN/ACK, ACK, GET, 404, POST, 200, FIN, FIN, ACK.
    let times_ms = [0, 1, 2, 10, 17, 20, 45, 50, 51, 52];
    assert_eq!(frames.len(), times_ms.len());
    let mut timed: Vec<(i64, Vec<u8>)> =
        times_ms.iter().map(|ms| T0 + ms * MS).zip(frames).collect();
    let udp = build::udp_frame(
        &FrameSpec {
            ip: IpSpec::V4(Ipv4Spec {
                src: [10, 0, 0, 3],
                dst: [10, 0, 0, 1],
                ..Ipv4Spec::default()
            }),
            ..FrameSpec::default()
        },
        &UdpSpec {
            src_port: 5353,
            dst_port: 53,
        },
        b"not really dns",
    );
    timed.push((T0 + 3000 * MS, udp));
    let path = tmp("session.pcap");
    let file = pcap_testkit::ethernet_pcap(timed.iter().map(|(t, f)| (*t, f.as_slice())));
    std::fs::write(&path, file).unwrap();
    (path, timed)
}

fn len(frames: &[(i64, Vec<u8>)], range: std::ops::Range<usize>) -> u64 {
    frames[range].iter().map(|(_, f)| f.len() as u64).sum()
}

#[test]
fn json_figures_follow_from_the_capture() {
    let (path, frames) = capture();
    let doc = json(&run(&[
        "stats",
        "-r",
        path.to_str().unwrap(),
        "--json",
        "-q",
    ]));
    let total = len(&frames, 0..frames.len());
    assert_eq!(doc["packets"], 11);
    assert_eq!(doc["bytes"], total);

    let http = &doc["http"];
    assert_eq!(http["requests"], 2);
    assert_eq!(http["responses"], 2);
    let methods: Vec<(&str, u64)> = http["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["method"].as_str().unwrap(),
                m["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(methods, [("GET", 1), ("POST", 1)]);
    let statuses: Vec<(u64, u64)> = http["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["status"].as_u64().unwrap(),
                s["responses"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, [(200, 1), (404, 1)]);
    let hosts = http["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1);
    let h = &hosts[0];
    assert_eq!(h["host"], HOST);
    assert_eq!(h["requests"], 2);
    assert_eq!(h["latency_count"], 2);
    // Nearest rank over [7 ms, 25 ms]: p50 is rank 1, p90 and p99 rank 2.
    let l = &h["latency_ns"];
    assert_eq!(l["p50"], 7 * MS);
    assert_eq!(l["p90"], 25 * MS);
    assert_eq!(l["p99"], 25 * MS);
    assert_eq!(l["max"], 25 * MS);
    assert_eq!(l["sampled"], false);

    let tcp = doc["conversations"]["tcp"].as_array().unwrap();
    assert_eq!(tcp.len(), 1);
    let c = &tcp[0];
    assert_eq!(c["a"], "10.0.0.1:40000");
    assert_eq!(c["b"], "10.0.0.2:80");
    // Client frames: SYN, ACK, GET, POST, FIN, ACK; server: SYN/ACK, 404, 200, FIN.
    let client = [0, 2, 3, 5, 7, 9];
    let server = [1, 4, 6, 8];
    let sum = |idx: &[usize]| idx.iter().map(|&i| frames[i].1.len() as u64).sum::<u64>();
    assert_eq!(c["a_to_b_packets"], 6);
    assert_eq!(c["a_to_b_bytes"], sum(&client));
    assert_eq!(c["b_to_a_packets"], 4);
    assert_eq!(c["b_to_a_bytes"], sum(&server));
    assert_eq!(c["rel_start_ns"], 0);
    assert_eq!(c["duration_ns"], 52 * MS);
    let udp = doc["conversations"]["udp"].as_array().unwrap();
    assert_eq!(udp.len(), 1);
    assert_eq!(udp[0]["a"], "10.0.0.3:5353");
    assert_eq!(udp[0]["rel_start_ns"], 3000 * MS);

    let eps = doc["endpoints"]["ip"].as_array().unwrap();
    let ep = |a: &str| eps.iter().find(|e| e["address"] == a).unwrap();
    let one = ep("10.0.0.1");
    assert_eq!(one["tx_packets"], 6);
    assert_eq!(one["rx_packets"], 5);
    assert_eq!(one["rx_bytes"], sum(&server) + len(&frames, 10..11));
    assert_eq!(ep("10.0.0.3")["tx_packets"], 1);
    assert_eq!(ep("10.0.0.2")["packets"], 10);

    let io = &doc["io"];
    assert_eq!(io["interval_ns"], 1000 * MS);
    let rows: Vec<(u64, u64)> = io["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["packets"].as_u64().unwrap(), r["bytes"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            (10, len(&frames, 0..10)),
            (0, 0),
            (0, 0),
            (1, len(&frames, 10..11))
        ]
    );
}

#[test]
fn text_tables_escape_the_host_and_state_units() {
    let (path, _) = capture();
    let o = run(&["stats", "-r", path.to_str().unwrap(), "--no-color"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        !text.contains('\u{202e}'),
        "raw override reached the terminal:\n{text}"
    );
    assert!(text.contains("evil\\u{202e}txt.example"), "{text}");
    for heading in [
        "P50 ms",
        "MAX ms",
        "REQ BYTES",
        "BYTES A>B",
        "START s",
        "DURATION s",
        "TX BYTES",
        "FROM s",
    ] {
        assert!(text.contains(heading), "no {heading:?} in:\n{text}");
    }
    // The host row: 2 requests, p50 7 ms, p90 25 ms.
    let row = text.lines().find(|l| l.starts_with("evil")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1], "2");
    assert_eq!(&cells[4..], ["7.000", "25.000", "25.000", "25.000"]);
    // Columns line up: every line of the TCP table has its `PKTS` cell ending where the
    // heading's does.
    let lines: Vec<&str> = text.lines().collect();
    let head = lines.iter().position(|l| l.starts_with("A ")).unwrap();
    let end = lines[head].find("  BYTES  ").unwrap();
    assert!(
        lines[head + 1][..end].ends_with("10"),
        "{}",
        lines[head + 1]
    );
}

#[test]
fn only_picks_sections() {
    let (path, _) = capture();
    let p = path.to_str().unwrap();
    let doc = json(&run(&["stats", "-r", p, "--json", "--only", "conv,io"]));
    assert!(doc.get("http").is_none() && doc.get("endpoints").is_none());
    assert!(doc.get("conversations").is_some() && doc.get("io").is_some());
    let o = run(&["stats", "-r", p, "--only", "http", "--no-color"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("HTTP requests by method") && !text.contains("conversations"));
    let o = run(&["stats", "-r", p, "--only", "dns"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid value 'dns'"));
}

#[test]
fn interval_sets_the_io_rows() {
    let (path, frames) = capture();
    let p = path.to_str().unwrap();
    let doc = json(&run(&[
        "stats",
        "-r",
        p,
        "--json",
        "--only",
        "io",
        "--interval",
        "20ms",
    ]));
    let io = &doc["io"];
    assert_eq!(io["interval_ns"], 20 * MS);
    let rows = io["rows"].as_array().unwrap();
    // 0..=3000 ms in 20 ms rows: 151 rows; frames at 0,1,2,10,17 | 20 | 45,50,51,52.
    assert_eq!(rows.len(), 151);
    let packets: Vec<u64> = rows[..3]
        .iter()
        .map(|r| r["packets"].as_u64().unwrap())
        .collect();
    assert_eq!(packets, [5, 1, 4]);
    assert_eq!(rows[150]["packets"], 1);
    assert_eq!(rows[150]["start_ns"], 3000 * MS);
    let total: u64 = rows.iter().map(|r| r["bytes"].as_u64().unwrap()).sum();
    assert_eq!(total, len(&frames, 0..frames.len()));
    for bad in ["0s", "5", "-1s", "1parsec"] {
        let o = run(&["stats", "-r", p, &format!("--interval={bad}")]);
        assert_eq!(o.status.code(), Some(2), "--interval {bad}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--interval"), "{err}");
    }
}

#[test]
fn an_empty_capture_has_empty_sections() {
    let path = tmp("empty.pcap");
    std::fs::write(&path, pcap_testkit::ethernet_pcap([])).unwrap();
    let doc = json(&run(&["stats", "-r", path.to_str().unwrap(), "--json"]));
    assert_eq!(doc["packets"], 0);
    assert_eq!(doc["first_ts"], Value::Null);
    assert_eq!(doc["io"]["rows"].as_array().unwrap().len(), 0);
    assert_eq!(doc["http"]["hosts"].as_array().unwrap().len(), 0);
}

#[test]
fn a_damaged_capture_prints_what_came_before_then_fails() {
    let (path, frames) = capture();
    let mut bytes = std::fs::read(&path).unwrap();
    // Cut the last record in half.
    bytes.truncate(bytes.len() - frames[10].1.len() / 2);
    let cut = tmp("cut.pcap");
    std::fs::write(&cut, bytes).unwrap();
    let o = run(&["stats", "-r", cut.to_str().unwrap(), "--json", "-q"]);
    assert_eq!(o.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["packets"], 10);
    assert_eq!(doc["http"]["requests"], 2);
    assert_eq!(String::from_utf8_lossy(&o.stderr).lines().count(), 1);
}

/// Which frames tshark saw as what: (proto, src, dst) -> (packets, bytes), endpoint ->
/// (tx packets, tx bytes, rx packets, rx bytes), and all frames.
#[derive(Debug, Default, PartialEq, Eq)]
struct Truth {
    conv: BTreeMap<(String, String, String), (u64, u64)>,
    endpoints: BTreeMap<String, [u64; 4]>,
    packets: u64,
    bytes: u64,
}

/// Socket addresses as Rust writes them (`[v6]:port`).
fn sock(ip: &str, port: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// tshark's view from packets.tsv: endpoints of every IP layer (tunnels' outer headers
/// included, as tshark counts them), conversations of the innermost one.
fn truth(tsv: &pcap_testkit::Tsv) -> Truth {
    let mut t = Truth::default();
    for r in tsv.rows() {
        let len: u64 = r.get("frame.len").parse().unwrap();
        t.packets += 1;
        t.bytes += len;
        let mut layers: Vec<(&str, &str)> = Vec::new();
        for (s, d) in [("ip.src", "ip.dst"), ("ipv6.src", "ipv6.dst")] {
            let pairs = r.get(s).split(',').zip(r.get(d).split(','));
            layers.extend(pairs.filter(|(s, _)| !s.is_empty()));
        }
        for (s, d) in &layers {
            for (ip, at) in [(s, 0), (d, 2)] {
                let e = t.endpoints.entry((*ip).to_owned()).or_default();
                e[at] += 1;
                e[at + 1] += len;
            }
        }
        // The innermost layer: the last IPv6 one, else the last IPv4 one (6in4, Teredo).
        let Some((src, dst)) = layers.last() else {
            continue;
        };
        for proto in ["tcp", "udp"] {
            let sport = r.get(&format!("{proto}.srcport"));
            if !sport.is_empty() {
                let dport = r.get(&format!("{proto}.dstport"));
                let key = (proto.to_owned(), sock(src, sport), sock(dst, dport));
                let c = t.conv.entry(key).or_default();
                c.0 += 1;
                c.1 += len;
            }
        }
    }
    t
}

/// Ours in the same shape, from `stats --json`.
fn ours(doc: &Value) -> Truth {
    let mut t = Truth {
        packets: doc["packets"].as_u64().unwrap(),
        bytes: doc["bytes"].as_u64().unwrap(),
        ..Truth::default()
    };
    for proto in ["tcp", "udp"] {
        for c in doc["conversations"][proto].as_array().unwrap() {
            let (a, b) = (c["a"].as_str().unwrap(), c["b"].as_str().unwrap());
            for (from, to, dir) in [(a, b, "a_to_b"), (b, a, "b_to_a")] {
                let packets = c[format!("{dir}_packets")].as_u64().unwrap();
                if packets > 0 {
                    let bytes = c[format!("{dir}_bytes")].as_u64().unwrap();
                    let key = (proto.to_owned(), from.to_owned(), to.to_owned());
                    t.conv.insert(key, (packets, bytes));
                }
            }
        }
    }
    for e in doc["endpoints"]["ip"].as_array().unwrap() {
        let n = |k: &str| e[k].as_u64().unwrap();
        t.endpoints.insert(
            e["address"].as_str().unwrap().to_owned(),
            [
                n("tx_packets"),
                n("tx_bytes"),
                n("rx_packets"),
                n("rx_bytes"),
            ],
        );
    }
    t
}

/// A frame tshark sees an IP header in that is no layer of the frame: an ICMP error
/// quoting the datagram it is about (ours counts the error, not the quoted header).
fn quotes_a_header(r: &pcap_testkit::RowRef<'_>) -> bool {
    let icmp = r
        .get("icmp.type")
        .split(',')
        .any(|t| matches!(t, "3" | "4" | "5" | "11" | "12"));
    let icmp6 = r
        .get("icmpv6.type")
        .split(',')
        .any(|t| matches!(t, "1" | "2" | "3" | "4"));
    icmp || icmp6
}

/// What packets.tsv lets us compare for a capture: (conversations, endpoints).
///
/// Neither when a frame is a fragment: tshark decodes a reassembled datagram's layers (a
/// tunnel's inner headers, a transport header) in the frame that completes it, ours in
/// none (tunnels) or the first fragment's (transport). Conversations, when no frame has a
/// UDP header and two IP layers (a UDP tunnel's outer header, which tshark counts as a
/// conversation of its own and ours does not). Endpoints, when no frame quotes a header.
fn comparable(tsv: &pcap_testkit::Tsv) -> (bool, bool) {
    let fragment = |r: &pcap_testkit::RowRef<'_>| {
        r.get("ip.flags.mf").split(',').any(|f| f == "1")
            || r.get("ip.frag_offset")
                .split(',')
                .any(|o| !matches!(o, "" | "0"))
            || r.get("ipv6.nxt").split(',').any(|n| n == "44")
    };
    let udp_tunnel = |r: &pcap_testkit::RowRef<'_>| {
        let layers = [r.get("ip.src"), r.get("ipv6.src")]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.split(',').count())
            .sum::<usize>();
        !r.get("udp.srcport").is_empty() && layers > 1
    };
    let conv = tsv
        .rows()
        .all(|r| !fragment(&r) && !udp_tunnel(&r) && !quotes_a_header(&r));
    let endpoints = tsv.rows().all(|r| !fragment(&r) && !quotes_a_header(&r));
    (conv, endpoints)
}

fn stats_json(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["stats", "-r", path.to_str().unwrap(), "--json", "-q"];
    args.extend(extra);
    let o = run(&args);
    // A damaged capture fails after printing what came before the damage.
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: {}",
            path.display(),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Conversations, endpoints and I/O totals equal tshark's, capture by capture.
#[test]
fn corpus_conversations_endpoints_and_io_agree_with_tshark() {
    let Some(corpus) =
        pcap_testkit::corpus("corpus_conversations_endpoints_and_io_agree_with_tshark")
    else {
        return;
    };
    let compared = conversations_agree(&corpus, "");
    assert!(compared > 50, "only {compared} captures compared");
}

/// The tunnels and link types corpus: totals everywhere, conversations and endpoints where
/// a frame has a single IP layer (link types, PPPoE, MPLS, VLAN stacks).
#[test]
fn corpus_tunnels_conversations_endpoints_and_io_agree_with_tshark() {
    let Some(corpus) = pcap_testkit::corpus_tunnels(
        "corpus_tunnels_conversations_endpoints_and_io_agree_with_tshark",
    ) else {
        return;
    };
    let compared = conversations_agree(&corpus, " (tunnels)");
    assert!(compared > 5, "only {compared} captures compared");
}

/// Compares every capture of `corpus` with a packets.tsv; returns how many were compared
/// in full.
fn conversations_agree(corpus: &pcap_testkit::Corpus, label: &str) -> usize {
    let (mut compared, mut skipped, mut mismatched) = (0, Vec::new(), Vec::new());
    for name in corpus.captures() {
        let Some(tsv) = corpus.oracle_tsv(&name, "packets.tsv") else {
            continue;
        };
        // As crates/capture/tests/corpus_allow.txt says: no packets, only four pcapng
        // custom blocks that tshark 4.0 lists as "data" frames.
        if name == "pcapng-suite-be-017.pcapng" {
            continue;
        }
        let doc = stats_json(&corpus.capture_path(&name), &[]);
        let want = truth(&tsv);
        let got = ours(&doc);
        // I/O: every packet in some row, whatever the capture.
        let io_packets: u64 = doc["io"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["packets"].as_u64().unwrap())
            .sum();
        if (got.packets, got.bytes, io_packets) != (want.packets, want.bytes, want.packets) {
            mismatched.push(format!(
                "{name}: packets/bytes/io ours {:?} tshark {:?}",
                (got.packets, got.bytes, io_packets),
                (want.packets, want.bytes)
            ));
            continue;
        }
        let (conv, endpoints) = comparable(&tsv);
        if conv && endpoints {
            compared += 1;
        } else {
            skipped.push(name.clone());
        }
        if conv && got.conv != want.conv {
            mismatched.push(format!(
                "{name}: conversations\n  ours   {:?}\n  tshark {:?}",
                got.conv, want.conv
            ));
        }
        if endpoints && got.endpoints != want.endpoints {
            mismatched.push(format!(
                "{name}: endpoints\n  ours   {:?}\n  tshark {:?}",
                got.endpoints, want.endpoints
            ));
        }
    }
    eprintln!(
        "stats vs tshark packets.tsv{label}: {compared} captures compared in full, {} in part \
         (fragments, UDP tunnels or ICMP errors: {skipped:?}), {} mismatches",
        skipped.len(),
        mismatched.len()
    );
    assert!(mismatched.is_empty(), "{}", mismatched.join("\n"));
    compared
}

/// Requests per method and responses per status code: tshark's http.tsv rows.
fn http_counts(tsv: &pcap_testkit::Tsv) -> (BTreeMap<String, u64>, BTreeMap<u64, u64>) {
    let (mut methods, mut statuses) = (BTreeMap::new(), BTreeMap::new());
    for r in tsv.rows() {
        if r.get("kind") == "request" {
            *methods
                .entry(r.get("http.request.method").to_owned())
                .or_default() += 1;
        } else {
            *statuses
                .entry(r.get("http.response.code").parse().unwrap())
                .or_default() += 1;
        }
    }
    (methods, statuses)
}

fn our_http_counts(doc: &Value) -> (BTreeMap<String, u64>, BTreeMap<u64, u64>) {
    let http = &doc["http"];
    let methods = http["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["method"].as_str().unwrap().to_owned(),
                m["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    let statuses = http["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["status"].as_u64().unwrap(),
                s["responses"].as_u64().unwrap(),
            )
        })
        .collect();
    (methods, statuses)
}

/// Every capture with an http.tsv oracle, but those `http-trace` already lists as
/// disagreeing with tshark for known reasons (http_trace_allow.tsv says why).
#[test]
fn corpus_methods_and_statuses_agree_with_tshark() {
    let Some(corpus) = pcap_testkit::corpus("corpus_methods_and_statuses_agree_with_tshark") else {
        return;
    };
    let allow: Vec<&str> = include_str!("http_trace_allow.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next())
        .collect();
    let (mut compared, mut rows, mut mismatched) = (0, 0, Vec::new());
    for name in corpus.captures() {
        let Some(tsv) = corpus.oracle_tsv(&name, "http.tsv") else {
            continue;
        };
        if allow.contains(&name.as_str()) {
            continue;
        }
        compared += 1;
        rows += tsv.len();
        let got = our_http_counts(&stats_json(&corpus.capture_path(&name), &[]));
        let want = http_counts(&tsv);
        if got != want {
            mismatched.push(format!("{name}:\n  ours   {got:?}\n  tshark {want:?}"));
        }
    }
    eprintln!(
        "stats http vs tshark: {compared} captures, {rows} oracle rows, {} mismatches",
        mismatched.len()
    );
    assert!(compared > 30, "only {compared} captures compared");
    assert!(mismatched.is_empty(), "{}", mismatched.join("\n"));
}

/// HTTPS and HTTP/2: the TLS corpus decrypted with each capture's key log gives tshark's
/// methods and status codes (tshark decrypting with the same keys).
#[test]
fn corpus_tls_methods_and_statuses_agree_with_tshark() {
    let Some(corpus) =
        pcap_testkit::corpus_tls("corpus_tls_methods_and_statuses_agree_with_tshark")
    else {
        return;
    };
    let (mut compared, mut mismatched) = (0, Vec::new());
    for name in corpus.captures() {
        let (Some(tsv), Some(keys)) = (
            corpus.oracle_tsv(&name, "http.tsv"),
            corpus.keys_path(&name),
        ) else {
            continue;
        };
        compared += 1;
        let doc = stats_json(
            &corpus.capture_path(&name),
            &["--keylog", keys.to_str().unwrap(), "--only", "http"],
        );
        let got = our_http_counts(&doc);
        let want = http_counts(&tsv);
        if got != want {
            mismatched.push(format!("{name}:\n  ours   {got:?}\n  tshark {want:?}"));
        }
    }
    eprintln!(
        "stats https vs tshark: {compared} captures, {} mismatches",
        mismatched.len()
    );
    assert!(compared > 0);
    assert!(mismatched.is_empty(), "{}", mismatched.join("\n"));
}

/// The README's `stats --only http` example is what the command prints (up to its `...`).
#[test]
fn readme_example_is_current() {
    let readme = std::fs::read_to_string(pcap_testkit::workspace_root().join("README.md")).unwrap();
    let command = "$ pcap-cli stats -r tests/data/sample-http-ws.pcap --only http\n";
    let start = readme.find(command).expect("README has the stats example") + command.len();
    let shown: Vec<&str> = readme[start..]
        .lines()
        .take_while(|l| *l != "..." && *l != "```")
        .collect();
    let sample = pcap_testkit::test_data("sample-http-ws.pcap");
    let o = run(&[
        "stats",
        "-r",
        sample.to_str().unwrap(),
        "--only",
        "http",
        "-q",
    ]);
    let text = String::from_utf8(o.stdout).unwrap();
    let printed: Vec<&str> = text.lines().take(shown.len()).collect();
    assert_eq!(printed, shown);
}

/// Live on `lo`, as root: requests made while `stats` runs are counted, and Ctrl-C prints
/// the tables.
#[test]
fn live_stats_print_at_ctrl_c() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::process::Stdio;

    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIPPED live_stats_print_at_ctrl_c: live capture needs root");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut child = Command::new(BIN)
        .args(["stats", "-i", "lo", "--json", "--only", "http,conv", "-f"])
        .arg(format!("tcp port {port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    if first.contains("permission") || first.contains("no such device") {
        let _ = child.kill();
        let _ = child.wait();
        eprintln!("SKIPPED live_stats_print_at_ctrl_c: {first}");
        return;
    }
    assert!(first.contains("listening on lo"), "{first}");
    let server = std::thread::spawn(move || {
        for stream in listener.incoming().take(3) {
            let mut stream = stream.unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                head.push(byte[0]);
            }
            let status = if head.starts_with(b"GET /missing") {
                "404 Not Found"
            } else {
                "200 OK"
            };
            write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
        }
    });
    for path in ["/a", "/b", "/missing"] {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: live.test\r\n\r\n").unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
    }
    server.join().unwrap();
    // Nothing is printed before the end, so give the capture time to see the packets.
    std::thread::sleep(Duration::from_secs(2));
    let pid = child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "exit {status:?}: {rest}");
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(doc["http"]["requests"], 3, "{stdout}");
    let statuses: Vec<(u64, u64)> = doc["http"]["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["status"].as_u64().unwrap(),
                s["responses"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, [(200, 2), (404, 1)]);
    assert_eq!(doc["http"]["hosts"][0]["host"], "live.test");
    assert_eq!(doc["conversations"]["tcp"].as_array().unwrap().len(), 3);
}
