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
        serve::run(config, rx, move |addr| ready_tx.send(addr).unwrap())
    });
    let addr = ready.recv().unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    for item in session() {
        feed.send(item).unwrap();
    }
    feed.send(FeedItem::End).unwrap();
    assert_eq!(http_get(addr, "/healthz", ""), (200, "ok\n".into()));
    let (status, stats) = http_get(addr, "/api/stats", "");
    assert_eq!(status, 200);
    assert!(stats.contains("\"capture\""), "{stats}");

    let pid = std::process::id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    server.join().unwrap().unwrap();
    // The port is free again.
    assert!(std::net::TcpStream::connect(addr).is_err());
}
