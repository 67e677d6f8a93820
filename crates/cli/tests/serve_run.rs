//! `serve::run`, the entry point of `pcap-cli serve`: ready callback, then Ctrl-C stops it.
//! Alone in its own test binary because it sends SIGINT to its own process.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // helpers outside #[test] fns

mod serve_support;

use std::sync::mpsc;

use pcap_cli::serve::{self, FeedItem, ServeConfig};
use serve_support::{http_get, session};

#[test]
fn run_announces_its_address_and_stops_on_ctrl_c() {
    let (feed, rx) = mpsc::channel();
    let (ready_tx, ready) = mpsc::channel();
    let mut config = ServeConfig::default();
    config.listen = "127.0.0.1:0".parse().unwrap();
    let server = std::thread::spawn(move || {
        serve::run(config, rx, move |addr, url: &str| {
            ready_tx.send((addr, url.to_owned())).unwrap();
        })
    });
    let (addr, url) = ready.recv().unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    // The URL to open, as Jupyter prints it: 128 bits of token in hex.
    let token = url
        .strip_prefix(&format!("http://{addr}/?token="))
        .unwrap_or_else(|| panic!("{url}"));
    assert!(
        token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{url}"
    );
    let auth = format!("Authorization: Bearer {token}\r\n");
    for item in session() {
        feed.send(item).unwrap();
    }
    feed.send(FeedItem::End).unwrap();
    assert_eq!(http_get(addr, "/healthz", "").0, 401);
    assert_eq!(http_get(addr, "/healthz", &auth), (200, "ok\n".into()));
    let (status, stats) = http_get(addr, "/api/stats", &auth);
    assert_eq!(status, 200);
    assert!(stats.contains("\"capture\""), "{stats}");

    let pid = std::process::id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let stats = server.join().unwrap().unwrap();
    assert_eq!(stats.cut, 0);
    // The port is free again.
    assert!(std::net::TcpStream::connect(addr).is_err());
}
