//! `pcap-cli http-trace` on HTTP/2 and gRPC captures of `../shared/corpus-tls`: JSON records
//! with `version` and `h2_stream`, gRPC lines, filters on `:authority`, RST_STREAM with
//! `--tcp-verbose`, `--grpc-raw`, and HAR `httpVersion`. The oracle comparison of every
//! message is `crates/analyzer/tests/http2_corpus.rs`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use serde_json::Value;

fn pcap_cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("pcap-cli runs")
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn json(args: &[&str]) -> Vec<Value> {
    stdout(&pcap_cli(args))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
        .collect()
}

#[test]
fn h2_records_grpc_lines_filters_and_har() {
    let Some(corpus) = pcap_testkit::corpus_tls("h2_records_grpc_lines_filters_and_har") else {
        return;
    };
    let path = |n: &str| corpus.capture_path(n).to_string_lossy().into_owned();
    let prior = path("h2c-prior-knowledge.pcap");
    let lines = json(&["http-trace", "-r", &prior, "--json"]);
    assert_eq!(lines.len(), 6);
    for l in &lines {
        assert_eq!(l["type"], "http");
        assert_eq!(l["request"]["version"], "HTTP/2");
        assert_eq!(l["response"]["version"], "HTTP/2");
        assert!(l["h2_stream"].as_u64().is_some());
        assert_eq!(l["request"]["headers"][0][0], ":method");
    }
    let gzip = lines
        .iter()
        .find(|l| l["request"]["uri"] == "/gzip")
        .unwrap();
    assert_eq!(gzip["response"]["body_len"], 11000);
    // Filters: :authority is the host; the method and URL filters apply as for HTTP/1.1.
    let shown = json(&[
        "http-trace",
        "-r",
        &prior,
        "--json",
        "--host",
        "^127\\.0\\.0\\.1:8080$",
        "--url",
        "^/(text|gzip)$",
    ]);
    assert_eq!(shown.len(), 2);
    assert!(json(&["http-trace", "-r", &prior, "--json", "--method", "POST"]).len() == 1);

    let grpc = path("grpc-h2c.pcap");
    let lines = json(&["http-trace", "-r", &grpc, "--json", "--grpc-raw"]);
    let messages: Vec<&Value> = lines.iter().filter(|l| l["type"] == "grpc").collect();
    assert_eq!(messages.len(), 11);
    let first = messages[0];
    assert_eq!(first["path"], "/corpus.Echo/Unary");
    assert_eq!(first["dir"], "c2s");
    assert_eq!(first["len"], 14);
    assert_eq!(first["compressed"], false);
    assert_eq!(first["fields"][0]["value"], "hello grpc");
    let gz = messages.iter().find(|m| m["compressed"] == true).unwrap();
    assert_eq!(gz["decoded_len"], 323);
    let status: Vec<&Value> = lines
        .iter()
        .filter(|l| l["type"] == "grpc_status")
        .collect();
    assert_eq!(status.len(), 4);
    let fail = status.iter().find(|s| s["status"] == 5).unwrap();
    assert_eq!(fail["message"], "no such item: missing-42");
    assert_eq!(fail["trailers_only"], true);

    let doh = path("h2-doh-get.pcap");
    let lines = json(&["http-trace", "-r", &doh, "--json", "--tcp-verbose"]);
    let rst = lines.iter().find(|l| l["type"] == "http2").unwrap();
    assert_eq!(rst["event"], "rst_stream");
    assert_eq!(rst["h2_stream"], 7);
    assert_eq!(rst["error"], "CANCEL");
    assert_eq!(rst["dir"], "c2s");
    let text = stdout(&pcap_cli(&["http-trace", "-r", &doh, "--tcp-verbose"]));
    assert!(
        text.contains("[stream 0 h2 7] h2 rst_stream CANCEL by client"),
        "{text}"
    );

    let dir = std::env::temp_dir().join(format!("h2-har-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let har = dir.join("h2.har");
    stdout(&pcap_cli(&[
        "http-trace",
        "-r",
        &prior,
        "--har",
        har.to_str().unwrap(),
    ]));
    let doc: Value = serde_json::from_slice(&std::fs::read(&har).unwrap()).unwrap();
    let entries = doc["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    assert!(
        entries
            .iter()
            .all(|e| e["request"]["httpVersion"] == "HTTP/2")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
