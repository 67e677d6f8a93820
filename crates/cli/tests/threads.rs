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

/// `follow` stays on one thread: with `--threads 3` it writes the same files and index,
/// and says in one line of stderr that it used one thread.
#[test]
fn follow_says_it_runs_on_one_thread() {
    let file = pcap_testkit::test_data("sample-http-ws.pcap");
    let tmp = std::env::temp_dir().join(format!("pcap-threads-follow-{}", std::process::id()));
    let follow = |threads: &str| {
        let dir = tmp.join(threads);
        let out = run(
            &["follow", "-o", dir.to_str().unwrap()],
            &file,
            None,
            threads,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().into_string().unwrap(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        (String::from_utf8(out.stderr).unwrap(), files)
    };
    let (one_err, one_files) = follow("1");
    let (three_err, three_files) = follow("3");
    std::fs::remove_dir_all(&tmp).unwrap();
    assert!(one_files.len() > 10);
    assert_eq!(one_files, three_files);
    assert!(!one_err.contains("one thread"), "{one_err}");
    let (note, rest) = three_err.split_once('\n').unwrap();
    assert!(
        note.contains("follow runs on one thread (--threads 3 ignored)"),
        "{note}"
    );
    // The closing lines name the directory, which differs between the two runs.
    assert_eq!(rest.lines().count(), one_err.lines().count());
}

#[test]
fn threads_zero_is_refused() {
    let file = pcap_testkit::test_data("sample-http-ws.pcap");
    let out = run(&["flows"], &file, None, "0");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--threads"), "{err}");
}
