//! `--threads N` gives the output of one thread, byte for byte: every capture of the three
//! corpora (the TLS one with its key logs) through `http-trace`, `flows`, `grep` and `stats`, text
//! and `--json`, with `--threads 1` and `--threads 3`; standard output and the closing
//! lines on stderr must be the same. Three workers on captures of a few sessions leaves
//! some workers idle and others with several sessions, which is where the ordering of the
//! merge shows.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use pcap_testkit::Corpus;

/// Invocations compared, each run with `-r FILE` (and `--keylog` when the corpus has one).
const INVOCATIONS: &[&[&str]] = &[
    &["http-trace"],
    &["http-trace", "--json", "--tcp-verbose"],
    &[
        "http-trace",
        "--json",
        "--format",
        "{stream} {method} {status}",
    ],
    &["flows"],
    &["flows", "--json"],
    &["grep", "HTTP|[Hh]ost"],
    &["grep", "--json", "HTTP|[Hh]ost"],
    &["grep", "--packet", "--json", "GET|200"],
    &["stats"],
    &["stats", "--json"],
    // Fine I/O rows, so that rows of every worker meet in one table.
    &[
        "stats",
        "--json",
        "--only",
        "io,endpoints",
        "--interval",
        "1ms",
    ],
];

fn run(args: &[&str], file: &Path, keys: Option<&Path>, threads: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pcap-cli"));
    cmd.args(args)
        .arg("-r")
        .arg(file)
        .args(["--threads", threads])
        .env("NO_COLOR", "1");
    if let Some(k) = keys {
        cmd.arg("--keylog").arg(k);
    }
    cmd.output().expect("pcap-cli runs")
}

/// Compares every invocation on every capture of `corpus`; returns how many runs had
/// output (so that a corpus of empty results cannot pass unnoticed).
fn compare(corpus: &Corpus) -> usize {
    let mut with_output = 0;
    let mut differ = Vec::new();
    for name in corpus.captures() {
        let file = corpus.capture_path(&name);
        let keys = corpus.keys_path(&name);
        for args in INVOCATIONS {
            let one = run(args, &file, keys.as_deref(), "1");
            let three = run(args, &file, keys.as_deref(), "3");
            if !one.stdout.is_empty() {
                with_output += 1;
            }
            if one.stdout != three.stdout
                || one.stderr != three.stderr
                || one.status.code() != three.status.code()
            {
                differ.push(format!("{name}: {}", args.join(" ")));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "--threads 3 differs from --threads 1: {differ:#?}"
    );
    with_output
}

#[test]
fn three_threads_write_what_one_writes_on_the_corpus() {
    let Some(corpus) = pcap_testkit::corpus("three_threads_write_what_one_writes_on_the_corpus")
    else {
        return;
    };
    assert!(compare(&corpus) > 100);
}

#[test]
fn three_threads_write_what_one_writes_on_the_tls_corpus() {
    let Some(corpus) =
        pcap_testkit::corpus_tls("three_threads_write_what_one_writes_on_the_tls_corpus")
    else {
        return;
    };
    assert!(compare(&corpus) > 50);
}

#[test]
fn three_threads_write_what_one_writes_on_the_tunnels_corpus() {
    let Some(corpus) =
        pcap_testkit::corpus_tunnels("three_threads_write_what_one_writes_on_the_tunnels_corpus")
    else {
        return;
    };
    assert!(compare(&corpus) > 20);
}

/// Session numbers are the capture's, not a worker's: with many sessions spread over
/// workers, `flows --json` lists every number from 0 once.
#[test]
fn session_numbers_are_the_captures() {
    let file = pcap_testkit::test_data("sample-http-ws.pcap");
    let out = run(&["flows", "--json"], &file, None, "4");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut ids: Vec<u64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["stream"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(!ids.is_empty());
    ids.sort_unstable();
    let expected: Vec<u64> = (0..ids.len() as u64).collect();
    assert_eq!(ids, expected);
}

#[test]
fn threads_zero_is_refused() {
    let file = pcap_testkit::test_data("sample-http-ws.pcap");
    let out = run(&["flows"], &file, None, "0");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--threads"), "{err}");
}
