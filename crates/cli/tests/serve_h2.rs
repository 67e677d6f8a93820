//! `pcap-cli serve -r` on an h2c capture written here: the page's feed carries the gRPC
//! messages, the call's status, RST_STREAM and GOAWAY (kinds `grpc` and `http2`) besides
//! the HTTP/2 transactions, as the objects `http-trace --json` prints.
#![cfg(unix)]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use pcap_testkit::h2c::{self, Ports, frame as h2, literal_block as block};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

const PORTS: Ports = Ports {
    client: 40777,
    server: 50051,
};

/// The test's h2c session: handshake, one segment per `(from_client, bytes)`, FINs.
fn session(segments: &[(bool, Vec<u8>)]) -> Vec<Vec<u8>> {
    h2c::session(PORTS, segments)
}

/// A gRPC call on stream 1 that fails with status 5 and a message carrying a bidi
/// override (percent-encoded, as gRPC sends it), a GET on stream 3 the client resets, and
/// the server's GOAWAY.
fn capture(path: &std::path::Path) {
    let mut c = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    c.extend(h2(4, 0, 0, b""));
    c.extend(h2(
        1,
        0x4,
        1,
        &block(&[
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/pkg.Items/Get"),
            (":authority", "grpc.test"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ]),
    ));
    c.extend(h2(0, 0x1, 1, &[0, 0, 0, 0, 3, 0x0a, 0x01, b'A']));
    let mut s = h2(4, 0, 0, b"");
    s.extend(h2(
        1,
        0x4,
        1,
        &block(&[(":status", "200"), ("content-type", "application/grpc")]),
    ));
    s.extend(h2(0, 0, 1, &[0, 0, 0, 0, 2, 0x08, 0x01]));
    s.extend(h2(
        1,
        0x5,
        1,
        &block(&[
            ("grpc-status", "5"),
            ("grpc-message", "no item%E2%80%AEevil"),
        ]),
    ));
    let mut c2 = h2(
        1,
        0x5,
        3,
        &block(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/slow"),
            (":authority", "grpc.test"),
        ]),
    );
    c2.extend(h2(3, 0, 3, &8u32.to_be_bytes()));
    let mut goaway = 3u32.to_be_bytes().to_vec();
    goaway.extend(0u32.to_be_bytes());
    let s2 = h2(7, 0, 0, &goaway);
    let frames = session(&[(true, c), (false, s), (true, c2), (false, s2)]);
    let times = (0..).map(|i| 1_700_000_000_000_000_000 + i * 1_000_000);
    let file = pcap_testkit::ethernet_pcap(times.zip(frames.iter().map(Vec::as_slice)));
    std::fs::write(path, file).unwrap();
}

#[test]
fn serve_feeds_grpc_rst_stream_and_goaway() {
    /// Stops the server even when an assertion fails.
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let dir = std::env::temp_dir().join(format!("pcap-cli-serve-h2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cap = dir.join("grpc.pcap");
    capture(&cap);
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
    // The address line; with --fast the capture's closing line may come first.
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("no address in {seen:?}");
        }
        if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            break url.to_owned();
        }
        seen.push_str(&line);
    };
    let ws_url = url
        .replacen("http://", "ws://", 1)
        .replacen("/?token=", "/ws?token=", 1);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let items: Vec<Value> = rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
        let mut items = Vec::new();
        // History first, then the capture's end in the stats.
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
                .await
                .expect("feed within 20 s")
                .expect("stream open")
                .expect("frame");
            let Message::Text(text) = msg else { continue };
            let v: Value = serde_json::from_str(&text).unwrap();
            items.extend(v["items"].as_array().unwrap().iter().cloned());
            let kinds = |k: &str| items.iter().filter(|i| i["kind"] == k).count();
            if v["stats"]["ended"] == true && kinds("http2") >= 2 && kinds("grpc") >= 3 {
                break;
            }
        }
        items
    });
    let of = |kind: &str| -> Vec<&Value> {
        items
            .iter()
            .filter(|i| i["kind"] == kind)
            .map(|i| &i["data"])
            .collect()
    };
    let grpc = of("grpc");
    let messages: Vec<(&str, u64)> = grpc
        .iter()
        .filter(|g| g["type"] == "grpc")
        .map(|g| (g["dir"].as_str().unwrap(), g["len"].as_u64().unwrap()))
        .collect();
    assert_eq!(messages, [("c2s", 3), ("s2c", 2)], "{grpc:#?}");
    assert!(
        grpc.iter()
            .all(|g| g["path"] == "/pkg.Items/Get" && g["h2_stream"] == 1)
    );
    let status = grpc.iter().find(|g| g["type"] == "grpc_status").unwrap();
    assert_eq!(status["status"], 5);
    assert_eq!(status["message"], "no item\u{202e}evil");
    let h2: Vec<(&str, &str, &str)> = of("http2")
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap(),
                e["error"].as_str().unwrap(),
                e["dir"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        h2,
        [
            ("rst_stream", "CANCEL", "c2s"),
            ("goaway", "NO_ERROR", "s2c")
        ]
    );
    assert_eq!(of("http2")[0]["h2_stream"], 3);
    assert_eq!(of("http2")[1]["last_stream"], 3);
    assert_eq!(of("http").len(), 2);
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}
