//! The web view's HTTP routes and WebSocket feed, driven by a synthetic feed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // helpers outside #[test] fns

mod serve_support;

use futures_util::StreamExt;
use pcap_cli::serve::FeedItem;
use serde_json::Value;
use serve_support::{bearer, http_get, session, start, wait_for};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: std::net::SocketAddr, token: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?token={token}"))
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
fn upgrade_status(addr: std::net::SocketAddr, path: &str, extra: &str) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n").unwrap();
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
    let auth = bearer(&server);
    let (status, page) = http_get(addr, "/", &auth);
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
    let head = raw_head(addr, &format!("/?token={}", server.token()));
    assert!(
        head.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{head}"
    );
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    assert!(head.contains("referrer-policy: no-referrer"), "{head}");
    // The token in the URL becomes a cookie for the page's own requests.
    let cookie = format!(
        "set-cookie: pcap_cli_token_{}={}; path=/; httponly; samesite=strict",
        addr.port(),
        server.token()
    );
    assert!(head.contains(&cookie), "{head}");
    let (status, js) = http_get(addr, "/assets/app.js", &auth);
    assert_eq!(status, 200);
    assert!(js.contains("new WebSocket"));
    assert!(
        !js.contains("innerHTML"),
        "captured data must not be inserted as HTML"
    );
    assert_eq!(http_get(addr, "/assets/app.css", &auth).0, 200);
    assert_eq!(http_get(addr, "/healthz", &auth), (200, "ok\n".into()));
    let (status, stats) = http_get(addr, "/api/stats", &auth);
    assert_eq!(status, 200);
    let stats: Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["published"], 0);
    assert_eq!(stats["ended"], false);
    assert_eq!(stats["cut"], 0);
    assert_eq!(http_get(addr, "/nope", &auth).0, 404);
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
        "GET /?token={} HTTP/1.1\r\nHost: evil.example:{}\r\nConnection: close\r\n\r\n",
        server.token(),
        addr.port()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    // A page from another origin must not read the feed.
    let ws_path = format!("/ws?token={}", server.token());
    let status = upgrade_status(
        addr,
        &ws_path,
        "Origin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    );
    assert_eq!(status, 403);
    // The page's own origin is fine.
    let status = upgrade_status(
        addr,
        &ws_path,
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
        let mut a = connect(addr, server.token()).await;
        let mut b = connect(addr, server.token()).await;
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
        let mut ws = connect(server.local_addr(), server.token()).await;
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
        let mut ws = connect(server.local_addr(), server.token()).await;
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
        let mut ws = connect(addr, server.token()).await;
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

/// Every route needs the token: 401 without one, 403 with a wrong one (in the query, the
/// `Authorization` header or the cookie), and each way of carrying the right one works.
#[test]
fn every_route_needs_the_token() {
    let (server, _feed) = start(|_| {});
    let addr = server.local_addr();
    let token = server.token().to_owned();
    let wrong = {
        // Same length, last character changed: only a full comparison tells them apart.
        let mut w = token.clone();
        let last = if w.ends_with('0') { '1' } else { '0' };
        w.pop();
        w.push(last);
        w
    };
    let cookie = |t: &str| format!("Cookie: pcap_cli_token_{}={t}\r\n", addr.port());
    let ws_headers = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
                      Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    for route in [
        "/",
        "/assets/app.js",
        "/assets/app.css",
        "/healthz",
        "/api/stats",
        "/ws",
        "/nope",
    ] {
        let ok = match route {
            "/ws" => 101,
            "/nope" => 404,
            _ => 200,
        };
        let status = |path: &str, extra: &str| {
            if route == "/ws" {
                upgrade_status(addr, path, &format!("{ws_headers}{extra}"))
            } else {
                http_get(addr, path, extra).0
            }
        };
        assert_eq!(status(route, ""), 401, "{route} without a token");
        let sep = if route.contains('?') { '&' } else { '?' };
        for (path, extra) in [
            (format!("{route}{sep}token={wrong}"), String::new()),
            (format!("{route}{sep}token="), String::new()),
            (
                route.to_owned(),
                format!("Authorization: Bearer {wrong}\r\n"),
            ),
            (route.to_owned(), cookie(&wrong)),
            (route.to_owned(), cookie(&token[..16])),
            // A wrong token in the query is not saved by a right cookie.
            (format!("{route}{sep}token={wrong}"), cookie(&token)),
        ] {
            assert_eq!(status(&path, &extra), 403, "{route}: {path} {extra:?}");
        }
        for (path, extra) in [
            (format!("{route}{sep}token={token}"), String::new()),
            (
                route.to_owned(),
                format!("Authorization: Bearer {token}\r\n"),
            ),
            (
                route.to_owned(),
                format!("Authorization: token {token}\r\n"),
            ),
            (route.to_owned(), cookie(&token)),
        ] {
            assert_eq!(status(&path, &extra), ok, "{route}: {path} {extra:?}");
        }
    }
    // A token given by the config is used as is; an unusable one is refused.
    let (server, _feed) = start(|c| c.token = Some("my-own-token_0123456789".into()));
    assert_eq!(server.token(), "my-own-token_0123456789");
    assert_eq!(
        http_get(
            server.local_addr(),
            "/healthz?token=my-own-token_0123456789",
            ""
        )
        .0,
        200
    );
    let mut config = pcap_cli::serve::ServeConfig::default();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.token = Some("short".into());
    let (_tx, rx) = std::sync::mpsc::channel();
    assert!(matches!(
        pcap_cli::serve::spawn(config, rx),
        Err(pcap_cli::serve::ServeError::BadToken)
    ));
}

/// An item over the size limit is sent with its long values cut, never dropped, and counted.
#[test]
fn a_request_with_a_200_kib_header_is_shown_cut() {
    let (server, feed) = start(|_| {});
    let big = "b".repeat(200 * 1024);
    let item = serde_json::json!({
        "type": "http", "stream": 3, "client": "10.0.0.1:40000", "server": "10.0.0.2:80",
        "request": {"ts": 1.0, "method": "GET", "uri": "/big", "version": "HTTP/1.1",
                    "headers": [["Host", "example.com"], ["X-Big", big]], "body_len": 0},
        "response": null,
    });
    feed.send(FeedItem::Http(item.to_string())).unwrap();
    feed.send(FeedItem::End).unwrap();
    wait_for(&server, |s| s.ended && s.published == 1);
    let stats = server.stats();
    assert_eq!((stats.cut, stats.rejected), (1, 0));
    let rt = runtime();
    rt.block_on(async {
        let mut ws = connect(server.local_addr(), server.token()).await;
        let (got, stats) = read_items(&mut ws, 1).await;
        assert_eq!(stats["cut"], 1);
        let it = &got[0];
        assert_eq!(it["kind"], "http");
        assert_eq!(it["cut"]["strings"], 1);
        assert_eq!(it["cut"]["bytes"], 200 * 1024 - 4096);
        assert_eq!(it["data"]["request"]["uri"], "/big");
        assert_eq!(it["data"]["request"]["headers"][0][1], "example.com");
        let value = it["data"]["request"]["headers"][1][1].as_str().unwrap();
        assert!(value.starts_with("bbbb") && value.ends_with("…[200704 bytes cut]"));
        assert!(it.to_string().len() < pcap_cli::serve::DEFAULT_MAX_ITEM_BYTES);
    });
    server.shutdown().unwrap();
}
