//! `pcap-cli serve`: a live web view of a capture, for one or several browsers at once.
//!
//! The capture side is a plain thread. It serialises packets and HTTP/WebSocket/TCP events to
//! JSON (the same objects as `--json`) and sends them as [`FeedItem`]s over a
//! [`std::sync::mpsc`] channel. The server pumps that channel into a fan-out in which every
//! browser has its own bounded queue: a slow browser loses its *oldest* items (and is told
//! how many), it never slows the capture down, and memory stays bounded. The channel may be
//! `channel()` or `sync_channel(n)`: the thread draining it never waits for a browser, so a
//! bounded channel only ever waits for that thread's own CPU time (over a million items a
//! second in release builds).
//!
//! ```no_run
//! use pcap_cli::serve::{self, FeedItem, ServeConfig};
//! let (tx, rx) = std::sync::mpsc::channel();
//! let capture = std::thread::spawn(move || {
//!     tx.send(FeedItem::Packet(r#"{"frame":1,"len":60,"summary":"ARP who-has 10.0.0.1"}"#.into()))
//!         .ok();
//!     tx.send(FeedItem::End).ok();
//! });
//! // Blocks until Ctrl-C; the page keeps showing the capture after it has ended.
//! let stats = serve::run(ServeConfig::default(), rx, |_addr, url| eprintln!("open {url}"))?;
//! capture.join().ok();
//! # Ok::<(), serve::ServeError>(())
//! ```
//!
//! # HTTP endpoints
//! - `GET /`: the page (HTML, with `/assets/app.css` and `/assets/app.js`, all embedded in
//!   the binary: nothing is fetched from elsewhere).
//! - `GET /ws`: the WebSocket feed, described below.
//! - `GET /healthz`: `ok`.
//! - `GET /api/stats`: counters as JSON (see [`ServeStats`]).
//!
//! # Access
//! Captured traffic holds cookies and passwords, and on a shared host every local user can
//! connect to a loopback port, so every route needs the server's token: 128 bits from the
//! operating system's random generator ([`ServeConfig::token`] may set one instead), in
//! hex. [`ServerHandle::url`] is the page's address with it, `http://127.0.0.1:8080/?token=…`,
//! which `pcap-cli serve` prints at start, as Jupyter does. A request carries it as
//! - the `token` query parameter (the printed URL; the response then sets the cookie),
//! - an `Authorization: Bearer TOKEN` (or `token TOKEN`) header, for scripts, or
//! - the cookie `pcap_cli_token_PORT` (`HttpOnly`, `SameSite=Strict`), which the page's own
//!   requests (script, style, `/ws`) carry after the first load.
//!
//! Without a token the answer is 401, with a wrong one 403; tokens are compared in constant
//! time. There is no way to turn the token off. On top of it, when bound to a loopback
//! address, requests whose `Host` is not a loopback name are refused (DNS rebinding), and
//! `/ws` refuses a browser whose `Origin` differs from `Host` (another web site reading
//! your traffic through your browser). Over a non-loopback address the token travels in
//! clear (plain HTTP), which the warning at start says.
//!
//! # WebSocket messages
//! Server to browser only; every message is one JSON text frame:
//! ```json
//! {"items":[{"kind":"packet","data":{"frame":1,"summary":"..."}},
//!           {"kind":"http","data":{"type":"http","request":{...},"response":{...}}}],
//!  "stats":{"packets":10,"bytes":900,"capture_drops":0,"view_drops":0,"ended":false}}
//! ```
//! `kind` is `packet`, `http`, `websocket`, `tcp`, `tls`, `grpc` (gRPC messages and
//! `grpc_status`) or `http2` (RST_STREAM, GOAWAY), and `data` is the capture side's object
//! unchanged, unless it was too large (below). Items are batched (up to [`ServeConfig::batch_max`] per message); a message with
//! an empty `items` carries fresh counters only. `view_drops` is the number of items this
//! browser's queue has dropped since it connected. A browser that connects late first
//! receives the last [`ServeConfig::history`] packets and transactions. `stats.cut` counts
//! the items sent cut since the server started.
//!
//! # Large items
//! An item over [`ServeConfig::max_item_bytes`] (64 KiB of JSON by default: a request with
//! a huge header, a long WebSocket text) is never dropped. Its long values are cut, in
//! rounds, until it fits: every string longer than 4096 bytes, then 1024, 256, 64, 16, is
//! cut on a character boundary and ends with `…[N bytes cut]`; from the third round, arrays
//! keep only their first 1024, 256, 64, 16 elements. Keys, numbers and booleans are kept.
//! Such an item travels with a `cut` member beside `data`:
//! `{"kind":"http","cut":{"strings":1,"elements":0,"bytes":200704},"data":{...}}`. The page
//! counts them ("Cut") and says so in the item's details; `pcap-cli serve` prints the count
//! when it stops.

mod fanout;
mod pacer;
mod shrink;
mod web;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use fanout::{Hub, Lane};
pub use pacer::{Clock, Pacer, SystemClock};

/// Default per-browser queue length, in items.
pub const DEFAULT_CLIENT_QUEUE: usize = 4096;
/// Default number of recent packets (and, separately, transactions) replayed to a new browser.
pub const DEFAULT_HISTORY: usize = 2000;
/// Default maximum number of items in one WebSocket message.
pub const DEFAULT_BATCH_MAX: usize = 256;
/// Default largest accepted feed item, in bytes of JSON.
pub const DEFAULT_MAX_ITEM_BYTES: usize = 64 * 1024;

/// How to run the web view. Build it from [`Default`] and change the fields you need.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeConfig {
    /// Address to listen on; `127.0.0.1:8080` by default. Port 0 picks a free port, which is
    /// passed to `on_ready` / [`ServerHandle::local_addr`].
    pub listen: SocketAddr,
    /// Per-browser bounded queue length, in items; when full the oldest item is dropped.
    pub client_queue: usize,
    /// Recent packets, and recent transactions, replayed to a browser when it connects.
    pub history: usize,
    /// Maximum items per WebSocket message.
    pub batch_max: usize,
    /// The access token (see "Access" above): 16 to 256 characters among `A-Z a-z 0-9 _ -`.
    /// `None` (the default) makes a random one when the server starts: 128 bits from the
    /// operating system, as 32 hex digits.
    pub token: Option<String>,
    /// Largest feed item sent as it is, in bytes of JSON. A larger one is never dropped: its
    /// long values are cut until it fits (see "Large items" above) and it is counted in
    /// [`ServeStats::cut`]. All queues hold suffixes of one stream of shared items, so memory
    /// is at most about `max(client_queue, 2 * history) * max_item_bytes`, however many
    /// browsers watch. The capture side should keep `body_preview`s short (about 1 KiB).
    pub max_item_bytes: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            client_queue: DEFAULT_CLIENT_QUEUE,
            history: DEFAULT_HISTORY,
            batch_max: DEFAULT_BATCH_MAX,
            token: None,
            max_item_bytes: DEFAULT_MAX_ITEM_BYTES,
        }
    }
}

/// One thing for the page, from the capture side. Each `String` is one JSON object in the
/// `--json` schema; anything that is not a JSON object is counted in
/// [`ServeStats::rejected`] and not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedItem {
    /// A decoded packet (`{"frame":1,"ts":..,"len":..,"summary":"..",..}`).
    Packet(String),
    /// An HTTP transaction (`{"type":"http","request":{..},"response":{..}|null,..}`).
    Http(String),
    /// A WebSocket message (`{"type":"websocket","dir":"c2s","opcode":"text",..}`).
    WebSocket(String),
    /// A TCP stream event.
    Tcp(String),
    /// A TLS session's handshake summary (`{"type":"tls","sni":..,"version":..,..}`).
    Tls(String),
    /// A gRPC message (`{"type":"grpc","path":..,"dir":..,"len":..,..}`) or a call's status
    /// (`{"type":"grpc_status","status":..,"message":..,..}`).
    Grpc(String),
    /// An HTTP/2 RST_STREAM or GOAWAY (`{"type":"http2","event":"rst_stream",..}`).
    Http2(String),
    /// The capture side's running totals; the latest values are shown on the page.
    Stats {
        /// Packets captured so far.
        packets: u64,
        /// Bytes captured so far (original lengths).
        bytes: u64,
        /// Packets dropped by the capture (kernel or reader), not by the web view.
        drops: u64,
    },
    /// The capture has finished (end of file). The server keeps serving what it has.
    End,
}

/// The capture side's counters, as last given by [`FeedItem::Stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaptureStats {
    /// Packets captured so far.
    pub packets: u64,
    /// Bytes captured so far.
    pub bytes: u64,
    /// Packets the capture dropped.
    pub drops: u64,
}

/// Counters of one connected browser.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientStats {
    /// Connection number, from 0.
    pub id: u64,
    /// Items waiting in its queue now.
    pub queued: usize,
    /// The most items its queue ever held; never above `capacity`.
    pub high_water: usize,
    /// Its queue capacity ([`ServeConfig::client_queue`]).
    pub capacity: usize,
    /// Items dropped from its queue because it read too slowly.
    pub dropped: u64,
    /// Items taken from its queue to be sent.
    pub sent: u64,
}

/// A snapshot of the server's counters (also served as JSON at `/api/stats`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeStats {
    /// Items fanned out to the browsers.
    pub published: u64,
    /// Feed items that were not JSON objects (not sent).
    pub rejected: u64,
    /// Feed items over [`ServeConfig::max_item_bytes`], sent with their long values cut.
    pub cut: u64,
    /// The capture side's counters.
    pub capture: CaptureStats,
    /// Whether the feed has ended ([`FeedItem::End`] or the sender dropped).
    pub ended: bool,
    /// One entry per connected browser.
    pub clients: Vec<ClientStats>,
}

/// Why the web view could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The listen address could not be bound (in use, or not ours).
    #[error("serve: cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The async runtime or a server thread could not be started.
    #[error("serve: cannot start the server: {0}")]
    Start(#[source] std::io::Error),
    /// The HTTP server failed while running.
    #[error("serve: server failed: {0}")]
    Server(#[source] std::io::Error),
    /// Waiting for Ctrl-C failed.
    #[error("serve: cannot wait for Ctrl-C: {0}")]
    Signal(#[source] std::io::Error),
    /// A server thread panicked.
    #[error("serve: a server thread panicked")]
    Panicked,
    /// The token given in [`ServeConfig::token`] is unusable.
    #[error("serve: the token must be 16 to 256 characters among A-Z a-z 0-9 _ -")]
    BadToken,
    /// The operating system's random generator failed, so no token could be made.
    #[error("serve: cannot make a token: {0}")]
    Random(getrandom::Error),
}

/// Bytes of randomness in a token made by the server (128 bits).
const TOKEN_BYTES: usize = 16;

/// A token of [`TOKEN_BYTES`] random bytes from the operating system, in hex.
fn random_token() -> Result<String, ServeError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(ServeError::Random)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `token` may be used: long enough to be hard to guess, and safe as is in a URL,
/// a header and a cookie.
fn token_ok(token: &str) -> bool {
    (16..=256).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The warning to print when `addr` is reachable from other machines, or `None` for a
/// loopback address. Captured traffic often holds cookies and passwords, and the token
/// that guards it travels in clear over plain HTTP.
pub fn warn_if_exposed(addr: SocketAddr) -> Option<String> {
    if addr.ip().is_loopback() {
        return None;
    }
    Some(format!(
        "warning: serving on {addr}, which is not a loopback address: the page is plain HTTP, \
         so anyone who can see the traffic to this port can take the token and watch the \
         captured traffic. Use 127.0.0.1 (and an SSH tunnel) unless you mean it."
    ))
}

/// A running server. Dropping it stops the server like [`ServerHandle::shutdown`] does, but
/// without waiting for its threads to finish.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    token: String,
    hub: Arc<Hub>,
    stop: Arc<AtomicBool>,
    shutdown: tokio::sync::watch::Sender<bool>,
    /// Both `Some` until `shutdown` joins them.
    server: Option<JoinHandle<Result<(), std::io::Error>>>,
    pump: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The address actually bound (the chosen port when the config said port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The access token every request must carry (see "Access" in the module documentation).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The page's address with the token: `http://ADDR/?token=TOKEN`, what to open.
    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.token)
    }

    /// A snapshot of the counters, including each browser's queue length.
    pub fn stats(&self) -> ServeStats {
        self.hub.stats()
    }

    /// Stops the server: closes every WebSocket, stops accepting, and joins its threads.
    pub fn shutdown(mut self) -> Result<(), ServeError> {
        self.signal_stop();
        let served = match self.server.take() {
            Some(server) => server.join().map_err(|_| ServeError::Panicked)?,
            None => Ok(()),
        };
        if let Some(pump) = self.pump.take() {
            pump.join().map_err(|_| ServeError::Panicked)?;
        }
        served.map_err(ServeError::Server)
    }

    fn signal_stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.shutdown.send_replace(true);
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

/// Starts the server on its own threads and returns once it listens. The feed is drained by
/// a dedicated thread, so the capture side's `send` never waits for a browser.
pub fn spawn(config: ServeConfig, feed: Receiver<FeedItem>) -> Result<ServerHandle, ServeError> {
    let token = match config.token {
        Some(token) if token_ok(&token) => token,
        Some(_) => return Err(ServeError::BadToken),
        None => random_token()?,
    };
    let listener = TcpListener::bind(config.listen).map_err(|source| ServeError::Bind {
        addr: config.listen,
        source,
    })?;
    listener.set_nonblocking(true).map_err(ServeError::Start)?;
    let addr = listener.local_addr().map_err(ServeError::Start)?;
    if let Some(warning) = warn_if_exposed(addr) {
        eprintln!("{warning}");
    }
    let hub = Arc::new(Hub::new(config.client_queue, config.history));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pcap-serve")
        .enable_all()
        .build()
        .map_err(ServeError::Start)?;
    let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    let stop = Arc::new(AtomicBool::new(false));

    let pump = {
        let hub = Arc::clone(&hub);
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("pcap-serve-feed".into())
            .spawn(move || pump_feed(&feed, &hub, &stop, config.max_item_bytes))
            .map_err(ServeError::Start)?
    };
    let state = web::State {
        hub: Arc::clone(&hub),
        shutdown: shutdown_rx,
        loopback_only: addr.ip().is_loopback(),
        batch_max: config.batch_max.max(1),
        token: Arc::from(token.as_str()),
        cookie: Arc::from(format!("pcap_cli_token_{}", addr.port())),
    };
    let server = std::thread::Builder::new()
        .name("pcap-serve".into())
        .spawn(move || runtime.block_on(web::serve(listener, state)))
        .map_err(ServeError::Start)?;
    Ok(ServerHandle {
        addr,
        token,
        hub,
        stop,
        shutdown,
        server: Some(server),
        pump: Some(pump),
    })
}

/// Runs the web view until Ctrl-C: starts it, calls `on_ready` with the bound address and
/// the page's URL with its token ([`ServerHandle::url`]), and keeps serving after the feed
/// has ended so the page can still be browsed. Returns the counters as they were at the end.
pub fn run(
    config: ServeConfig,
    feed: Receiver<FeedItem>,
    on_ready: impl FnOnce(SocketAddr, &str),
) -> Result<ServeStats, ServeError> {
    let handle = spawn(config, feed)?;
    let addr = handle.local_addr();
    let url = handle.url();
    let waited = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Start)?
        .block_on(async move {
            let ctrl_c = tokio::signal::ctrl_c();
            tokio::pin!(ctrl_c);
            // Poll once first so the handler is installed before anyone is told to connect:
            // a Ctrl-C from then on stops the server cleanly instead of killing the process.
            tokio::select! {
                biased;
                early = &mut ctrl_c => return early,
                () = std::future::ready(()) => {}
            }
            on_ready(addr, &url);
            ctrl_c.await
        });
    let stats = handle.stats();
    let stopped = handle.shutdown();
    waited.map_err(ServeError::Signal)?;
    stopped.map(|()| stats)
}

/// How often the feed thread looks at the stop flag while the feed is quiet.
const PUMP_POLL: Duration = Duration::from_millis(100);

/// Moves feed items into the hub until the feed closes or the server stops.
fn pump_feed(feed: &Receiver<FeedItem>, hub: &Hub, stop: &AtomicBool, max_item_bytes: usize) {
    while !stop.load(Ordering::Relaxed) {
        match feed.recv_timeout(PUMP_POLL) {
            Ok(item) => accept(hub, item, max_item_bytes),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                hub.end();
                return;
            }
        }
    }
}

/// Validates and wraps one item, then fans it out.
fn accept(hub: &Hub, item: FeedItem, max_item_bytes: usize) {
    let (kind, lane, json) = match item {
        FeedItem::Packet(json) => ("packet", Lane::Packets, json),
        FeedItem::Http(json) => ("http", Lane::Transactions, json),
        FeedItem::WebSocket(json) => ("websocket", Lane::Transactions, json),
        FeedItem::Tcp(json) => ("tcp", Lane::Transactions, json),
        FeedItem::Tls(json) => ("tls", Lane::Transactions, json),
        FeedItem::Grpc(json) => ("grpc", Lane::Transactions, json),
        FeedItem::Http2(json) => ("http2", Lane::Transactions, json),
        FeedItem::Stats {
            packets,
            bytes,
            drops,
        } => {
            hub.set_capture(CaptureStats {
                packets,
                bytes,
                drops,
            });
            return;
        }
        FeedItem::End => {
            hub.end();
            return;
        }
    };
    let wrapped = if json.len() > max_item_bytes {
        shrink::shrink(&json, max_item_bytes).map(|(data, cut)| {
            hub.note_cut();
            format!(
                "{{\"kind\":\"{kind}\",\"cut\":{{\"strings\":{},\"elements\":{},\"bytes\":{}}},\"data\":{data}}}",
                cut.strings, cut.elements, cut.bytes
            )
        })
    } else {
        wrap(kind, &json)
    };
    match wrapped {
        Some(wrapped) => hub.publish(lane, Arc::from(wrapped)),
        None => hub.reject(),
    }
}

/// `{"kind":KIND,"data":JSON}`, or `None` when `json` is not one JSON object (a broken item
/// must not break the whole batch it would travel in).
fn wrap(kind: &str, json: &str) -> Option<String> {
    let raw: &serde_json::value::RawValue = serde_json::from_str(json).ok()?;
    let raw = raw.get();
    if !raw.starts_with('{') {
        return None;
    }
    Some(format!("{{\"kind\":\"{kind}\",\"data\":{raw}}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_quiet_anything_else_warns() {
        assert_eq!(warn_if_exposed("127.0.0.1:8080".parse().unwrap()), None);
        assert_eq!(warn_if_exposed("[::1]:8080".parse().unwrap()), None);
        let w = warn_if_exposed("0.0.0.0:8080".parse().unwrap()).unwrap();
        assert!(w.contains("0.0.0.0:8080") && w.contains("not a loopback"));
        assert!(warn_if_exposed("192.0.2.7:80".parse().unwrap()).is_some());
        assert!(warn_if_exposed("[::]:80".parse().unwrap()).is_some());
    }

    #[test]
    fn tokens_are_random_hex_and_given_ones_are_checked() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_eq!(a.len(), 2 * TOKEN_BYTES);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert!(token_ok(&a));
        for bad in [
            "",
            "short",
            "has space 0123456789",
            "a/b?c=d&e01234567",
            "ééééééééééééééééé",
        ] {
            assert!(!token_ok(bad), "{bad}");
        }
        assert!(token_ok("0123456789abcdef"));
        assert!(token_ok(&"Az09_-".repeat(40)[..240]));
        assert!(!token_ok(&"a".repeat(257)));
    }

    #[test]
    fn wrap_keeps_objects_and_refuses_the_rest() {
        assert_eq!(
            wrap("http", " {\"type\":\"http\"} ").as_deref(),
            Some("{\"kind\":\"http\",\"data\":{\"type\":\"http\"}}")
        );
        for bad in ["", "[1]", "42", "\"s\"", "{\"a\":", "{} {}", "null"] {
            assert_eq!(wrap("packet", bad), None, "{bad:?}");
        }
    }

    #[test]
    fn accept_routes_stats_end_and_rejects() {
        let hub = Hub::new(10, 10);
        let max = 20;
        accept(&hub, FeedItem::Packet("{\"frame\":1}".into()), max);
        accept(&hub, FeedItem::Tcp("not json".into()), max);
        accept(
            &hub,
            FeedItem::Http(format!("{{\"a\":\"{}\"}}", "x".repeat(20))),
            max,
        );
        accept(
            &hub,
            FeedItem::Stats {
                packets: 5,
                bytes: 300,
                drops: 1,
            },
            max,
        );
        accept(&hub, FeedItem::End, max);
        let stats = hub.stats();
        // The item over `max` was sent cut, not dropped.
        assert_eq!(
            (stats.published, stats.rejected, stats.cut, stats.ended),
            (2, 1, 1, true)
        );
        assert_eq!(
            stats.capture,
            CaptureStats {
                packets: 5,
                bytes: 300,
                drops: 1
            }
        );
    }
}
