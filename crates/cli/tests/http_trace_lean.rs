//! `http-trace --json` alone keeps each head as the JSON it renders once, as the head arrives
//! (`TransactionCollector::push_rendered`, filters decided then too); with `--har` the
//! collector keeps heads packed and bodies, reads them back through `TransactionView` and
//! copies each transaction for the HAR file. The two paths must print the same lines, so
//! the two runs are compared byte for byte, with and without filters, on the sample and
//! the corpus.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

/// Filter sets that exercise shown and hidden transactions (and hidden 101 upgrades).
const OPTION_SETS: [&[&str]; 4] = [
    &[],
    &["--host", "example", "--method-ignore", "POST"],
    &["--url", "^/(api|ws)", "--user-agent", "curl|Mozilla"],
    &["--tcp-verbose", "--method", "GET"],
];

/// Standard output and exit status (damaged corpus captures end in a read error, after
/// their output).
fn trace(capture: &Path, options: &[&str], har: Option<&Path>) -> (Vec<u8>, bool) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pcap-cli"));
    cmd.args(["http-trace", "--json", "-r"])
        .arg(capture)
        .args(options);
    if let Some(h) = har {
        cmd.arg("--har").arg(h);
    }
    let out = cmd.output().expect("pcap-cli runs");
    (out.stdout, out.status.success())
}

/// Compares the two renderers on one capture; returns (comparisons, mismatches).
fn compare(capture: &Path, har: &Path) -> (usize, Vec<String>) {
    let mut bad = Vec::new();
    for options in OPTION_SETS {
        let lean = trace(capture, options, None);
        let full = trace(capture, options, Some(har));
        if lean != full {
            bad.push(format!("{} {options:?}", capture.display()));
        }
    }
    (OPTION_SETS.len(), bad)
}

#[test]
fn lean_json_matches_collector_json_on_the_sample() {
    let dir = std::env::temp_dir().join(format!("lean-json-sample-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sample = pcap_testkit::test_data("sample-http-ws.pcap");
    let (n, bad) = compare(&sample, &dir.join("x.har"));
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(n, OPTION_SETS.len());
    assert!(bad.is_empty(), "renderers differ: {bad:?}");
    // The sample has transactions: the comparison is not between two empty outputs.
    let (out, ok) = trace(&sample, &[], None);
    assert!(ok && out.len() > 1000);
}

#[test]
fn lean_json_matches_collector_json_on_the_corpus() {
    let Some(corpus) = pcap_testkit::corpus("lean_json_matches_collector_json_on_the_corpus")
    else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("lean-json-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut compared, mut mismatches) = (0, Vec::new());
    for name in corpus.captures() {
        let (n, bad) = compare(&corpus.capture_path(&name), &dir.join("x.har"));
        compared += n;
        mismatches.extend(bad);
    }
    std::fs::remove_dir_all(&dir).ok();
    eprintln!(
        "lean vs collector JSON: {compared} runs compared, {} mismatches",
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "renderers differ: {mismatches:?}");
}
