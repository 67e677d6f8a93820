//! The web view's HTTP routes and WebSocket feed, driven by a synthetic feed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // helpers outside #[test] fns

mod serve_support;

use futures_util::StreamExt;
use pcap_cli::serve::FeedItem;
use serde_json::Value;
use serve_support::{http_get, session, start, wait_for};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: std::net::SocketAddr) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("websocket handshake");
    ws
}

/// Reads messages until `want` items have arrived; returns (items, last stats).
async fn read_items(ws: &mut Ws, want: usize) -> (Vec<Value>, Value) {
    let mut items = Vec::new();
    let mut stats = Value::Null;
    while items.len() < want {
        let msg = ws.next().await.expect("stream open").expect("frame");
        let Message::Text(text) = msg else { continue };
        let v: Value = serde_json::from_str(&text).expect("each message is JSON");
        items.extend(v["items"].as_array().expect("items array").iter().cloned());
        stats = v["stats"].clone();
    }
    (items, stats)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Sends a WebSocket upgrade request and returns the response's status code (reading only
/// the head: an accepted upgrade keeps the connection open).
fn upgrade_status(addr: std::net::SocketAddr, extra: &str) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET /ws HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n").unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    line.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The response head of `GET path`, lower-cased.
fn raw_head(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split("\r\n\r\n").next().unwrap().to_ascii_lowercase()
}

#[test]
fn page_assets_and_health() {
    let (server, _feed) = start(|_| {});
    let addr = server.local_addr();
    let (status, page) = http_get(addr, "/", "");
    assert_eq!(status, 200);
    for id in [
        "filter",
        "pause",
        "clear",
        "status",
        "count-packets",
        "count-bytes",
        "count-capture-drops",
        "count-view-drops",
        "packet-rows",
        "tx-rows",
        "detail-body",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "page lacks #{id}");
    }
    // Everything is served from the binary; nothing from elsewhere.
    assert!(!page.contains("http://") && !page.contains("https://"));
    let head = raw_head(addr, "/");
    assert!(
        head.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{head}"
    );
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    let (status, js) = http_get(addr, "/assets/app.js", "");
    assert_eq!(status, 200);
    assert!(js.contains("new WebSocket"));
    assert!(
        !js.contains("innerHTML"),
        "captured data must not be inserted as HTML"
    );
    assert_eq!(http_get(addr, "/assets/app.css", "").0, 200);
    assert_eq!(http_get(addr, "/healthz", ""), (200, "ok\n".into()));
    let (status, stats) = http_get(addr, "/api/stats", "");
    assert_eq!(status, 200);
    let stats: Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["published"], 0);
    assert_eq!(stats["ended"], false);
    assert_eq!(http_get(addr, "/nope", "").0, 404);
    server.shutdown().unwrap();
}

#[test]
fn foreign_host_and_cross_origin_websocket_are_refused() {
    let (server, _feed) = start(|_| {});
    let addr = server.local_addr();
    // DNS rebinding: a browser on evil.example resolving to 127.0.0.1 sends its own Host.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: evil.example:{}\r\nConnection: close\r\n\r\n",
        addr.port()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    // A page from another origin must not read the feed.
    let status = upgrade_status(
        addr,
        "Origin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    );
    assert_eq!(status, 403);
    // The page's own origin is fine.
    let status = upgrade_status(
        addr,
        &format!(
            "Origin: http://{addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        ),
    );
    assert_eq!(status, 101);
    server.shutdown().unwrap();
}

#[test]
fn websocket_clients_receive_every_item_in_order_with_counters() {
    let (server, feed) = start(|_| {});
    let addr = server.local_addr();
    let rt = runtime();
    rt.block_on(async {
        let mut a = connect(addr).await;
        let mut b = connect(addr).await;
        wait_for(&server, |s| s.clients.len() == 2);

        let items = session();
        let expected: Vec<&FeedItem> = items
            .iter()
            .filter(|i| !matches!(i, FeedItem::Stats { .. }))
            .collect();
        for item in items.iter().cloned() {
            feed.send(item).unwrap();
        }
        feed.send(FeedItem::Tcp("not json".into())).unwrap();
        feed.send(FeedItem::Http("[\"an array\"]".into())).unwrap();
        feed.send(FeedItem::End).unwrap();

        let mut last_stats = Value::Null;
        for ws in [&mut a, &mut b] {
            let (got, stats) = read_items(ws, expected.len()).await;
            last_stats = stats;
            assert_eq!(got.len(), expected.len());
            for (got, want) in got.iter().zip(&expected) {
                let (kind, json) = match want {
                    FeedItem::Packet(j) => ("packet", j),
                    FeedItem::Http(j) => ("http", j),
                    FeedItem::WebSocket(j) => ("websocket", j),
                    FeedItem::Tcp(j) => ("tcp", j),
                    other => panic!("unexpected {other:?}"),
                };
                assert_eq!(got["kind"], kind);
                assert_eq!(got["data"], serde_json::from_str::<Value>(json).unwrap());
            }
        }
        wait_for(&server, |s| s.ended);
        // Counters also arrive without items once the feed is quiet.
        let mut stats = last_stats;
        while stats["ended"] != true {
            let Message::Text(text) = b.next().await.unwrap().unwrap() else {
                continue;
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            stats = v["stats"].clone();
        }
        assert_eq!(stats["packets"], 49);
        assert_eq!(stats["bytes"], 48_213);
        assert_eq!(stats["view_drops"], 0);
    });
    let stats = server.stats();
    assert_eq!(stats.rejected, 2);
    assert_eq!(stats.published as usize, session().len() - 1);
    server.shutdown().unwrap();
}

#[test]
fn late_browser_gets_the_recent_history() {
    let (server, feed) = start(|c| c.history = 5);
    for item in session() {
        feed.send(item).unwrap();
    }
    feed.send(FeedItem::End).unwrap();
    wait_for(&server, |s| s.ended);
    let rt = runtime();
    rt.block_on(async {
        let mut ws = connect(server.local_addr()).await;
        // 5 packets and 5 transactions: the packet flood did not push the transactions out.
        let (got, _) = read_items(&mut ws, 10).await;
        let kinds: Vec<&str> = got.iter().map(|i| i["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "packet").count(), 5);
        assert_eq!(kinds.iter().filter(|k| **k == "websocket").count(), 5);
        let frames: Vec<u64> = got
            .iter()
            .filter_map(|i| i["data"]["frame"].as_u64())
            .collect();
        assert_eq!(frames, vec![45, 46, 47, 48, 49]);
    });
    server.shutdown().unwrap();
}

#[test]
fn closed_feed_counts_as_end_and_shutdown_closes_websockets() {
    let (server, feed) = start(|_| {});
    let rt = runtime();
    rt.block_on(async {
        let mut ws = connect(server.local_addr()).await;
        drop(feed);
        wait_for(&server, |s| s.ended);
        let server = std::thread::spawn(move || server.shutdown());
        // The server says goodbye: the stream ends with a close frame (or just ends).
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_close() {
                break;
            }
        }
        server.join().unwrap().unwrap();
    });
}

#[test]
fn dropping_the_handle_stops_the_server() {
    let (server, _feed) = start(|_| {});
    let addr = server.local_addr();
    let rt = runtime();
    rt.block_on(async {
        let mut ws = connect(addr).await;
        drop(server);
        // The WebSocket is closed by the server, not left hanging.
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_close() {
                break;
            }
        }
    });
    // And it stops accepting (bounded count of attempts while it winds down).
    let refused = (0..2000).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(5));
        std::net::TcpStream::connect(addr).is_err()
    });
    assert!(
        refused,
        "server still accepting after its handle was dropped"
    );
}
