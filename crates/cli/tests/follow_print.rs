//! `follow --stream N` and `--stream-filter`: one session to the terminal, end to end on
//! captures built here with known bytes, on the sample capture and on the corpus.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pcap_testkit::h2c::{self, Ports};

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");
const SYN: u16 = 0x002;
const ACK: u16 = 0x010;
const PSH_ACK: u16 = 0x018;
const FIN_ACK: u16 = 0x011;

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("follow_print");
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn seg(port: u16, from_client: bool, seq: u32, ack: u32, flags: u16, payload: &[u8]) -> Vec<u8> {
    h2c::segment(
        Ports {
            client: port,
            server: 80,
        },
        from_client,
        seq,
        ack,
        flags,
        payload,
    )
}

/// Two sessions, from client ports 40000 and 40001; the second's response loses 5 bytes
/// and carries an escape sequence.
fn write_capture(name: &str) -> String {
    let mut frames = Vec::new();
    for port in [40000, 40001] {
        frames.push(seg(port, true, 1000, 0, SYN, b""));
        frames.push(seg(port, false, 5000, 1001, SYN | ACK, b""));
        frames.push(seg(port, true, 1001, 5001, ACK, b""));
    }
    frames.push(seg(
        40001,
        true,
        1001,
        5001,
        PSH_ACK,
        b"GET /a HTTP/1.1\r\n",
    ));
    frames.push(seg(
        40001,
        false,
        5001,
        1018,
        PSH_ACK,
        b"HTTP/1.1 200 OK\r\nX: 1",
    ));
    frames.push(seg(40001, true, 1018, 5023, PSH_ACK, b"\r\n"));
    frames.push(seg(40001, false, 5027, 1020, PSH_ACK, b"\x1b[2Jbye\r\n"));
    frames.push(seg(40001, true, 1020, 5036, FIN_ACK, b""));
    frames.push(seg(40001, false, 5036, 1021, FIN_ACK, b""));
    frames.push(seg(40001, true, 1021, 5037, ACK, b""));
    frames.push(seg(40000, true, 1001, 5001, PSH_ACK, b"other"));
    let pcap = pcap_testkit::ethernet_pcap(
        frames
            .iter()
            .enumerate()
            .map(|(i, f)| (1_700_000_000_000_000_000 + i as i64 * 1000, f.as_slice())),
    );
    let path = tmp(name);
    std::fs::write(&path, pcap).unwrap();
    path.to_string_lossy().into_owned()
}

const SESSION_1: &str = "=== stream 1: 10.0.0.1:40001 -> 10.0.0.2:80 ===\n\
GET /a HTTP/1.1\n\
\tHTTP/1.1 200 OK\n\
\tX: 1\n\
\n\
[gap: 5 bytes missing s2c at offset 21]\n\
\t\\x1b[2Jbye\n\
=== end of stream 1: 19 bytes c2s, 30 bytes s2c ===\n";

#[test]
fn stream_prints_one_session_interleaved_with_gaps() {
    let pcap = write_capture("stream.pcap");
    let o = run(&["follow", "-q", "--no-color", "-r", &pcap, "--stream", "1"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(stdout(&o), SESSION_1);
    // The same session by its endpoints, in either order.
    for filters in [
        &["--stream-filter", "10.0.0.1:40001"][..],
        &[
            "--stream-filter",
            ":80",
            "--stream-filter",
            "10.0.0.1:40001",
        ][..],
        &["--stream-filter", "10.0.0.1:40001", "--stream", "1"][..],
    ] {
        let mut args = vec!["follow", "-q", "--no-color", "-r", &pcap];
        args.extend_from_slice(filters);
        assert_eq!(stdout(&run(&args)), SESSION_1, "{filters:?}");
    }
}

#[test]
fn stream_colours_directions_and_refuses_o() {
    let pcap = write_capture("colours.pcap");
    // Colours need a terminal: without one, none, whatever the options.
    let o = run(&["follow", "-q", "-r", &pcap, "--stream", "0"]);
    assert_eq!(
        stdout(&o),
        "=== stream 0: 10.0.0.1:40000 -> 10.0.0.2:80 ===\nother\n\
         === end of stream 0: 5 bytes c2s, 0 bytes s2c ===\n"
    );
    let dir = tmp("refused");
    let o = run(&[
        "follow",
        "-r",
        &pcap,
        "--stream",
        "0",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.exists());
    let o = run(&["follow", "-q", "-r", &pcap, "--stream", "7"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let o = run(&["follow", "-r", &pcap, "--stream-filter", "nope"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn sample_stream_holds_the_flows_bytes() {
    let sample = pcap_testkit::test_data("sample-http-ws.pcap");
    let sample = sample.to_str().unwrap();
    let flows = stdout(&run(&["flows", "-q", "--json", "-r", sample]));
    let first: serde_json::Value = serde_json::from_str(flows.lines().next().unwrap()).unwrap();
    let id = first["stream"].as_u64().unwrap().to_string();
    let o = run(&["follow", "-q", "--no-color", "-r", sample, "--stream", &id]);
    let out = stdout(&o);
    let end = out.lines().last().unwrap();
    assert!(
        end.starts_with(&format!("=== end of stream {id}: ")),
        "{end}"
    );
    assert!(out.contains("HTTP/1.1"));
}

/// Over the corpus, every session `flows` lists prints without control bytes and ends.
#[test]
fn corpus_streams_print_safely() {
    let Some(corpus) = pcap_testkit::corpus("corpus_streams_print_safely") else {
        return;
    };
    for name in corpus.captures().into_iter().take(40) {
        let path = corpus.capture_path(&name);
        let path = path.to_str().unwrap();
        let o = run(&["follow", "-q", "--no-color", "-r", path, "--stream", "0"]);
        assert!(matches!(o.status.code(), Some(0..=2)), "{name}");
        let out = stdout(&o);
        assert!(
            !out.bytes().any(|b| b < 0x20 && b != b'\n' && b != b'\t'),
            "{name}: control byte"
        );
        if o.status.code() == Some(0) {
            assert!(out.starts_with("=== stream 0: "), "{name}");
        }
    }
}
