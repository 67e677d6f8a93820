//! WebSocket over HTTP/2 (RFC 8441) end to end: a capture written here (an h2c connection
//! whose stream 1 is an extended CONNECT answered 200, then WebSocket frames in its DATA)
//! through `pcap-cli http-trace`: the `http` record of the upgrade, then `websocket` lines
//! with `h2_stream`, in JSON and text; a filter that hides the upgrade hides the messages.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pcap_testkit::h2c::{self, PREFACE, Ports, frame as h2, literal_block as block};
use serde_json::Value;

const PORTS: Ports = Ports {
    client: 40123,
    server: 80,
};
const KEY: [u8; 4] = [0x11, 0x22, 0x33, 0x44];

/// The test's h2c session: handshake, one segment per `(from_client, bytes)`, FINs.
fn session(segments: &[(bool, Vec<u8>)]) -> Vec<Vec<u8>> {
    h2c::session(PORTS, segments)
}

fn ws(fin: bool, opcode: u8, payload: &[u8], mask: bool) -> Vec<u8> {
    let mut f = vec![u8::from(fin) << 7 | opcode];
    assert!(payload.len() < 126);
    f.push(u8::from(mask) << 7 | payload.len() as u8);
    if mask {
        f.extend(KEY);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
    } else {
        f.extend(payload);
    }
    f
}

fn capture(path: &Path) {
    let mut settings = h2(4, 0, 0, b"\x00\x08\x00\x00\x00\x01");
    settings.extend(h2(4, 0x1, 0, b""));
    let mut hello = PREFACE.to_vec();
    hello.extend(h2(4, 0, 0, b""));
    hello.extend(h2(4, 0x1, 0, b""));
    hello.extend(h2(
        1,
        0x4,
        1,
        &block(&[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "http"),
            (":path", "/chat"),
            (":authority", "example.test"),
            ("sec-websocket-version", "13"),
        ]),
    ));
    let ok = h2(1, 0x4, 1, &block(&[(":status", "200")]));
    let mut c1 = ws(true, 1, b"hello over h2", true);
    c1.extend(ws(false, 1, b"frag", true));
    let tail = ws(true, 0, b"ment", true);
    let mut d = h2(0, 0, 1, &c1);
    d.extend(h2(0, 0, 1, &tail[..4]));
    let d2 = h2(0, 0, 1, &tail[4..]);
    let mut s1 = ws(true, 2, &[0, 1, 2, 3, 255], false);
    s1.extend(ws(true, 9, b"are you there", false));
    let pong = h2(0, 0, 1, &ws(true, 10, b"are you there", true));
    let mut close = 1000u16.to_be_bytes().to_vec();
    close.extend(b"done");
    let c_close = h2(0, 0x1, 1, &ws(true, 8, &close, true));
    let s_close = h2(0, 0x1, 1, &ws(true, 8, &close, false));
    let frames = session(&[
        (false, settings),
        (true, hello),
        (false, ok),
        (true, d),
        (true, d2),
        (false, h2(0, 0, 1, &s1)),
        (true, pong),
        (true, c_close),
        (false, s_close),
    ]);
    let times = (0..).map(|i| 1_700_000_000_000_000_000 + i * 1_000_000);
    let file = pcap_testkit::ethernet_pcap(times.zip(frames.iter().map(Vec::as_slice)));
    std::fs::write(path, file).unwrap();
}

fn run(args: &[&str]) -> String {
    let o: Output = Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn websocket_over_h2_in_http_trace() {
    let dir = TempDir(std::env::temp_dir().join(format!("h2ws-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("h2ws.pcap");
    capture(&path);
    let file = path.to_str().unwrap();

    let lines: Vec<Value> = run(&["http-trace", "-r", file, "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "http",
            "websocket",
            "websocket",
            "websocket",
            "websocket",
            "websocket",
            "websocket",
            "websocket"
        ],
        "{lines:#?}"
    );
    let http = &lines[0];
    assert_eq!(http["h2_stream"], 1);
    assert_eq!(http["request"]["method"], "CONNECT");
    assert_eq!(http["request"]["uri"], "/chat");
    assert_eq!(http["response"]["status"], 200);
    assert_eq!(http["complete"], true);
    let ws: Vec<(String, String, u64, Option<&str>)> = lines[1..]
        .iter()
        .map(|l| {
            assert_eq!(l["h2_stream"], 1, "{l}");
            assert_eq!(l["stream"], 0, "{l}");
            (
                l["dir"].as_str().unwrap().to_owned(),
                l["opcode"].as_str().unwrap().to_owned(),
                l["len"].as_u64().unwrap(),
                l["text"].as_str(),
            )
        })
        .collect();
    let want: Vec<(String, String, u64, Option<&str>)> = [
        ("c2s", "text", 13, Some("hello over h2")),
        ("c2s", "text", 8, Some("fragment")),
        ("s2c", "binary", 5, None),
        ("s2c", "ping", 13, None),
        ("c2s", "pong", 13, None),
        ("c2s", "close", 6, None),
        ("s2c", "close", 6, None),
    ]
    .into_iter()
    .map(|(d, o, l, t)| (d.to_owned(), o.to_owned(), l, t))
    .collect();
    assert_eq!(ws, want);

    let text = run(&["http-trace", "-r", file]);
    assert!(
        text.contains("[stream 0 h2 1] ws text 13 B: \"hello over h2\""),
        "{text}"
    );
    assert!(text.contains("CONNECT"), "{text}");

    // A filter that hides the upgrade hides its messages.
    let hidden = run(&["http-trace", "-r", file, "--json", "--url", "^/other$"]);
    assert_eq!(hidden, "", "{hidden}");
}
