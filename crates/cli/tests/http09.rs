//! HTTP/0.9 through the binary: a simple request (`GET /path`, no version, no headers) and its
//! response (no status line, a body up to the close) are one transaction of version
//! `HTTP/0.9` in `http-trace`'s text and JSON.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use pcap_decode::build::{TcpSpec, ipv4_tcp};

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");

/// Handshake, the simple request, the bare response closed by the server's FIN.
fn capture(test: &str) -> PathBuf {
    let request = b"GET /old.html\r\n";
    let body = b"<html>an HTTP/0.9 page</html>\n";
    let client = |seq: u32, ack: u32, flags: u16, payload: &[u8]| {
        let tcp = TcpSpec {
            seq,
            ack,
            flags,
            ..TcpSpec::default()
        };
        ipv4_tcp(&tcp, payload)
    };
    let server = |seq: u32, ack: u32, flags: u16, payload: &[u8]| {
        let tcp = TcpSpec {
            src_port: 80,
            dst_port: 40000,
            seq,
            ack,
            flags,
            ..TcpSpec::default()
        };
        let mut f = ipv4_tcp(&tcp, payload);
        // Swap the IPv4 addresses: both checksums stay valid (sums do not depend on order).
        let (src, dst) = (f[26..30].to_vec(), f[30..34].to_vec());
        f[26..30].copy_from_slice(&dst);
        f[30..34].copy_from_slice(&src);
        f
    };
    let req_end = 1 + request.len() as u32;
    let frames = [
        client(0, 0, 0x002, b""),
        server(0, 1, 0x012, b""),
        client(1, 1, 0x010, b""),
        client(1, 1, 0x018, request),
        server(1, req_end, 0x018, body),
        server(1 + body.len() as u32, req_end, 0x011, b""),
        client(req_end, 2 + body.len() as u32, 0x011, b""),
    ];
    let times = (0..frames.len() as i64).map(|i| 1_700_000_000_000_000_000 + i * 1000);
    let file = pcap_testkit::ethernet_pcap(times.zip(frames.iter().map(Vec::as_slice)));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("http09.pcap");
    std::fs::write(&path, file).unwrap();
    path
}

fn http_trace(path: &Path, json: bool) -> String {
    let mut args = vec!["http-trace", "-r", path.to_str().unwrap(), "--no-color"];
    if json {
        args.push("--json");
    }
    let out = Command::new(BIN).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn http09_exchange_is_one_transaction() {
    let path = capture("http09_exchange_is_one_transaction");
    let json = http_trace(&path, true);
    let lines: Vec<&str> = json
        .lines()
        .filter(|l| l.contains(r#""type":"http""#))
        .collect();
    assert_eq!(lines.len(), 1, "{json}");
    let l = lines[0];
    assert!(
        l.contains(r#""method":"GET","uri":"/old.html","version":"HTTP/0.9""#),
        "{l}"
    );
    assert!(l.contains(r#""version":"HTTP/0.9","status":200"#), "{l}");
    assert!(l.contains(r#""body_len":30"#), "{l}");
    let text = http_trace(&path, false);
    assert!(text.contains("GET /old.html"), "{text}");
}
