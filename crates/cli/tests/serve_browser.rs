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

/// The Chromium binary for test `test`; without one, says SKIPPED and gives `None`, or fails
/// when `PCAP_REQUIRE_BROWSER` is set.
fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    let bin = find_chromium();
    if bin.is_none() {
        assert!(
            std::env::var_os("PCAP_REQUIRE_BROWSER").is_none(),
            "PCAP_REQUIRE_BROWSER is set but no chromium binary was found"
        );
        // Straight to the stderr handle: libtest's capture swallows eprintln! of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: no chromium binary (apt-get install chromium)"
        );
    }
    bin
}

/// Runs headless Chromium on `url` with the given extra arguments; returns stdout.
fn chromium(bin: &Path, url: &str, extra: &[&str]) -> String {
    // One profile per run: tests run in parallel, and Chromium locks its profile.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile =
        std::env::temp_dir().join(format!("pcap-serve-chromium-{}-{run}", std::process::id()));
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
    let Some(bin) = chromium_or_skip("headless_chromium_renders_the_feed") else {
        return;
    };
    let (server, feed) = start(|_| {});
    for item in session() {
        feed.send(item).unwrap();
    }
    feed.send(FeedItem::End).unwrap();
    wait_for(&server, |s| s.ended);
    // The URL printed at start, token included: the page, its assets and its WebSocket
    // must all get through with it.
    let base = server.url();

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
    let dom = dump_dom(&bin, &format!("{base}&filter=api/&select=3"));
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
            &format!("{base}&select=5"),
            &[&shot, "--window-size=1280,800", "--hide-scrollbars"],
        );
    }
    server.shutdown().unwrap();
}

/// `pcap-cli serve -r` on the repository's sample capture, as a user would run it: the page
/// shows the capture's transactions (the generator's truth) and packet count.
/// Strings off the wire that would hide or reorder text on the page (a bidi override, a C1
/// CSI, ESC) are shown escaped, as on the terminal.
#[test]
fn page_shows_control_and_bidi_characters_escaped() {
    let Some(bin) = chromium_or_skip("page_shows_control_and_bidi_characters_escaped") else {
        return;
    };
    let (server, feed) = start(|_| {});
    let summary =
        serde_json::to_string("GET /evil\u{202e}gnp.exe \u{9b}2J \u{1b}]0;t\u{7}").unwrap();
    feed.send(FeedItem::Packet(format!(
        "{{\"frame\":1,\"ts\":1.0,\"caplen\":60,\"len\":60,\"summary\":{summary}}}"
    )))
    .unwrap();
    feed.send(FeedItem::End).unwrap();
    wait_for(&server, |s| s.ended);
    let dom = dump_dom(&bin, &server.url());
    assert!(
        dom.contains(r"GET /evil\u{202e}gnp.exe \u{9b}2J \x1b]0;t\x07"),
        "escaped summary not rendered"
    );
    for raw in ['\u{202e}', '\u{9b}', '\u{1b}'] {
        assert!(!dom.contains(raw), "{raw:?} rendered raw");
    }
}

#[test]
fn serve_r_sample_capture_in_headless_chromium() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let Some(bin) = chromium_or_skip("serve_r_sample_capture_in_headless_chromium") else {
        return;
    };
    /// Stops the server even when an assertion fails (it would hold the test's output open).
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    let sample = pcap_testkit::test_data("sample-http-ws.pcap");
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
            .args(["serve", "--fast", "--listen", "127.0.0.1:0", "-r"])
            .arg(&sample)
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

    let dom = dump_dom(&bin, &url);
    // Ctrl-C ends serve cleanly.
    let _ = Command::new("kill")
        .args(["-INT", &server.0.id().to_string()])
        .status();
    let status = server.0.wait().unwrap();
    assert!(status.success(), "serve exited with {status:?}");

    let truth = pcap_testkit::Tsv::load(&pcap_testkit::test_data("sample-http-ws.pcap.tx.tsv"));
    for row in truth.rows() {
        let shown = format!("{}{}", row.get("host"), row.get("uri")).replace('&', "&amp;");
        assert!(dom.contains(&shown), "transaction {shown} not rendered");
    }
    assert!(dom.contains("id=\"count-packets\">181<"), "packet counter");
    assert!(dom.contains("capture ended"), "status");
}

/// gRPC messages, a call's status, RST_STREAM and GOAWAY are rows of the transactions list,
/// with their text escaped (a bidi override in `grpc-message`); the details pane shows the
/// status message escaped too.
#[test]
fn page_shows_grpc_and_http2_rows() {
    let Some(bin) = chromium_or_skip("page_shows_grpc_and_http2_rows") else {
        return;
    };
    let (server, feed) = start(|_| {});
    let conn = r#""stream":0,"client":"10.0.0.1:40777","server":"10.0.0.2:50051""#;
    let items = [
        FeedItem::Grpc(
            r#"{"type":"grpc","stream":0,"h2_stream":1,"dir":"c2s","path":"/pkg.Items/Get","len":3,"compressed":false,"ts":1.0}"#.into(),
        ),
        FeedItem::Grpc(
            r#"{"type":"grpc","stream":0,"h2_stream":1,"dir":"s2c","path":"/pkg.Items/Get","len":2,"compressed":true,"ts":1.1}"#.into(),
        ),
        FeedItem::Grpc(format!(
            r#"{{"type":"grpc_status","stream":0,"h2_stream":1,"path":"/pkg.Items/Get","status":5,"message":{},"trailers_only":false,"ts":1.2}}"#,
            serde_json::to_string("no item\u{202e}evil").unwrap()
        )),
        FeedItem::Http2(format!(
            r#"{{"type":"http2",{conn},"h2_stream":3,"ts":1.3,"event":"rst_stream","dir":"c2s","error":"CANCEL","code":8}}"#
        )),
        FeedItem::Http2(format!(
            r#"{{"type":"http2",{conn},"ts":1.4,"event":"goaway","dir":"s2c","error":"NO_ERROR","code":0,"last_stream":3}}"#
        )),
    ];
    for item in items {
        feed.send(item).unwrap();
    }
    feed.send(FeedItem::End).unwrap();
    wait_for(&server, |s| s.ended);
    let dom = dump_dom(&bin, &format!("{}&select=3", server.url()));
    for text in [
        "→ /pkg.Items/Get  [h2 1]",
        "← /pkg.Items/Get  [h2 1]  (compressed)",
        r"/pkg.Items/Get  [h2 1]  status 5: no item\u{202e}evil",
        "RST_STREAM CANCEL by client  [h2 3]",
        "GOAWAY NO_ERROR by server  last stream 3",
        "gRPC status 5",
        r"<pre>no item\u{202e}evil</pre>",
    ] {
        let text = text.replace('&', "&amp;");
        assert!(dom.contains(&text), "{text:?} not rendered: {dom}");
    }
    assert!(!dom.contains('\u{202e}'), "bidi override rendered raw");
    assert!(dom.contains(">gRPC<") && dom.contains(">H2<"), "badges");
    server.shutdown().unwrap();
}
