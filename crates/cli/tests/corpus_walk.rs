//! Every capture of the shared corpus (and the repository's sample) through every
//! subcommand the binary has: exit 0 or 2 (or 1: grep found nothing), exactly one closing
//! line on stderr (packets, sessions, ...) unless the file could not be opened, besides it at most one stderr line (exactly one
//! on exit 2, the error) and the snapshot-length warning, and never a panic. Damaged captures
//! in the corpus must end in one clean error line after what was decoded before the damage.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Invocations per subcommand, run with `-r FILE` appended. `{dir}` is a fresh directory.
const INVOCATIONS: &[(&str, &[&str])] = &[
    ("capture", &[]),
    ("capture", &["--json"]),
    ("http-trace", &[]),
    ("http-trace", &["--json", "--tcp-verbose"]),
    ("grep", &["x"]),
    ("flows", &[]),
    ("follow", &["-o", "{dir}"]),
    ("stats", &[]),
    ("stats", &["--json"]),
    ("export", &["--parquet", "{dir}"]),
];

/// Subcommands that need a live device or a server, never walked over files.
const NOT_WALKED: &[&str] = &["devices", "serve", "help"];

/// The line every run ends with, e.g. `pcap-cli: 12 packets, 1 TCP session`.
fn is_closing(line: &str) -> bool {
    line.strip_prefix("pcap-cli: ").is_some_and(|rest| {
        rest.starts_with(|c: char| c.is_ascii_digit()) && rest.contains(" packet")
    })
}

fn is_cut_warning(line: &str) -> bool {
    line.starts_with("pcap-cli: warning: ") && line.contains("cut by the snapshot length")
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pcap-cli")
}

/// Subcommand names listed by `pcap-cli --help` (clap's "Commands:" section).
fn subcommands() -> Vec<String> {
    let out = Command::new(bin()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

struct Outcome {
    code: Option<i32>,
    stderr: String,
}

fn run(sub: &str, args: &[&str], file: &Path, dir: &Path) -> Outcome {
    let dir = dir.to_string_lossy();
    let mut cmd = Command::new(bin());
    cmd.arg(sub)
        .args(args.iter().map(|a| a.replace("{dir}", &dir)))
        .arg("-r")
        .arg(file)
        .env("NO_COLOR", "1");
    let out = cmd.output().expect("pcap-cli runs");
    Outcome {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn every_capture_through_every_subcommand() {
    let Some(corpus) = pcap_testkit::corpus("every_capture_through_every_subcommand") else {
        return;
    };
    let subs = subcommands();
    assert!(subs.iter().any(|s| s == "capture"), "help lists {subs:?}");
    for s in &subs {
        assert!(
            NOT_WALKED.contains(&s.as_str()) || INVOCATIONS.iter().any(|(n, _)| n == s),
            "subcommand {s} is new: add its file invocations to INVOCATIONS"
        );
    }
    let walked: Vec<_> = INVOCATIONS
        .iter()
        .filter(|(n, _)| subs.iter().any(|s| s == n))
        .collect();

    let mut files: Vec<PathBuf> = corpus
        .captures()
        .iter()
        .map(|c| corpus.capture_path(c))
        .collect();
    files.push(pcap_testkit::test_data("sample-http-ws.pcap"));
    let tmp = std::env::temp_dir().join(format!("pcap-cli-corpus-walk-{}", std::process::id()));

    let (mut runs, mut ok, mut errors, mut unimplemented) = (0, 0, 0, 0);
    let mut cut_warnings = 0;
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        for (i, (sub, args)) in walked.iter().enumerate() {
            let dir = tmp.join(format!("{name}-{i}"));
            let o = run(sub, args, file, &dir);
            runs += 1;
            let what = format!("{sub} {} -r {name}", args.join(" "));
            if o.stderr.contains("panicked") {
                failures.push(format!("{what}: panicked: {}", o.stderr.trim_end()));
                continue;
            }
            let closing = o.stderr.lines().filter(|l| is_closing(l)).count();
            // A file that cannot be opened at all ends with its error alone.
            if closing != 1 && !(closing == 0 && o.code == Some(2)) {
                failures.push(format!(
                    "{what}: {closing} closing lines: {}",
                    o.stderr.trim_end()
                ));
                continue;
            }
            cut_warnings += o.stderr.lines().filter(|l| is_cut_warning(l)).count();
            let lines = o
                .stderr
                .lines()
                .filter(|l| !is_closing(l) && !is_cut_warning(l))
                .count();
            match o.code {
                Some(0) if lines <= 1 => ok += 1,
                // grep found nothing.
                Some(1) if *sub == "grep" && lines <= 1 => ok += 1,
                Some(2) if lines == 1 => {
                    errors += 1;
                    if o.stderr.contains("not implemented") {
                        unimplemented += 1;
                    }
                }
                code => failures.push(format!(
                    "{what}: exit {code:?} with {lines} stderr lines: {}",
                    o.stderr.trim_end()
                )),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let names: Vec<String> = walked
        .iter()
        .map(|(s, a)| {
            format!("{s} {}", a.join(" ").replace("{dir}", "DIR"))
                .trim_end()
                .to_owned()
        })
        .collect();
    eprintln!(
        "corpus walk: {} captures x {} invocations ({}) = {runs} runs: {ok} exit 0, \
         {errors} exit 2 with one error line ({unimplemented} 'not implemented'), \
         {cut_warnings} snapshot-length warnings, {} failures",
        files.len(),
        walked.len(),
        names.join(", "),
        failures.len()
    );
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
}
