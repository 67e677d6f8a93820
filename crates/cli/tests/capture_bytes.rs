//! `capture`'s bytes and numbers end to end: `-X` and `-A` payload dumps, relative TCP
//! sequence numbers (`-S` for absolute ones) and `len` as the wire length, on captures built
//! here with known bytes, on the sample capture and on the corpus.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pcap_capture::{LinkType, Packet, PcapWriter};
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
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("capture_bytes");
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn frame() -> FrameSpec {
    FrameSpec {
        ip: IpSpec::V4(Ipv4Spec {
            src: CLIENT,
            dst: SERVER,
            ..Ipv4Spec::default()
        }),
        ..FrameSpec::default()
    }
}

/// A TCP segment between CLIENT:40000 and SERVER:80, seq/ack absolute.
fn segment(from_client: bool, seq: u32, ack: u32, flags: u16, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sport, dport) = if from_client {
        (CLIENT, SERVER, 40000, 80)
    } else {
        (SERVER, CLIENT, 80, 40000)
    };
    let frame = FrameSpec {
        ip: IpSpec::V4(Ipv4Spec {
            src,
            dst,
            ..Ipv4Spec::default()
        }),
        ..FrameSpec::default()
    };
    let tcp = TcpSpec {
        src_port: sport,
        dst_port: dport,
        seq,
        ack,
        flags,
        ..TcpSpec::default()
    };
    build::tcp_frame(&frame, &tcp, payload)
}

/// Writes a pcap of `frames`, each cut to `caplen` bytes when given (its wire length kept).
fn write_pcap(path: &Path, frames: &[(Vec<u8>, Option<usize>)]) {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
    for (i, (data, cut)) in frames.iter().enumerate() {
        let kept = &data[..cut.unwrap_or(data.len()).min(data.len())];
        w.write_packet(&Packet {
            ts_ns: 1_700_000_000_000_000_000 + i as i64 * 1000,
            caplen: kept.len() as u32,
            orig_len: data.len() as u32,
            link_type: LinkType::ETHERNET,
            interface: 0,
            fcs_len: 0,
            data: kept,
        })
        .unwrap();
    }
    std::fs::write(path, w.into_inner().unwrap()).unwrap();
}

/// Handshake (client ISN 1000, server ISN 5000), a request, its ack, a response.
fn session_pcap(name: &str) -> String {
    let path = tmp(name);
    write_pcap(
        &path,
        &[
            (segment(true, 1000, 0, SYN, b""), None),
            (segment(false, 5000, 1001, SYN | ACK, b""), None),
            (segment(true, 1001, 5001, ACK, b""), None),
            (
                segment(
                    true,
                    1001,
                    5001,
                    PSH_ACK,
                    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                ),
                None,
            ),
            (segment(false, 5001, 1028, ACK, b""), None),
            (
                segment(false, 5001, 1028, PSH_ACK, b"HTTP/1.1 200 OK\r\n\x1b[2J"),
                None,
            ),
        ],
    );
    path.to_string_lossy().into_owned()
}

fn capture(pcap: &str, extra: &[&str]) -> String {
    let mut args = vec!["capture", "-q", "--no-color", "--utc", "-r", pcap];
    args.extend_from_slice(extra);
    stdout(&run(&args))
}

/// What `-e` adds to each line.
const MACS: &str = "02:00:00:00:00:01 -> 02:00:00:00:00:02";

#[test]
fn relative_sequence_numbers_by_default_absolute_with_s() {
    let pcap = session_pcap("relative.pcap");
    let expected = [
        "TCP [S] seq 1000 win 65535 len 0",
        "TCP [S.] seq 5000 ack 1001 win 65535 len 0",
        "TCP [.] seq 1 ack 1 win 65535 len 0",
        "TCP [P.] seq 1 ack 1 win 65535 len 27",
        "TCP [.] seq 1 ack 28 win 65535 len 0",
        "TCP [P.] seq 1 ack 28 win 65535 len 21",
    ];
    let got = capture(&pcap, &[]);
    let tails: Vec<&str> = got
        .lines()
        .map(|l| l.split_once(" TCP ").unwrap().1)
        .collect();
    let want: Vec<&str> = expected.iter().map(|l| &l[4..]).collect();
    assert_eq!(tails, want, "{got}");
    let absolute = capture(&pcap, &["-S"]);
    let tails: Vec<&str> = absolute
        .lines()
        .map(|l| l.split_once(" TCP ").unwrap().1)
        .collect();
    assert_eq!(
        tails,
        [
            "[S] seq 1000 win 65535 len 0",
            "[S.] seq 5000 ack 1001 win 65535 len 0",
            "[.] seq 1001 ack 5001 win 65535 len 0",
            "[P.] seq 1001 ack 5001 win 65535 len 27",
            "[.] seq 5001 ack 1028 win 65535 len 0",
            "[P.] seq 5001 ack 1028 win 65535 len 21",
        ]
    );
    // JSON keeps the header's numbers.
    let json = capture(&pcap, &["--json"]);
    let line: serde_json::Value = serde_json::from_str(json.lines().nth(3).unwrap()).unwrap();
    assert_eq!(line["tcp"]["seq"], 1001, "{line}");
    assert_eq!(line["tcp"]["ack"], 5001, "{line}");
}

#[test]
fn relative_numbers_mid_stream_start_from_the_first_seen() {
    let path = tmp("midstream.pcap");
    write_pcap(
        &path,
        &[
            (segment(true, 7000, 9000, PSH_ACK, b"abc"), None),
            (segment(false, 9000, 7003, PSH_ACK, b"de"), None),
            (segment(true, 7003, 9002, ACK, b""), None),
        ],
    );
    let got = capture(path.to_str().unwrap(), &[]);
    let tails: Vec<&str> = got
        .lines()
        .map(|l| l.split_once(" TCP ").unwrap().1)
        .collect();
    assert_eq!(
        tails,
        [
            "[P.] seq 0 ack 0 win 65535 len 3",
            "[P.] seq 0 ack 3 win 65535 len 2",
            "[.] seq 3 ack 2 win 65535 len 0",
        ]
    );
}

#[test]
fn hex_ascii_dump_follows_each_line() {
    let pcap = session_pcap("hex.pcap");
    let got = capture(&pcap, &["-X", "-e", "-c", "4"]);
    let expected = format!(
        "22:13:20.000000 {MACS} 10.0.0.1:40000 -> 10.0.0.2:80 TCP [S] seq 1000 win 65535 len 0\n\
         22:13:20.000001 {MACS} 10.0.0.2:80 -> 10.0.0.1:40000 TCP [S.] seq 5000 ack 1001 win 65535 len 0\n\
         22:13:20.000002 {MACS} 10.0.0.1:40000 -> 10.0.0.2:80 TCP [.] seq 1 ack 1 win 65535 len 0\n\
         22:13:20.000003 {MACS} 10.0.0.1:40000 -> 10.0.0.2:80 TCP [P.] seq 1 ack 1 win 65535 len 27\n\
         \t0x0000:  4745 5420 2f20 4854 5450 2f31 2e31 0d0a  GET./.HTTP/1.1..\n\
         \t0x0010:  486f 7374 3a20 610d 0a0d 0a              Host:.a....\n"
    );
    assert_eq!(got, expected);
}

#[test]
fn ascii_dump_keeps_lines_and_hides_controls() {
    let pcap = session_pcap("ascii.pcap");
    let got = capture(&pcap, &["-A"]);
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines.len(), 6 + 3 + 2, "{got}");
    assert_eq!(lines[4..7], ["GET / HTTP/1.1", "Host: a", ""]);
    assert_eq!(lines[9..], ["HTTP/1.1 200 OK", ".[2J"]);
    assert!(!got.contains('\x1b') && !got.contains('\r'));
}

#[test]
fn dumps_are_refused_with_json_and_with_w() {
    let pcap = session_pcap("refused.pcap");
    for flag in ["-X", "-A"] {
        for other in [&["--json"][..], &["-w", "/dev/null"][..]] {
            let mut args = vec!["capture", "-r", &pcap, flag];
            args.extend_from_slice(other);
            let o = run(&args);
            assert_eq!(o.status.code(), Some(2));
            assert!(String::from_utf8_lossy(&o.stderr).contains("cannot be used with"));
            assert!(o.stdout.is_empty());
        }
    }
}

#[test]
fn len_is_the_wire_length_with_the_captured_one_when_smaller() {
    let path = tmp("snaplen.pcap");
    let payload = [b'x'; 1448];
    let udp = build::udp_frame(
        &frame(),
        &UdpSpec {
            src_port: 5353,
            dst_port: 9999,
        },
        &[b'y'; 500],
    );
    write_pcap(
        &path,
        &[
            (segment(true, 1, 1, PSH_ACK, &payload), Some(54 + 96)),
            (segment(true, 1449, 1, PSH_ACK, &payload), None),
            (udp, Some(42 + 8)),
        ],
    );
    let got = capture(path.to_str().unwrap(), &["-X"]);
    let lines: Vec<&str> = got.lines().collect();
    assert!(
        lines[0].ends_with(" seq 0 ack 0 win 65535 len 1448 (captured 96) [truncated]"),
        "{got}"
    );
    // 96 captured bytes: six dump lines.
    assert!(lines[1..7].iter().all(|l| l.starts_with("\t0x")));
    assert!(
        lines[7].ends_with(" seq 1448 ack 0 win 65535 len 1448"),
        "{got}"
    );
    let udp_line = lines.iter().find(|l| l.contains(" UDP ")).unwrap();
    assert!(udp_line.contains(" UDP len 500 (captured 8)"), "{got}");
}

#[test]
fn sample_capture_dumps_every_payload_byte() {
    let sample = pcap_testkit::test_data("sample-http-ws.pcap");
    let sample = sample.to_str().unwrap();
    let plain = capture(sample, &[]);
    let hex = capture(sample, &["-X"]);
    let mut dumped = 0usize;
    let mut summaries = Vec::new();
    for l in hex.lines() {
        if let Some(row) = l.strip_prefix("\t0x") {
            let (_, rest) = row.split_once(":  ").unwrap();
            let hex_col = &rest[..40];
            dumped += hex_col
                .split_whitespace()
                .map(|g| g.len() / 2)
                .sum::<usize>();
        } else {
            summaries.push(l);
        }
    }
    assert_eq!(summaries, plain.lines().collect::<Vec<_>>());
    let total: usize = plain
        .lines()
        .filter_map(|l| {
            l.rsplit_once(" len ")
                .map(|(_, n)| n.parse::<usize>().unwrap_or(0))
        })
        .sum();
    assert_eq!(dumped, total);
    // After each handshake, the client's first ACK is `seq 1 ack 1`.
    assert!(plain.contains("TCP [.] seq 1 ack 1 win"));
}

/// Over the corpus, `-S` and the default differ only in the numbers after `seq` and `ack`,
/// and line for line.
#[test]
fn corpus_relative_and_absolute_agree_but_for_the_numbers() {
    let Some(corpus) = pcap_testkit::corpus("corpus_relative_and_absolute") else {
        return;
    };
    let mask = |s: &str| -> String {
        let mut out = Vec::new();
        let mut words = s.split(' ').peekable();
        while let Some(w) = words.next() {
            out.push(w.to_string());
            if (w == "seq" || w == "ack") && words.peek().is_some() {
                words.next();
                out.push("N".into());
            }
        }
        out.join(" ")
    };
    for name in corpus.captures() {
        let path = corpus.capture_path(&name);
        let path = path.to_str().unwrap();
        let a = run(&["capture", "-q", "--no-color", "--utc", "-r", path]);
        let b = run(&["capture", "-q", "--no-color", "--utc", "-S", "-r", path]);
        assert_eq!(a.status.code(), b.status.code(), "{name}");
        let (a, b) = (
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&b.stdout),
        );
        assert_eq!(a.lines().count(), b.lines().count(), "{name}");
        for (x, y) in a.lines().zip(b.lines()) {
            assert_eq!(mask(x), mask(y), "{name}");
        }
    }
}
