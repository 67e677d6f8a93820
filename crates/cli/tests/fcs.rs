//! Captures that keep each Ethernet frame's FCS (here: the FCS bits of a pcap header's
//! link-type field): the FCS is split off before decoding, so HTTP reads the same as without
//! it, and a frame whose FCS does not match is counted in the closing line.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use pcap_decode::build::{TcpSpec, ipv4_tcp};
use pcap_decode::fcs;

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");

/// A GET and its response, each frame followed by its FCS; the response's FCS is damaged
/// when `bad`. The file header declares 4 bytes of FCS (libpcap's `LT_FCS_DATALINK_EXT(2)`).
fn capture(test: &str, bad: bool) -> PathBuf {
    let request = TcpSpec {
        flags: 0x018,
        ..TcpSpec::default()
    };
    let response = TcpSpec {
        src_port: 80,
        dst_port: 40000,
        flags: 0x018,
        seq: 1,
        ack: 29,
        ..TcpSpec::default()
    };
    let mut frames = [
        ipv4_tcp(&request, b"GET /fcs HTTP/1.1\r\nHost: a\r\n\r\n"),
        ipv4_tcp(&response, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ];
    for f in &mut frames {
        let crc = fcs::crc32(f);
        f.extend_from_slice(&crc.to_le_bytes());
    }
    if bad {
        let last = frames[1].len() - 1;
        frames[1][last] ^= 0xff;
    }
    let times = [1_700_000_000_000_000_000, 1_700_000_000_000_001_000];
    let mut file =
        pcap_testkit::ethernet_pcap(times.into_iter().zip(frames.iter().map(Vec::as_slice)));
    file[20..24].copy_from_slice(&0x2400_0001u32.to_le_bytes());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fcs.pcap");
    std::fs::write(&path, file).unwrap();
    path
}

fn http_trace(path: &Path, threads: &str) -> (String, String) {
    let out = Command::new(BIN)
        .args(["http-trace", "--json", "--threads", threads, "-r"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn fcs_is_split_off_and_a_bad_one_is_counted() {
    let (good, bad) = (capture("fcs_good", false), capture("fcs_bad", true));
    // One thread, and workers whose counts are summed for the closing line.
    for threads in ["1", "2"] {
        let (out, err) = http_trace(&good, threads);
        assert!(out.contains(r#""uri":"/fcs""#), "{out}");
        assert!(out.contains(r#""body_len":2"#), "{out}");
        assert!(!err.contains("FCS"), "{err}");

        let (out, err) = http_trace(&bad, threads);
        // Decoded all the same (as tshark does), and reported.
        assert!(out.contains(r#""body_len":2"#), "{out}");
        assert!(err.contains(", 1 frame with a bad FCS"), "{err}");
    }
}
