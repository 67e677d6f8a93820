//! Shared helpers for the `serve_*` tests: start a server, speak plain HTTP, and build a
//! realistic synthetic feed (one browsing session: DNS, a TCP handshake, HTTP, WebSocket).
#![allow(dead_code)] // each test file uses a different part
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test support

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;

use pcap_cli::serve::{self, FeedItem, ServeConfig, ServerHandle};

/// A server on 127.0.0.1 with a free port, and the sending side of its feed.
pub fn start(
    configure: impl FnOnce(&mut ServeConfig),
) -> (ServerHandle, mpsc::SyncSender<FeedItem>) {
    let mut config = ServeConfig::default();
    config.listen = "127.0.0.1:0".parse().unwrap();
    configure(&mut config);
    let (tx, rx) = mpsc::sync_channel(1024);
    let handle = serve::spawn(config, rx).expect("server starts");
    assert_ne!(handle.local_addr().port(), 0);
    (handle, tx)
}

/// The header line that carries `server`'s access token.
pub fn bearer(server: &ServerHandle) -> String {
    format!("Authorization: Bearer {}\r\n", server.token())
}

/// `GET path` with the given extra header lines; returns (status code, body).
pub fn http_get(addr: SocketAddr, path: &str, extra: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Polls `/`-less server state until `done` holds; bounded by a loop count, not a timer.
pub fn wait_for(handle: &ServerHandle, mut done: impl FnMut(&serve::ServeStats) -> bool) {
    for _ in 0..20_000 {
        if done(&handle.stats()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    panic!("condition not reached; last stats: {:?}", handle.stats());
}

fn packet(
    frame: u32,
    ts: f64,
    proto: &str,
    src: &str,
    dst: &str,
    len: u32,
    summary: &str,
) -> FeedItem {
    let (net, transport) = match proto {
        "arp" => (String::from("\"arp\":{\"op\":\"request\"}"), String::new()),
        _ => {
            let (sa, sp) = src.rsplit_once(':').unwrap();
            let (da, dp) = dst.rsplit_once(':').unwrap();
            let l4 = if proto == "udp" || proto == "dns" {
                "udp"
            } else {
                "tcp"
            };
            let ip = if sa.contains(':') { "ipv6" } else { "ipv4" };
            let sa = sa.trim_matches(['[', ']']);
            let da = da.trim_matches(['[', ']']);
            (
                format!("\"{ip}\":{{\"src\":\"{sa}\",\"dst\":\"{da}\",\"ttl\":64}}"),
                format!(",\"{l4}\":{{\"src_port\":{sp},\"dst_port\":{dp}}}"),
            )
        }
    };
    let extra = if proto == "dns" { ",\"dns\":{}" } else { "" };
    FeedItem::Packet(format!(
        "{{\"frame\":{frame},\"ts\":{ts:.6},\"caplen\":{len},\"len\":{len},\
         \"eth\":{{\"src\":\"52:54:00:12:34:56\",\"dst\":\"52:54:00:65:43:21\"}},\
         {net}{transport}{extra},\"summary\":\"{summary}\"}}"
    ))
}

#[allow(clippy::too_many_arguments)] // one row of a table of transactions
fn http(
    stream: u32,
    ts: f64,
    method: &str,
    host: &str,
    uri: &str,
    status: u16,
    reason: &str,
    ctype: &str,
    body_len: u32,
    preview: &str,
) -> FeedItem {
    let preview = serde_json::to_string(preview).unwrap();
    FeedItem::Http(format!(
        "{{\"type\":\"http\",\"stream\":{stream},\"client\":\"192.168.1.23:{port}\",\"server\":\"93.184.215.14:80\",\
         \"request\":{{\"ts\":{ts:.6},\"method\":\"{method}\",\"uri\":\"{uri}\",\"version\":\"HTTP/1.1\",\
         \"headers\":[[\"Host\",\"{host}\"],[\"User-Agent\",\"Mozilla/5.0 (X11; Linux x86_64)\"],[\"Accept\",\"*/*\"]],\"body_len\":0}},\
         \"response\":{{\"ts\":{rts:.6},\"version\":\"HTTP/1.1\",\"status\":{status},\"reason\":\"{reason}\",\
         \"headers\":[[\"Content-Type\",\"{ctype}\"],[\"Content-Length\",\"{body_len}\"],[\"Server\",\"nginx\"]],\
         \"body_len\":{body_len},\"body_preview\":{preview}}}}}",
        port = 50_000 + stream,
        rts = ts + 0.031,
    ))
}

fn ws(stream: u32, ts: f64, dir: &str, text: &str) -> FeedItem {
    FeedItem::WebSocket(format!(
        "{{\"type\":\"websocket\",\"stream\":{stream},\"ts\":{ts:.6},\"client\":\"192.168.1.23:{port}\",\
         \"server\":\"93.184.215.14:80\",\"dir\":\"{dir}\",\"opcode\":\"text\",\"len\":{len},\"text\":{text}}}",
        port = 50_000 + stream,
        len = text.len(),
        text = serde_json::to_string(text).unwrap(),
    ))
}

/// A browsing session as the capture side would feed it. The HTTP transactions' URIs are
/// listed by [`session_uris`] so tests can look for them in the page.
pub fn session() -> Vec<FeedItem> {
    let c = "192.168.1.23";
    let s = "93.184.215.14";
    let mut items = vec![
        packet(
            1,
            0.0,
            "arp",
            "",
            "",
            42,
            "ARP, Request who-has 192.168.1.1 tell 192.168.1.23",
        ),
        packet(
            2,
            0.000_211,
            "dns",
            "192.168.1.23:41234",
            "192.168.1.1:53",
            74,
            "DNS Standard query 0x1a2b A shop.example.com",
        ),
        packet(
            3,
            0.012_904,
            "dns",
            "192.168.1.1:53",
            "192.168.1.23:41234",
            90,
            "DNS Standard query response 0x1a2b A 93.184.215.14",
        ),
    ];
    let mut frame = 4;
    let mut t = 0.013;
    let pages = [
        (
            "GET",
            "/",
            200,
            "OK",
            "text/html; charset=utf-8",
            5120,
            "<!doctype html><html><head><title>Shop</title>",
        ),
        (
            "GET",
            "/static/app.css",
            200,
            "OK",
            "text/css",
            18342,
            "body{margin:0;font-family:sans-serif}",
        ),
        (
            "GET",
            "/api/cart?session=42",
            200,
            "OK",
            "application/json",
            87,
            "{\"items\":[{\"sku\":\"A-100\",\"qty\":2}],\"total\":\"39.80\"}",
        ),
        ("POST", "/api/checkout", 302, "Found", "text/plain", 0, ""),
        (
            "GET",
            "/images/logo.png",
            304,
            "Not Modified",
            "image/png",
            0,
            "",
        ),
        (
            "GET",
            "/api/user/profile",
            401,
            "Unauthorized",
            "application/json",
            31,
            "{\"error\":\"login required\"}",
        ),
        (
            "GET",
            "/missing",
            404,
            "Not Found",
            "text/html",
            162,
            "<html><body>404</body></html>",
        ),
        (
            "GET",
            "/api/search?q=lamp",
            500,
            "Internal Server Error",
            "text/plain",
            21,
            "upstream timed out",
        ),
    ];
    for (stream, (method, uri, status, reason, ctype, len, preview)) in
        pages.into_iter().enumerate()
    {
        let stream = stream as u32;
        let port = 50_000 + stream;
        let cl = format!("{c}:{port}");
        let sv = format!("{s}:80");
        for (from, to, l, sum) in [
            (
                &cl,
                &sv,
                74,
                format!("{port} → 80 [SYN] Seq=0 Win=64240 Len=0"),
            ),
            (
                &sv,
                &cl,
                74,
                format!("80 → {port} [SYN, ACK] Seq=0 Ack=1 Win=65160 Len=0"),
            ),
            (
                &cl,
                &sv,
                66,
                format!("{port} → 80 [ACK] Seq=1 Ack=1 Win=502 Len=0"),
            ),
            (&cl, &sv, 420, format!("{method} {uri} HTTP/1.1")),
            (
                &sv,
                &cl,
                66 + len.min(1448),
                format!("HTTP/1.1 {status} {reason}  ({ctype})"),
            ),
        ] {
            items.push(packet(frame, t, "tcp", from, to, l, &sum));
            frame += 1;
            t += 0.004_3;
        }
        items.push(http(
            stream,
            t - 0.01,
            method,
            "shop.example.com",
            uri,
            status,
            reason,
            ctype,
            len,
            preview,
        ));
        items.push(FeedItem::Tcp(format!(
            "{{\"type\":\"tcp\",\"stream\":{stream},\"ts\":{t:.6},\"event\":\"closed\",\"client\":\"{cl}\",\"server\":\"{sv}\",\"reason\":\"fin\"}}"
        )));
    }
    // A WebSocket chat on one more stream.
    let stream = pages_len();
    for (i, (dir, text)) in [
        ("c2s", "{\"op\":\"subscribe\",\"room\":\"lobby\"}"),
        ("s2c", "{\"op\":\"welcome\",\"users\":3}"),
        ("c2s", "hello everyone"),
        ("s2c", "{\"from\":\"ana\",\"msg\":\"hi there!\"}"),
        ("s2c", "{\"op\":\"ping\"}"),
    ]
    .into_iter()
    .enumerate()
    {
        let port = 50_000 + stream;
        let (from, to) = if dir == "c2s" {
            (format!("{c}:{port}"), format!("{s}:80"))
        } else {
            (format!("{s}:80"), format!("{c}:{port}"))
        };
        items.push(packet(
            frame,
            t,
            "tcp",
            &from,
            &to,
            66 + text.len() as u32 + 6,
            &format!(
                "WebSocket Text [FIN] {}",
                if dir == "c2s" { "[MASKED]" } else { "" }
            ),
        ));
        frame += 1;
        items.push(ws(stream, t, dir, text));
        t += 0.2 + i as f64 * 0.05;
    }
    items.push(packet(
        frame,
        t,
        "tcp",
        "[2001:db8::23]:50100",
        "[2001:db8::80]:443",
        86,
        "50100 → 443 [ACK] Seq=518 Ack=4410 Win=501 Len=0",
    ));
    let packets = u64::from(frame);
    items.push(FeedItem::Stats {
        packets,
        bytes: 48_213,
        drops: 0,
    });
    items
}

fn pages_len() -> u32 {
    8
}

/// The URIs of the HTTP transactions in [`session`].
pub fn session_uris() -> [&'static str; 8] {
    [
        "/",
        "/static/app.css",
        "/api/cart?session=42",
        "/api/checkout",
        "/images/logo.png",
        "/api/user/profile",
        "/missing",
        "/api/search?q=lamp",
    ]
}
