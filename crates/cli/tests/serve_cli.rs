//! `pcap-cli serve` as a user runs it: the URL with its token on stderr, nothing served
//! without the token, and a transaction too large for one feed item shown cut and counted,
//! on the page's counters and in the line printed when serve stops.
#![cfg(unix)]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};

use pcap_decode::build::{self, FrameSpec, TcpSpec};

/// `GET path` with extra header lines; (status, body).
fn get(addr: SocketAddr, path: &str, extra: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned());
    (status, body.unwrap_or_default())
}

/// One session whose request has a 60 000-byte header of bytes that are not UTF-8: under the
/// HTTP decoder's 64 KiB head limit, but each byte is six in JSON (`\u00ff`), so the
/// transaction's item is about 360 KiB, over serve's 64 KiB.
fn big_header_capture(path: &std::path::Path) {
    let mut request = b"GET /big HTTP/1.1\r\nHost: example.com\r\nX-Big: ".to_vec();
    request.extend(std::iter::repeat_n(0xffu8, 60_000));
    request.extend_from_slice(b"\r\n\r\n");
    let response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let seg = |from_client: bool, seq: u32, ack: u32, flags: u16, data: &[u8]| {
        let (src_port, dst_port) = if from_client {
            (40000, 80)
        } else {
            (80, 40000)
        };
        let mut frame = FrameSpec::default();
        if !from_client {
            frame.eth = build::EthSpec {
                src: frame.eth.dst,
                dst: frame.eth.src,
            };
            if let build::IpSpec::V4(ip) = &mut frame.ip {
                std::mem::swap(&mut ip.src, &mut ip.dst);
            }
        }
        let tcp = TcpSpec {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            ..TcpSpec::default()
        };
        build::tcp_frame(&frame, &tcp, data)
    };
    let rq = request.len() as u32;
    let rs = response.len() as u32;
    let frames = [
        seg(true, 1000, 0, 0x002, b""),
        seg(false, 5000, 1001, 0x012, b""),
        seg(true, 1001, 5001, 0x010, b""),
        seg(true, 1001, 5001, 0x018, &request),
        seg(false, 5001, 1001 + rq, 0x018, response),
        seg(true, 1001 + rq, 5001 + rs, 0x011, b""),
        seg(false, 5001 + rs, 1002 + rq, 0x011, b""),
        seg(true, 1002 + rq, 5002 + rs, 0x010, b""),
    ];
    let times = (0..).map(|i| 1_700_000_000_000_000_000 + i * 1000);
    let file = pcap_testkit::ethernet_pcap(times.zip(frames.iter().map(Vec::as_slice)));
    std::fs::write(path, file).unwrap();
}

#[test]
fn serve_prints_a_token_url_refuses_without_it_and_cuts_large_items() {
    /// Stops the server even when an assertion fails.
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let dir = std::env::temp_dir().join(format!("pcap-cli-serve-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cap = dir.join("big-header.pcap");
    big_header_capture(&cap);
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
            .args(["serve", "--fast", "--listen", "127.0.0.1:0", "-r"])
            .arg(&cap)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(server.0.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    let (authority, token) = url
        .strip_prefix("http://")
        .and_then(|u| u.split_once("/?token="))
        .unwrap_or_else(|| panic!("no token in {url}"));
    assert!(token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()));
    let addr: SocketAddr = authority.parse().unwrap();

    for route in ["/", "/api/stats", "/healthz", "/ws", "/assets/app.js"] {
        assert_eq!(get(addr, route, "").0, 401, "{route}");
        let wrong = format!(
            "{route}?token={}{}",
            &token[..31],
            if token.ends_with('0') { "1" } else { "0" }
        );
        assert_eq!(get(addr, &wrong, "").0, 403, "{route}");
    }
    assert_eq!(get(addr, &format!("/?token={token}"), "").0, 200);
    let auth = format!("Authorization: Bearer {token}\r\n");
    let mut stats = serde_json::Value::Null;
    for _ in 0..2000 {
        let (status, body) = get(addr, "/api/stats", &auth);
        assert_eq!(status, 200);
        stats = serde_json::from_str(&body).unwrap();
        if stats["ended"] == true {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(stats["ended"], true, "{stats}");
    assert_eq!(stats["cut"], 1, "{stats}");
    assert_eq!(stats["rejected"], 0, "{stats}");

    let _ = Command::new("kill")
        .args(["-INT", &server.0.id().to_string()])
        .status();
    let status = server.0.wait().unwrap();
    assert!(status.success(), "serve exited with {status:?}");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(
        rest.contains("1 item over 64 KiB of JSON was shown with long values cut"),
        "{rest}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
