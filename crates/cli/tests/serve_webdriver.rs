//! The page's controls in a real browser, driven through chromedriver's WebDriver API
//! (plain HTTP on loopback, no client crate): click a transaction to see its details, type
//! in the filter box, pause and resume while items keep arriving; a packet's hex view.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`$PCAP_CHROMIUM`/`$PCAP_CHROMEDRIVER`
//! override the paths); prints SKIPPED and passes without them unless
//! `PCAP_REQUIRE_BROWSER=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // helpers outside #[test] fns

mod serve_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use pcap_cli::serve::FeedItem;
use serde_json::{Value, json};
use serve_support::{session, start, wait_for};

fn find(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let dirs = std::env::var_os("PATH")?;
    names
        .iter()
        .flat_map(|name| std::env::split_paths(&dirs).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// A chromedriver process and one browser session in it; both end on drop.
struct Driver {
    addr: SocketAddr,
    session: String,
    child: Child,
    profile: PathBuf,
}

impl Driver {
    fn start(chromedriver: &PathBuf, chromium: &PathBuf) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let profile =
            std::env::temp_dir().join(format!("pcap-serve-webdriver-{}", std::process::id()));
        let mut driver = Driver {
            addr,
            session: String::new(),
            child,
            profile,
        };
        // Wait (bounded count) until chromedriver answers.
        let ready = (0..500).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            TcpStream::connect(addr).is_ok()
        });
        assert!(ready, "chromedriver did not start listening");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--disable-extensions",
                         "--disable-dev-shm-usage", "--window-size=1280,800",
                         format!("--user-data-dir={}", driver.profile.display())],
            }
        }}});
        let created = driver.call("POST", "/session", Some(caps));
        driver.session = created["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        driver
    }

    /// One WebDriver command; returns its `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut s = TcpStream::connect(self.addr).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        // chromedriver keeps the connection open: read the head, then Content-Length bytes.
        let mut raw = Vec::new();
        let mut byte = [0u8; 1];
        while !raw.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            raw.push(byte[0]);
        }
        let head = String::from_utf8(raw).unwrap().to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().unwrap())
            .expect("content-length");
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload).unwrap();
        let payload = String::from_utf8(payload).unwrap();
        let v: Value = serde_json::from_str(&payload).unwrap_or_else(|e| panic!("{e}: {payload}"));
        assert!(
            v["value"]["error"].is_null(),
            "{method} {path}: {}",
            v["value"]
        );
        v["value"].clone()
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn js(&self, script: &str) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Re-runs `script` until it returns `want` (bounded count, no timing assert).
    fn wait_js(&self, script: &str, want: Value) {
        let mut last = Value::Null;
        for _ in 0..1500 {
            last = self.js(script);
            if last == want {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("{script} returned {last}, wanted {want}");
    }

    fn element(&self, css: &str) -> String {
        let v = self.session_call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap()
            .to_string()
    }

    fn click(&self, css: &str) {
        // As a person would: scroll it out from under the sticky table header first.
        let css_js = serde_json::to_string(css).unwrap();
        self.js(&format!(
            "document.querySelector({css_js}).scrollIntoView({{block: 'center'}}); return 0"
        ));
        let id = self.element(css);
        self.session_call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.session_call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        );
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.call("DELETE", &format!("/session/{}", self.session), None)
            }));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

const TX_ROWS: &str = "return document.getElementById('tx-rows').rows.length";
const PACKET_ROWS: &str = "return document.getElementById('packet-rows').rows.length";

#[test]
fn click_filter_pause_resume_in_chromium() {
    let (Some(chromium), Some(chromedriver)) = (
        find(
            "PCAP_CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        ),
        find("PCAP_CHROMEDRIVER", &["chromedriver"]),
    ) else {
        assert!(
            std::env::var_os("PCAP_REQUIRE_BROWSER").is_none(),
            "PCAP_REQUIRE_BROWSER is set but chromium/chromedriver was not found"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED click_filter_pause_resume_in_chromium: no chromium/chromedriver \
             (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let (server, feed) = start(|_| {});
    for item in session() {
        feed.send(item).unwrap();
    }
    wait_for(&server, |s| s.published == 70);
    let driver = Driver::start(&chromedriver, &chromium);
    driver.session_call("POST", "/url", Some(json!({"url": server.url()})));
    driver.wait_js(TX_ROWS, json!(21));
    driver.wait_js(PACKET_ROWS, json!(49));

    // Click the third HTTP transaction (rows alternate HTTP and TCP "closed" events).
    driver.click("#tx-rows tr:nth-child(5)");
    let detail = driver.js("return document.getElementById('detail-body').textContent");
    let detail = detail.as_str().unwrap();
    assert!(
        detail.contains("GET /api/cart?session=42 HTTP/1.1"),
        "{detail}"
    );
    assert!(detail.contains("application/json"), "{detail}");
    assert!(detail.contains("\"total\":\"39.80\""), "{detail}");

    // The filter hides non-matching rows of both lists.
    driver.type_into("#filter", "Unauthorized");
    driver.wait_js(
        "return document.querySelectorAll('#tx-rows tr:not([hidden])').length",
        json!(1),
    );
    driver.wait_js(
        "return document.getElementById('packets-shown').textContent",
        json!("1 of 49 match"),
    );
    driver.js("const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input')); return 0");

    // Paused: new items wait, counted on the button; resumed: they appear.
    driver.click("#pause");
    for n in 0..3 {
        let ws = format!(
            "{{\"type\":\"websocket\",\"stream\":8,\"dir\":\"s2c\",\"opcode\":\"text\",\"len\":6,\"text\":\"late {n}\"}}"
        );
        feed.send(FeedItem::WebSocket(ws)).unwrap();
    }
    driver.wait_js(
        "return document.getElementById('pause').textContent",
        json!("Resume (3)"),
    );
    assert_eq!(driver.js(TX_ROWS), json!(21));
    driver.click("#pause");
    driver.wait_js(TX_ROWS, json!(24));
    let last = driver.js("const r = document.getElementById('tx-rows'); return r.rows[r.rows.length - 1].textContent");
    assert!(last.as_str().unwrap().contains("late 2"), "{last}");
    assert_eq!(
        driver.js("return document.getElementById('pause').textContent"),
        json!("Pause")
    );

    // A packet's details show its payload as a hex and ASCII dump, bytes that are not
    // printable (an ESC here) as "."; the JSON below it leaves the hex out.
    let p = "{\"frame\":50,\"len\":60,\"summary\":\"with payload\",\
             \"payload_hex\":\"474554202f1b5b33316d000102030405060708\",\"payload_hex_cut\":true}";
    feed.send(FeedItem::Packet(p.to_owned())).unwrap();
    driver.wait_js(PACKET_ROWS, json!(50));
    driver.click("#packet-rows tr:nth-child(50)");
    let detail = driver.js("return document.getElementById('detail-body').textContent");
    let detail = detail.as_str().unwrap();
    assert!(
        detail.contains("0x0000:  4745 5420 2f1b 5b33 316d 0001 0203 0405  GET /.[31m......"),
        "{detail}"
    );
    assert!(detail.contains("0x0010:  0607 08"), "{detail}");
    assert!(detail.contains("19 B shown, the rest cut"), "{detail}");
    assert!(!detail.contains("\"payload_hex\""), "{detail}");

    // The DOM stays bounded: only the last 2000 packet rows are kept.
    for frame in 51..=2600 {
        let p = format!("{{\"frame\":{frame},\"len\":60,\"summary\":\"filler {frame}\"}}");
        feed.send(FeedItem::Packet(p)).unwrap();
    }
    driver.wait_js(
        "const r = document.getElementById('packet-rows'); return r.rows[r.rows.length - 1].cells[0].textContent",
        json!("2600"),
    );
    assert_eq!(driver.js(PACKET_ROWS), json!(2000));
    assert_eq!(
        driver.js("return document.getElementById('packet-rows').rows[0].cells[0].textContent"),
        json!("601")
    );
    drop(driver);
    server.shutdown().unwrap();
}
