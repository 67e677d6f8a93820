//! End to end in a real headless browser: the page must render the feed into the DOM.
//!
//! Needs a Chromium binary (Debian: `apt-get install chromium`), found as `$PCAP_CHROMIUM`,
//! or `chromium`, `chromium-browser`, `google-chrome` on `PATH`. Without one the test prints
//! SKIPPED and passes, unless `PCAP_REQUIRE_BROWSER=1`. Nothing is downloaded.
//! With `PCAP_SERVE_SCREENSHOT=path.png` it also saves a 1280x800 screenshot of the page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // helpers outside #[test] fns

mod serve_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use pcap_cli::serve::FeedItem;
use serve_support::{session, session_uris, start, wait_for};

fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PCAP_CHROMIUM") {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let dirs = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&dirs).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `url` with the given extra arguments; returns stdout.
fn chromium(bin: &Path, url: &str, extra: &[&str]) -> String {
    let profile = std::env::temp_dir().join(format!("pcap-serve-chromium-{}", std::process::id()));
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The rendered DOM once the feed has been shown (the status says so). Virtual time can run
/// out before the WebSocket delivers on a loaded machine, so a few attempts are allowed.
fn dump_dom(bin: &Path, url: &str) -> String {
    let mut dom = String::new();
    for _ in 0..3 {
        dom = chromium(bin, url, &["--dump-dom"]);
        if dom.contains("capture ended") {
            break;
        }
    }
    dom
}

#[test]
fn headless_chromium_renders_the_feed() {
    let Some(bin) = find_chromium() else {
        assert!(
            std::env::var_os("PCAP_REQUIRE_BROWSER").is_none(),
            "PCAP_REQUIRE_BROWSER is set but no chromium binary was found"
        );
        // Straight to the stderr handle: libtest's capture swallows eprintln! of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED headless_chromium_renders_the_feed: no chromium binary (apt-get install chromium)"
        );
        return;
    };
    let (server, feed) = start(|_| {});
    for item in session() {
        feed.send(item).unwrap();
    }
    feed.send(FeedItem::End).unwrap();
    wait_for(&server, |s| s.ended);
    let base = format!("http://{}/", server.local_addr());

    let dom = dump_dom(&bin, &base);
    for uri in session_uris() {
        assert!(
            dom.contains(&format!("shop.example.com{uri}")),
            "transaction {uri} not rendered"
        );
    }
    for text in [
        "HTTP/1.1 404 Not Found",
        "Internal Server Error",
        "hello everyone",
        "DNS Standard query 0x1a2b A shop.example.com",
        "2001:db8::23",
    ] {
        assert!(dom.contains(text), "{text:?} not rendered");
    }
    assert!(dom.contains("id=\"count-packets\">49<"), "packet counter");
    assert!(dom.contains("capture ended"), "status");

    // The filter box and the details pane, through the page's query parameters.
    let dom = dump_dom(&bin, &format!("{base}?filter=api/&select=3"));
    let shown = |id: &str| {
        let start = dom.find(&format!("id=\"{id}\">")).map(|i| i + id.len() + 6);
        start
            .and_then(|s| dom[s..].split('<').next())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(shown("packets-shown"), "4 of 49 match");
    assert_eq!(shown("tx-shown"), "4 of 21 match");
    assert!(
        dom.contains("login required"),
        "details of the selected transaction: {}",
        &dom[dom.find("id=\"detail\"").unwrap_or(0)..]
    );

    if let Some(path) = std::env::var_os("PCAP_SERVE_SCREENSHOT") {
        let shot = format!("--screenshot={}", PathBuf::from(path).display());
        chromium(
            &bin,
            &format!("{base}?select=5"),
            &[&shot, "--window-size=1280,800", "--hide-scrollbars"],
        );
    }
    server.shutdown().unwrap();
}
