//! `grep -W byline` and `grep` over UDP datagrams, end to end on captures built here with
//! known bytes, on the sample capture and on the corpus.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pcap_decode::build::{self, FrameSpec, IpSpec, Ipv4Spec, TcpSpec, UdpSpec};

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");
const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];
const SYN: u16 = 0x002;
const ACK: u16 = 0x010;
const PSH_ACK: u16 = 0x018;

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grep_bytes");
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn ip(from_client: bool) -> FrameSpec {
    let (src, dst) = if from_client {
        (CLIENT, SERVER)
    } else {
        (SERVER, CLIENT)
    };
    FrameSpec {
        ip: IpSpec::V4(Ipv4Spec {
            src,
            dst,
            ..Ipv4Spec::default()
        }),
        ..FrameSpec::default()
    }
}

fn tcp(from_client: bool, seq: u32, ack: u32, flags: u16, payload: &[u8]) -> Vec<u8> {
    let (sport, dport) = if from_client {
        (40000, 80)
    } else {
        (80, 40000)
    };
    let spec = TcpSpec {
        src_port: sport,
        dst_port: dport,
        seq,
        ack,
        flags,
        ..TcpSpec::default()
    };
    build::tcp_frame(&ip(from_client), &spec, payload)
}

fn udp(from_client: bool, payload: &[u8]) -> Vec<u8> {
    let (sport, dport) = if from_client {
        (5000, 9999)
    } else {
        (9999, 5000)
    };
    build::udp_frame(
        &ip(from_client),
        &UdpSpec {
            src_port: sport,
            dst_port: dport,
        },
        payload,
    )
}

/// A TCP session carrying an HTTP request in two segments, and three UDP datagrams: `ab`
/// and `cd` (so `bc` spans two of them), then `xy-ab`.
fn write_capture(name: &str) -> String {
    let frames = [
        tcp(true, 1000, 0, SYN, b""),
        tcp(false, 5000, 1001, SYN | ACK, b""),
        tcp(true, 1001, 5001, ACK, b""),
        tcp(true, 1001, 5001, PSH_ACK, b"GET / HTTP/1.1\r\nHo"),
        udp(true, b"ab"),
        udp(false, b"cd"),
        tcp(true, 1019, 5001, PSH_ACK, b"st: a\r\n\r\n"),
        udp(true, b"xy-ab"),
    ];
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

fn grep(pcap: &str, extra: &[&str]) -> Output {
    let mut args = vec!["grep", "-q", "--no-color", "--utc", "-r", pcap];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn byline_keeps_the_contexts_line_breaks() {
    let pcap = write_capture("byline.pcap");
    let o = grep(&pcap, &["-W", "byline", "--context", "20", "Host"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "22:13:20.000006 #0 10.0.0.1:40000 -> 10.0.0.2:80 c2s @16:\n\
         GET / HTTP/1.1\n\
         Host: a\n\
         \n"
    );
    // The default stays one line.
    let o = grep(&pcap, &["--context", "20", "Host"]);
    assert_eq!(
        stdout(&o),
        "22:13:20.000006 #0 10.0.0.1:40000 -> 10.0.0.2:80 c2s @16: GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n\n"
    );
    let o = grep(&pcap, &["-W", "byline", "-x", "Host"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn udp_datagrams_are_searched_each_on_its_own() {
    let pcap = write_capture("udp.pcap");
    for mode in [&[][..], &["--packet"][..]] {
        let mut args = mode.to_vec();
        args.push("ab");
        let o = grep(&pcap, &args);
        assert_eq!(o.status.code(), Some(0), "{mode:?}");
        assert_eq!(
            stdout(&o),
            "22:13:20.000004 udp 10.0.0.1:5000 -> 10.0.0.2:9999 @0: ab\n\
             22:13:20.000007 udp 10.0.0.1:5000 -> 10.0.0.2:9999 @3: xy-ab\n",
            "{mode:?}"
        );
        // Never across two datagrams.
        let mut args = mode.to_vec();
        args.push("bc");
        assert_eq!(grep(&pcap, &args).status.code(), Some(1), "{mode:?}");
    }
    let o = grep(&pcap, &["--json", "cd"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["proto"], "udp");
    assert_eq!(v["client"], "10.0.0.2:9999");
    assert_eq!(v["server"], "10.0.0.1:5000");
    assert_eq!(v["stream"], serde_json::Value::Null);
    assert_eq!(v["offset"], 0);
    assert_eq!(v["frame"], 6);
    assert_eq!(v["match"], "cd");
    // TCP matches have no `proto`.
    let o = grep(&pcap, &["--json", "Host"]);
    assert!(!stdout(&o).contains("\"proto\""));
    // -v shows the datagrams that do not match.
    let o = grep(&pcap, &["--packet", "-v", "ab|HTTP"]);
    let out = stdout(&o);
    assert!(
        out.contains(" udp 10.0.0.2:9999 -> 10.0.0.1:5000 @0: cd\n"),
        "{out}"
    );
    assert!(!out.contains(": ab\n"), "{out}");
}

#[test]
fn sample_capture_byline_shows_the_same_matches() {
    let sample = pcap_testkit::test_data("sample-http-ws.pcap");
    let sample = sample.to_str().unwrap();
    let single = stdout(&grep(sample, &["Host: "]));
    let byline = stdout(&grep(sample, &["-W", "byline", "Host: "]));
    let heads: Vec<&str> = single
        .lines()
        .map(|l| l.split_once(": ").unwrap().0)
        .collect();
    let by_heads: Vec<&str> = byline
        .lines()
        .filter(|l| l.contains(" c2s @") || l.contains(" s2c @"))
        .map(|l| l.trim_end_matches(':'))
        .collect();
    assert!(!heads.is_empty());
    assert_eq!(heads, by_heads);
    assert!(byline.lines().any(|l| l.starts_with("Host: ")));
}

/// Over the corpus, every UDP match line names a datagram and the match is in its context.
#[test]
fn corpus_udp_matches_are_marked() {
    let Some(corpus) = pcap_testkit::corpus("corpus_udp_matches_are_marked") else {
        return;
    };
    let mut seen = 0;
    for name in corpus.captures() {
        let path = corpus.capture_path(&name);
        let o = grep(path.to_str().unwrap(), &["--json", "[a-z]{3}"]);
        assert!(matches!(o.status.code(), Some(0..=2)), "{name}");
        for l in stdout(&o).lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v["proto"] == "udp" {
                seen += 1;
                assert!(v["stream"].is_null(), "{name}: {l}");
                assert!(v["frame"].is_u64(), "{name}: {l}");
            }
        }
    }
    assert!(seen > 0, "the corpus has DNS over UDP");
}
