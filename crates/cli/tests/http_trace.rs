//! `pcap-cli http-trace` end to end: the binary on the repository's sample capture (checked
//! against the generator's truth files), each option, bad input, and the shared corpus
//! (checked against tshark's `http.tsv`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn pcap_cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("pcap-cli runs")
}

fn sample() -> String {
    pcap_testkit::test_data("sample-http-ws.pcap")
        .to_string_lossy()
        .into_owned()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "pcap-cli failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
        .collect()
}

/// (method, host, uri, status) of one transaction.
type Tx = (String, String, String, u64);

/// Every transaction in the generator's `.tx.tsv`, sorted.
fn truth_transactions() -> Vec<Tx> {
    let tsv = pcap_testkit::Tsv::load(&pcap_testkit::test_data("sample-http-ws.pcap.tx.tsv"));
    let mut v: Vec<_> = tsv
        .rows()
        .map(|r| {
            (
                r.get("method").to_owned(),
                r.get("host").to_owned(),
                r.get("uri").to_owned(),
                r.get("status").parse().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers.as_array()?.iter().find_map(|pair| {
        let pair = pair.as_array()?;
        pair.first()?
            .as_str()?
            .eq_ignore_ascii_case(name)
            .then(|| pair.get(1)?.as_str())?
    })
}

#[test]
fn json_transactions_match_the_generator_truth() {
    let lines = json_lines(&pcap_cli(&["http-trace", "-r", &sample(), "--json"]));
    let mut got: Vec<_> = lines
        .iter()
        .filter(|l| l["type"] == "http")
        .map(|l| {
            let req = &l["request"];
            (
                req["method"].as_str().unwrap().to_owned(),
                header(&req["headers"], "host").unwrap().to_owned(),
                req["uri"].as_str().unwrap().to_owned(),
                l["response"]["status"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, truth_transactions());

    // Decoded response body bytes add up to the truth file's total.
    let decoded: u64 = lines
        .iter()
        .filter(|l| l["type"] == "http")
        .map(|l| l["response"]["body_len"].as_u64().unwrap())
        .sum();
    assert_eq!(decoded, 6084);
    // WebSocket: 7 + 20 data messages, 3 pings, 3 pongs, 4 closes.
    let ws: Vec<_> = lines.iter().filter(|l| l["type"] == "websocket").collect();
    let count = |op: &str| ws.iter().filter(|l| l["opcode"] == op).count();
    assert_eq!(count("text") + count("binary"), 27);
    assert_eq!((count("ping"), count("pong"), count("close")), (3, 3, 4));
    for l in &ws {
        assert_eq!(l["server"].as_str().unwrap().rsplit(':').next(), Some("80"));
    }
}

#[test]
fn human_output_has_one_block_per_transaction() {
    let out = stdout(&pcap_cli(&["http-trace", "-r", &sample()]));
    let tx_lines: Vec<&str> = out.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(tx_lines.len(), 14);
    assert!(out.contains("  GET shop.example.com/ -> 200 OK ("), "{out}");
    assert!(out.contains("-> 101 Switching Protocols"));
    assert!(!out.contains("\x1b["), "no colour when NO_COLOR is set");
}

#[test]
fn filters_select_and_ignore_transactions() {
    let s = sample();
    let count = |extra: &[&str]| {
        let mut args = vec!["http-trace", "-r", &s, "--json"];
        args.extend_from_slice(extra);
        json_lines(&pcap_cli(&args))
            .iter()
            .filter(|l| l["type"] == "http")
            .count()
    };
    let truth = truth_transactions();
    let n = |f: &dyn Fn(&Tx) -> bool| truth.iter().filter(|t| f(t)).count();
    assert_eq!(count(&["--method", "POST"]), n(&|t| t.0 == "POST"));
    assert_eq!(count(&["--method-ignore", "POST"]), n(&|t| t.0 != "POST"));
    assert_eq!(
        count(&["--host", "^api\\."]),
        n(&|t| t.1.starts_with("api."))
    );
    assert_eq!(
        count(&["--host-ignore", "example\\.com$"]),
        n(&|t| !t.1.ends_with("example.com"))
    );
    assert_eq!(count(&["--url", "^/ws/"]), n(&|t| t.2.starts_with("/ws/")));
    assert_eq!(count(&["--url-ignore", "\\?"]), n(&|t| !t.2.contains('?')));
}

/// `-c N` counts transactions shown (and ends the run there); `--packets N` counts packets.
#[test]
fn count_is_transactions_and_packets_is_packets() {
    let path = sample();
    let all = json_lines(&pcap_cli(&["http-trace", "-r", &path, "--json"]));
    let http: Vec<&Value> = all.iter().filter(|v| v["type"] == "http").collect();
    assert!(http.len() > 3);
    let o = pcap_cli(&["http-trace", "-r", &path, "--json", "-c", "3"]);
    let three: Vec<Value> = json_lines(&o)
        .into_iter()
        .filter(|v| v["type"] == "http")
        .collect();
    assert_eq!(three.len(), 3);
    assert_eq!(three.iter().collect::<Vec<_>>(), http[..3].to_vec());
    let o = pcap_cli(&["http-trace", "-r", &path, "--packets", "10"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("pcap-cli: 10 packets,"), "{err}");
}

/// `--format` writes one line of the named fields per transaction, the same transactions
/// and values as `--json`; an unknown field is a one-line error before reading.
#[test]
fn format_writes_the_named_fields() {
    let path = sample();
    let json: Vec<Value> = json_lines(&pcap_cli(&["http-trace", "-r", &path, "--json"]))
        .into_iter()
        .filter(|v| v["type"] == "http" && v["request"].is_object())
        .collect();
    let o = pcap_cli(&[
        "http-trace",
        "-r",
        &path,
        "--format",
        "{method}|{uri}|{status}|{response_bytes}|{client}|{version}|{{x}}",
    ]);
    let lines: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    let want: Vec<String> = json
        .iter()
        .map(|v| {
            let status = v["response"]["status"]
                .as_u64()
                .map_or("-".to_owned(), |s| s.to_string());
            let bytes = v["response"]["body_len"].as_u64().unwrap_or(0);
            format!(
                "{}|{}|{status}|{bytes}|{}|{}|{{x}}",
                v["request"]["method"].as_str().unwrap(),
                v["request"]["uri"].as_str().unwrap(),
                v["client"].as_str().unwrap(),
                v["request"]["version"].as_str().unwrap(),
            )
        })
        .collect();
    // Transactions alone: no WebSocket lines.
    assert_eq!(lines, want);
    let o = pcap_cli(&["http-trace", "-r", "/nonexistent", "--format", "{nope}"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown field {nope}"), "{err}");
}

/// `--status` and `--min-duration` select the same transactions as the unfiltered JSON's
/// statuses and durations say they should.
#[test]
fn status_and_duration_filters() {
    let path = sample();
    let all = json_lines(&pcap_cli(&["http-trace", "-r", &path, "--json"]));
    let txs: Vec<(Option<u64>, Option<f64>)> = all
        .iter()
        .filter(|v| v["type"] == "http")
        .map(|v| {
            let status = v["response"]["status"].as_u64();
            let duration = match (v["request"]["ts"].as_f64(), v["response"]["ts"].as_f64()) {
                (Some(a), Some(_)) if v["response"]["complete"] == true => Some(a),
                _ => None,
            };
            (status, duration)
        })
        .collect();
    let count = |args: &[&str]| {
        let mut a = vec!["http-trace", "-r", &path, "--json"];
        a.extend_from_slice(args);
        json_lines(&pcap_cli(&a))
            .iter()
            .filter(|v| v["type"] == "http")
            .count()
    };
    let with = |f: &dyn Fn(u64) -> bool| txs.iter().filter(|(s, _)| s.is_some_and(f)).count();
    assert!(with(&|s| s == 101) > 0 && with(&|s| s == 200) > 0);
    assert_eq!(
        count(&["--status", "2xx"]),
        with(&|s| (200..300).contains(&s))
    );
    assert_eq!(
        count(&["--status", "101|404"]),
        with(&|s| s == 101 || s == 404)
    );
    assert_eq!(
        count(&["--status", "100-199,5xx"]),
        with(&|s| !(200..500).contains(&s))
    );
    assert_eq!(count(&["--status", "5xx"]), 0);
    // Every transaction with both ends took at least 1 ns; none an hour.
    let ended = txs
        .iter()
        .filter(|(s, d)| s.is_some() && d.is_some())
        .count();
    assert!(ended > 0);
    assert!(count(&["--min-duration", "1ns"]) >= ended);
    assert_eq!(count(&["--min-duration", "60m"]), 0);
    // A bad list is a one-line usage error.
    let o = pcap_cli(&["http-trace", "-r", &path, "--status", "6xx9"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn user_agent_filter_matches_the_request_header() {
    let all = json_lines(&pcap_cli(&["http-trace", "-r", &sample(), "--json"]));
    let with_python = all
        .iter()
        .filter(|l| l["type"] == "http")
        .filter(|l| {
            header(&l["request"]["headers"], "user-agent")
                .is_some_and(|u| u.contains("python-requests"))
        })
        .count();
    assert!(with_python > 0);
    let only = json_lines(&pcap_cli(&[
        "http-trace",
        "-r",
        &sample(),
        "--json",
        "--user-agent",
        "python-requests",
    ]));
    assert_eq!(
        only.iter().filter(|l| l["type"] == "http").count(),
        with_python
    );
    let ignored = json_lines(&pcap_cli(&[
        "http-trace",
        "-r",
        &sample(),
        "--json",
        "--user-agent-ignore",
        "python-requests",
    ]));
    assert_eq!(
        ignored.iter().filter(|l| l["type"] == "http").count(),
        14 - with_python
    );
}

#[test]
fn websocket_messages_follow_their_upgrade_through_filters() {
    // Only one of the two upgrades passes: only its session's messages are shown.
    let lines = json_lines(&pcap_cli(&[
        "http-trace",
        "-r",
        &sample(),
        "--json",
        "--url",
        "room=158",
    ]));
    let http: Vec<_> = lines.iter().filter(|l| l["type"] == "http").collect();
    assert_eq!(http.len(), 1);
    let stream = &http[0]["stream"];
    let ws: Vec<_> = lines.iter().filter(|l| l["type"] == "websocket").collect();
    assert!(!ws.is_empty());
    assert!(ws.iter().all(|l| &l["stream"] == stream));
}

#[test]
fn headers_show_header_and_bodies() {
    let plain = stdout(&pcap_cli(&["http-trace", "-r", &sample()]));
    assert!(!plain.contains("> Host:"));
    let all = stdout(&pcap_cli(&["http-trace", "-r", &sample(), "--headers"]));
    assert_eq!(all.matches("    > Host: ").count(), 14);
    assert!(all.contains("    < Content-Type: "));
    let one = stdout(&pcap_cli(&[
        "http-trace",
        "-r",
        &sample(),
        "--show-header",
        "server",
    ]));
    assert!(one.contains("    < Server: "));
    assert!(!one.contains("> Host:"));
    let bodies = stdout(&pcap_cli(&[
        "http-trace",
        "-r",
        &sample(),
        "--bodies",
        "--method",
        "POST",
    ]));
    assert_eq!(bodies.matches("    request body, ").count(), 2);
    // Gzip-encoded bodies are shown decoded: JSON text, not binary.
    assert!(bodies.contains("response body, 2.1 kB:"), "{bodies}");
}

#[test]
fn tcp_verbose_reports_sessions_and_the_retransmission() {
    let lines = json_lines(&pcap_cli(&[
        "http-trace",
        "-r",
        &sample(),
        "--json",
        "--tcp-verbose",
    ]));
    let events = |e: &str| {
        lines
            .iter()
            .filter(|l| l["type"] == "tcp" && l["event"] == e)
            .count()
    };
    // Truth: 8 connections, all closed with FIN both ways, 1 retransmitted segment,
    // 1 reordered pair.
    assert_eq!(events("start"), 8);
    assert_eq!(events("end"), 8);
    assert_eq!(events("reset"), 0);
    assert_eq!(events("retransmit"), 1);
    assert_eq!(events("out_of_order"), 1);
    assert_eq!(events("gap"), 0);
}

#[test]
fn har_file_is_valid_har_1_2() {
    let dir = std::env::temp_dir().join(format!("pcap-cli-har-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let har = dir.join("out.har");
    stdout(&pcap_cli(&[
        "http-trace",
        "-r",
        &sample(),
        "--har",
        har.to_str().unwrap(),
    ]));
    let doc: Value = serde_json::from_slice(&std::fs::read(&har).unwrap()).unwrap();
    assert_eq!(doc["log"]["version"], "1.2");
    let entries = doc["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 14);
    for e in entries {
        assert!(
            e["startedDateTime"]
                .as_str()
                .unwrap()
                .starts_with("2023-11-14T22:13:20.")
        );
        assert!(e["request"]["url"].as_str().unwrap().starts_with("http://"));
        assert!(e["response"]["status"].as_u64().unwrap() > 0);
        assert!(e["time"].as_f64().unwrap() >= 0.0);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The sample's HAR entries as (method, url, status), in file order, as written by the
/// writer that kept every entry in memory until the end: streaming them must not change them.
const SAMPLE_HAR: [(&str, &str, u64); 14] = [
    (
        "POST",
        "http://static.example.net/index.html?id=94467&page=28",
        200,
    ),
    ("POST", "http://api.example.com/feed", 200),
    ("GET", "http://static.example.net/img/logo.png", 200),
    ("GET", "http://static.example.net/?id=60783&page=19", 200),
    ("GET", "http://static.example.net/cart", 200),
    ("GET", "http://auth.example.com/ws/chat?room=158", 101),
    ("GET", "http://shop.example.com/", 200),
    (
        "GET",
        "http://api.example.com/static/app.js?id=85176&page=35",
        200,
    ),
    ("GET", "http://api.example.com/cart", 200),
    (
        "GET",
        "http://api.example.com/api/v1/items?id=94263&page=30",
        200,
    ),
    ("GET", "http://auth.example.com/login", 200),
    (
        "GET",
        "http://api.example.com/static/style.css?id=25734&page=25",
        200,
    ),
    ("GET", "http://img.example.net/ws/chat?room=978", 101),
    (
        "GET",
        "http://auth.example.com/api/v1/items?id=65400&page=23",
        200,
    ),
];

/// (method, url, status) of each entry of a HAR file.
fn har_entries(path: &Path) -> Vec<(String, String, u64)> {
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    doc["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["request"]["method"].as_str().unwrap().to_owned(),
                e["request"]["url"].as_str().unwrap().to_owned(),
                e["response"]["status"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn har_entries_are_the_shown_transactions_in_completion_order() {
    let dir = std::env::temp_dir().join(format!("pcap-cli-har-order-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let har = dir.join("out.har");
    let o = pcap_cli(&[
        "http-trace",
        "-r",
        &sample(),
        "--json",
        "--har",
        har.to_str().unwrap(),
    ]);
    let entries = har_entries(&har);
    let expected: Vec<_> = SAMPLE_HAR
        .iter()
        .map(|&(m, u, s)| (m.to_owned(), u.to_owned(), s))
        .collect();
    assert_eq!(entries, expected);
    // Entries are written as transactions complete, which is also the order of the
    // `--json` lines (the sample has sessions that overlap, so this is not time order).
    let shown: Vec<_> = json_lines(&o)
        .iter()
        .filter(|l| l["type"] == "http")
        .map(|l| {
            let req = &l["request"];
            let host = header(&req["headers"], "host").unwrap();
            (
                req["method"].as_str().unwrap().to_owned(),
                format!("http://{host}{}", req["uri"].as_str().unwrap()),
                l["response"]["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(entries, shown);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn har_without_entries_is_still_a_document() {
    let dir = std::env::temp_dir().join(format!("pcap-cli-har-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let har = dir.join("out.har");
    stdout(&pcap_cli(&[
        "http-trace",
        "-r",
        &sample(),
        "--host",
        "^no-such-host$",
        "--har",
        har.to_str().unwrap(),
    ]));
    assert_eq!(har_entries(&har), Vec::new());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn har_that_cannot_be_created_fails_before_reading() {
    let o = pcap_cli(&[
        "http-trace",
        "-r",
        &sample(),
        "--har",
        "/nonexistent/dir/out.har",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("pcap-cli: /nonexistent/dir/out.har: "),
        "{err}"
    );
    // No packet was read, so no transaction was printed.
    assert!(o.stdout.is_empty());
}

#[test]
fn har_write_error_is_one_line_after_the_decoded_output() {
    // Every write to /dev/full fails with "no space left on device".
    if !Path::new("/dev/full").exists() {
        return;
    }
    let o = pcap_cli(&["http-trace", "-r", &sample(), "--har", "/dev/full"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("pcap-cli: /dev/full: "), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().filter(|l| l.starts_with("  ")).count(), 14);
}

#[test]
fn har_is_closed_when_standard_output_goes_away() {
    let dir = std::env::temp_dir().join(format!("pcap-cli-har-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let har = dir.join("out.har");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args(["http-trace", "-r", &sample(), "--har"])
        .arg(&har)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before the output (one write at the end, the sample's is small) is written:
    // the run ends quietly at the closed pipe, as with `| head`.
    drop(child.stdout.take());
    assert!(child.wait().unwrap().success());
    assert_eq!(har_entries(&har).len(), 14);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    // Regex syntax errors are several lines in the regex crate: ours must still be one line.
    let cases: &[&[&str]] = &[
        &["http-trace", "-r", "/nonexistent/file.pcap"],
        &["http-trace", "-r", &sample(), "--method", "("],
        &["http-trace", "-r", &sample(), "-f", "tcp port"],
        &["http-trace", "--no-such-option"],
    ];
    for args in cases {
        let o = pcap_cli(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        if !args.contains(&"--no-such-option") {
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        }
    }
}

#[test]
fn damaged_capture_keeps_what_was_decoded() {
    // The sample capture cut in the middle of its last packet.
    let bytes = std::fs::read(sample()).unwrap();
    let dir = std::env::temp_dir().join(format!("pcap-cli-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 20]).unwrap();
    let har = dir.join("cut.har");
    let o = pcap_cli(&[
        "http-trace",
        "-r",
        cut.to_str().unwrap(),
        "--json",
        "--har",
        har.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("truncated packet record after packet 180"),
        "{err}"
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out.lines()
            .filter(|l| l.contains("\"type\":\"http\""))
            .count(),
        14
    );
    // The HAR file is closed too: valid JSON with the same transactions.
    assert_eq!(har_entries(&har).len(), 14);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Requests as (method, uri, host) and final responses as (status, body length), per capture,
/// as multisets.
type Messages = (BTreeMap<String, usize>, BTreeMap<String, usize>);

fn ours(path: &Path, extra: &[&str]) -> Messages {
    let mut args = vec!["http-trace", "-r", path.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let o = pcap_cli(&args);
    let mut req = BTreeMap::new();
    let mut resp = BTreeMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let l: Value = serde_json::from_str(line).unwrap();
        if l["type"] != "http" {
            continue;
        }
        let r = &l["request"];
        if r.is_object() {
            let uri: String = r["uri"].as_str().unwrap().chars().take(200).collect();
            let host = header(&r["headers"], "host").unwrap_or("");
            *req.entry(format!("{} {uri} {host}", r["method"].as_str().unwrap()))
                .or_default() += 1;
        }
        let s = &l["response"];
        // tshark reports a response only once its body is complete.
        if s.is_object() && s["complete"] == true {
            *resp
                .entry(format!("{} {}", s["status"], s["body_len"]))
                .or_default() += 1;
        }
    }
    (req, resp)
}

fn oracle(tsv: &pcap_testkit::Tsv) -> Messages {
    let mut req = BTreeMap::new();
    let mut resp = BTreeMap::new();
    for r in tsv.rows() {
        if r.get("kind") == "request" {
            let key = format!(
                "{} {} {}",
                r.get("http.request.method"),
                r.get("http.request.uri"),
                r.get("http.host")
            );
            *req.entry(key).or_default() += 1;
        } else {
            let code: u64 = r.get("http.response.code").parse().unwrap_or(0);
            // Interim 1xx responses (but 101) are part of their transaction, not one of
            // their own, in http-trace.
            if (100..200).contains(&code) && code != 101 {
                continue;
            }
            let len: u64 = r.get("body_len").parse().unwrap_or(0);
            *resp.entry(format!("{code} {len}")).or_default() += 1;
        }
    }
    (req, resp)
}

#[test]
fn corpus_transactions_agree_with_tshark() {
    let Some(corpus) = pcap_testkit::corpus("corpus_transactions_agree_with_tshark") else {
        return;
    };
    transactions_agree(&corpus, include_str!("http_trace_allow.tsv"), "");
}

/// The tunnels corpus: HTTP inside every tunnel and link type gives tshark's transactions.
#[test]
fn corpus_tunnels_transactions_agree_with_tshark() {
    let Some(corpus) =
        pcap_testkit::corpus_tunnels("corpus_tunnels_transactions_agree_with_tshark")
    else {
        return;
    };
    transactions_agree(
        &corpus,
        include_str!("http_trace_tunnels_allow.tsv"),
        " (tunnels)",
    );
}

/// Every capture of `corpus` with an `http.tsv` oracle; `allow`: `capture\treason` lines.
fn transactions_agree(corpus: &pcap_testkit::Corpus, allow: &str, label: &str) {
    let allow: BTreeMap<&str, &str> = allow
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .collect();
    let (mut captures, mut compared, mut mismatched) = (0, 0, Vec::new());
    for name in corpus.captures() {
        let Some(tsv) = corpus.oracle_tsv(&name, "http.tsv") else {
            continue;
        };
        captures += 1;
        let want = oracle(&tsv);
        let got = ours(&corpus.capture_path(&name), &[]);
        compared += tsv.len();
        if got != want && !allow.contains_key(name.as_str()) {
            mismatched.push(format!("{name}:\n  ours   {got:?}\n  tshark {want:?}"));
        }
    }
    eprintln!(
        "http-trace vs tshark{label}: {captures} captures, {compared} oracle rows, {} unexpected mismatches, {} captures allow-listed",
        mismatched.len(),
        allow.len()
    );
    assert!(mismatched.is_empty(), "{}", mismatched.join("\n"));
}

/// HTTPS: every capture of the TLS corpus with an HTTP oracle, decrypted with its key log
/// (`keys/NAME.keys`), gives tshark's requests and responses (tshark decrypting with the
/// same key log); a capture without keys gives none.
#[test]
fn corpus_tls_transactions_agree_with_tshark() {
    let Some(corpus) = pcap_testkit::corpus_tls("corpus_tls_transactions_agree_with_tshark") else {
        return;
    };
    let (mut captures, mut compared, mut mismatched) = (0, 0, Vec::new());
    for name in corpus.captures() {
        let path = corpus.capture_path(&name);
        let keys = corpus.keys_path(&name);
        let Some(tsv) = corpus.oracle_tsv(&name, "http.tsv") else {
            if keys.is_none() && name.starts_with("nokeys-") {
                let got = ours(&path, &[]);
                assert!(got.0.is_empty() && got.1.is_empty(), "{name}: {got:?}");
            }
            continue;
        };
        let Some(keys) = keys else {
            // HTTP/1.1 in clear (the h2c Upgrade request): no key needed.
            continue;
        };
        captures += 1;
        compared += tsv.len();
        let want = oracle(&tsv);
        let got = ours(&path, &["--keylog", keys.to_str().unwrap()]);
        if got != want {
            mismatched.push(format!("{name}:\n  ours   {got:?}\n  tshark {want:?}"));
        }
    }
    eprintln!(
        "http-trace over TLS vs tshark: {captures} captures, {compared} oracle rows, {} mismatches",
        mismatched.len()
    );
    assert!(
        captures >= 14,
        "only {captures} TLS captures with an HTTP oracle"
    );
    assert!(mismatched.is_empty(), "{}", mismatched.join("\n"));
}

/// Many sessions each waiting for a response, under a budget too small for them: the
/// sessions over it are reported at once without a response, none is lost, and one warning
/// line says how many.
#[test]
fn http_memory_budget_reports_every_request_and_warns() {
    let n = 3_000u64;
    let dir = std::env::temp_dir().join(format!("pcap-cli-http-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("many_flows.pcap");
    let mut file = Vec::new();
    pcap_testkit::adversarial::many_flows(&mut file, n).unwrap();
    std::fs::write(&path, file).unwrap();
    let path = path.to_string_lossy().into_owned();

    let roomy = pcap_cli(&["http-trace", "-q", "-r", &path, "--json"]);
    assert!(
        roomy.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&roomy.stderr)
    );
    let tight = pcap_cli(&[
        "http-trace",
        "-q",
        "-r",
        &path,
        "--json",
        "--http-memory",
        "1",
    ]);
    let stderr = String::from_utf8_lossy(&tight.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("sessions stopped early") && stderr.contains("1 MiB"),
        "{stderr}"
    );
    let uris = |o: &Output| {
        let mut u: Vec<String> = json_lines(o)
            .iter()
            .filter(|v| v["type"] == "http")
            .map(|v| v["request"]["uri"].as_str().unwrap().to_owned())
            .collect();
        u.sort();
        u
    };
    let all = uris(&roomy);
    assert_eq!(all.len() as u64, n);
    assert_eq!(uris(&tight), all, "the same requests, none lost");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Forged RSTs (out of the window, in it but not at the next byte) are shown with
/// `--tcp-verbose` as ignored, with their reason, the response after them is decoded, and
/// `flows` counts them; `--overlap-policy` takes the documented names only.
#[test]
fn forged_rsts_are_shown_as_ignored_and_the_sessions_go_on() {
    let n = 5u64;
    let dir = std::env::temp_dir().join(format!("pcap-cli-rst-inject-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rst_inject.pcap");
    let mut file = Vec::new();
    pcap_testkit::adversarial::rst_inject(&mut file, n).unwrap();
    std::fs::write(&path, file).unwrap();
    let path = path.to_string_lossy().into_owned();

    let o = pcap_cli(&["http-trace", "-r", &path, "--json", "--tcp-verbose"]);
    assert!(o.status.success());
    let lines = json_lines(&o);
    let events = |name: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|v| v["type"] == "tcp" && v["event"] == name)
            .collect()
    };
    let ignored = events("rst_ignored");
    assert_eq!(ignored.len() as u64, 2 * n);
    for (i, v) in ignored.iter().enumerate() {
        let want = ["out_of_window", "in_window"][i % 2];
        assert_eq!(
            (v["dir"].as_str(), v["reason"].as_str()),
            (Some("s2c"), Some(want))
        );
    }
    assert!(events("reset").is_empty());
    assert_eq!(events("end").len() as u64, n);
    let responses = lines
        .iter()
        .filter(|v| v["type"] == "http" && v["response"]["status"] == 200)
        .count();
    assert_eq!(responses as u64, n);

    let text = stdout(&pcap_cli(&[
        "http-trace",
        "-r",
        &path,
        "--tcp-verbose",
        "--no-color",
    ]));
    assert!(
        text.lines()
            .any(|l| l.contains("tcp RST ignored sequence number out of the window")),
        "{text}"
    );

    let flows = pcap_cli(&["flows", "-r", &path, "--json", "--overlap-policy", "linux"]);
    assert!(flows.status.success());
    for v in json_lines(&flows) {
        assert_eq!(
            (v["state"].as_str(), v["rsts_ignored"].as_u64()),
            (Some("closed"), Some(2))
        );
        assert_eq!(v["overlap_conflicts"].as_u64(), Some(0));
    }
    let bad = pcap_cli(&["flows", "-r", &path, "--overlap-policy", "hpux"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("old-linux"));
    std::fs::remove_dir_all(&dir).unwrap();
}
