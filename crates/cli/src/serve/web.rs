//! The HTTP side: routes, the page's embedded assets, and one WebSocket writer per browser.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::sync::watch;

use super::CaptureStats;
use super::fanout::{ClientSlot, Hub};

const INDEX_HTML: &str = include_str!("../../assets/serve/index.html");
const APP_JS: &str = include_str!("../../assets/serve/app.js");
const APP_CSS: &str = include_str!("../../assets/serve/app.css");

/// A message stops growing past this many bytes (one item may exceed it on its own).
const BATCH_BYTES: usize = 256 * 1024;
/// The page sends nothing but control frames; anything bigger is refused.
const INCOMING_MAX: usize = 4096;
/// The page loads only its own script and style and talks only to its own origin, so even
/// if captured data ever reached the DOM as markup it could not run or send anything.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// How often a browser gets fresh counters when no items flow.
const STATS_EVERY: Duration = Duration::from_millis(500);

/// What every handler shares.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub hub: Arc<Hub>,
    pub shutdown: watch::Receiver<bool>,
    /// Bound to loopback: only accept loopback `Host` names.
    pub loopback_only: bool,
    pub batch_max: usize,
    /// The access token every request must carry.
    pub token: Arc<str>,
    /// The name of the cookie that carries it (`pcap_cli_token_PORT`: browsers share
    /// cookies between the ports of one host, so two servers must not share a name).
    pub cookie: Arc<str>,
}

/// Serves until the shutdown flag is raised.
pub(crate) async fn serve(
    listener: std::net::TcpListener,
    state: State,
) -> Result<(), std::io::Error> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let mut shutdown = state.shutdown.clone();
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            // An error means the handle is gone: stop as well.
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
}

fn router(state: State) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async {
                (
                    [
                        (header::CONTENT_SECURITY_POLICY, CSP),
                        (header::CACHE_CONTROL, "no-store"),
                    ],
                    Html(INDEX_HTML),
                )
            }),
        )
        .route(
            "/assets/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    APP_JS,
                )
            }),
        )
        .route(
            "/assets/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS) }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/api/stats", get(stats))
        .route("/ws", get(websocket))
        // Layers run from the last one in: the Host check, then the token.
        .layer(middleware::from_fn_with_state(state.clone(), token_guard))
        .layer(middleware::from_fn_with_state(state.clone(), host_guard))
        .layer(middleware::map_response(nosniff))
        .with_state(state)
}

/// Refuses non-loopback `Host` names on a loopback server, so that a web site cannot reach
/// the page through DNS rebinding.
async fn host_guard(Extract(state): Extract<State>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    match host {
        Some(host) if state.loopback_only && !is_loopback_host(host) => {
            (StatusCode::FORBIDDEN, "host not allowed\n").into_response()
        }
        _ => next.run(req).await,
    }
}

/// Lets through only requests that carry the token (query, `Authorization` or cookie, in
/// that order of precedence): 401 without one, 403 with a wrong one. A token given in the
/// query (the printed URL) is also set as a cookie, for the page's own requests.
async fn token_guard(Extract(state): Extract<State>, req: Request, next: Next) -> Response {
    let from_query = query_token(req.uri().query());
    let set_cookie = from_query.is_some();
    let given = from_query
        .or_else(|| authorization_token(req.headers()))
        .or_else(|| cookie_token(req.headers(), &state.cookie));
    let Some(given) = given else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "token required: open the address pcap-cli serve printed (http://HOST:PORT/?token=...)\n",
        )
            .into_response();
    };
    if !same_token(given.as_bytes(), state.token.as_bytes()) {
        return (StatusCode::FORBIDDEN, "wrong token\n").into_response();
    }
    let mut response = next.run(req).await;
    if set_cookie {
        let cookie = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Strict",
            state.cookie, state.token
        );
        if let Ok(value) = header::HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The `token` parameter of a query string (tokens need no percent-decoding).
fn query_token(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(str::to_owned)
}

/// `Authorization: Bearer TOKEN` (or `token TOKEN`, as Jupyter takes it).
fn authorization_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then(|| token.trim().to_owned())
}

/// The value of the cookie `name` in any `Cookie` header.
fn cookie_token(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (n, v) = pair.trim().split_once('=')?;
            (n == name).then(|| v.to_owned())
        })
}

/// Compares two tokens in time that depends on their length only (which is not secret:
/// every token the server makes has 32 characters), not on where they first differ.
fn same_token(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    let diff = given
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(diff) == 0
}

/// Every response is what its `Content-Type` says, never sniffed as something else, and
/// no request from the page names it (with its token) in a `Referer`.
async fn nosniff(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Whether a `Host` header value (`name[:port]`) names this machine's loopback.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(rest, |(inside, _)| inside),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a browser's `Origin` is the page this server served (same host and port).
pub(crate) fn origin_matches(origin: &str, host: &str) -> bool {
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

async fn stats(Extract(state): Extract<State>) -> impl IntoResponse {
    let s = state.hub.stats();
    let clients: Vec<_> = s
        .clients
        .iter()
        .map(|c| {
            json!({"id": c.id, "queued": c.queued, "high_water": c.high_water,
                   "capacity": c.capacity, "dropped": c.dropped, "sent": c.sent})
        })
        .collect();
    axum::Json(json!({
        "published": s.published,
        "rejected": s.rejected,
        "cut": s.cut,
        "capture": {"packets": s.capture.packets, "bytes": s.capture.bytes, "drops": s.capture.drops},
        "ended": s.ended,
        "clients": clients,
    }))
}

async fn websocket(
    Extract(state): Extract<State>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // Browsers always send Origin on WebSocket requests; other clients (tests, scripts) don't.
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let same = match (origin.to_str().ok(), host) {
            (Some(origin), Some(host)) => origin_matches(origin, host),
            _ => false,
        };
        if !same {
            return (StatusCode::FORBIDDEN, "cross-origin websocket refused\n").into_response();
        }
    }
    upgrade
        .max_message_size(INCOMING_MAX)
        .max_frame_size(INCOMING_MAX)
        .on_upgrade(move |socket| client(socket, state))
}

/// Unregisters a client however its task ends.
struct Subscription<'a> {
    hub: &'a Hub,
    slot: Arc<ClientSlot>,
}

impl Drop for Subscription<'_> {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.slot.id());
    }
}

/// The counters part of a message; sent again only when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counters {
    capture: CaptureStats,
    view_drops: u64,
    /// Items sent with long values cut (all browsers alike).
    cut: u64,
    ended: bool,
}

/// One browser: drains its queue into WebSocket messages until it goes away.
async fn client(mut socket: WebSocket, state: State) {
    let hub = Arc::clone(&state.hub);
    let sub = Subscription {
        hub: &hub,
        slot: hub.subscribe(),
    };
    let mut shutdown = state.shutdown.clone();
    let mut tick = tokio::time::interval(STATS_EVERY);
    let mut last: Option<Counters> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let batch = sub.slot.take_batch(state.batch_max, BATCH_BYTES);
        if !batch.items.is_empty() {
            let counters = counters(&hub, batch.dropped);
            if socket
                .send(Message::Text(message(&batch.items, counters).into()))
                .await
                .is_err()
            {
                break;
            }
            last = Some(counters);
            continue;
        }
        tokio::select! {
            () = sub.slot.notified() => {}
            _ = tick.tick() => {
                let counters = counters(&hub, sub.slot.dropped());
                if last != Some(counters) {
                    if socket.send(Message::Text(message(&[], counters).into())).await.is_err() {
                        break;
                    }
                    last = Some(counters);
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            changed = shutdown.changed() => if changed.is_err() {
                break; // the handle is gone: stop as well
            },
        }
    }
    // Best effort: the browser may already be gone.
    let _ = socket.send(Message::Close(None)).await;
}

fn counters(hub: &Hub, view_drops: u64) -> Counters {
    Counters {
        capture: hub.capture(),
        view_drops,
        cut: hub.cut(),
        ended: hub.ended(),
    }
}

/// `{"items":[..],"stats":{..}}`, built by concatenation: the items are already JSON.
fn message(items: &[Arc<str>], c: Counters) -> String {
    let len: usize = items.iter().map(|i| i.len().saturating_add(1)).sum();
    let mut out = String::with_capacity(len.saturating_add(160));
    out.push_str("{\"items\":[");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push_str("],\"stats\":");
    out.push_str(
        &json!({
            "packets": c.capture.packets,
            "bytes": c.capture.bytes,
            "capture_drops": c.capture.drops,
            "view_drops": c.view_drops,
            "cut": c.cut,
            "ended": c.ended,
        })
        .to_string(),
    );
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for ok in [
            "localhost",
            "localhost:8080",
            "LOCALHOST.:1",
            "app.localhost",
            "127.0.0.1",
            "127.0.0.1:8080",
            "127.9.9.9:1",
            "[::1]",
            "[::1]:8080",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "localhost.evil.example",
            "10.0.0.1:8080",
            "[::2]:80",
            "",
            "[",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_are_found_where_requests_carry_them() {
        assert_eq!(query_token(Some("token=abc")).as_deref(), Some("abc"));
        assert_eq!(
            query_token(Some("filter=x&token=abc&select=1")).as_deref(),
            Some("abc")
        );
        assert_eq!(query_token(Some("xtoken=abc")), None);
        assert_eq!(query_token(None), None);
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(authorization_token(&h).as_deref(), Some("abc"));
        h.insert(header::AUTHORIZATION, "token abc".parse().unwrap());
        assert_eq!(authorization_token(&h).as_deref(), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(authorization_token(&h), None);
        h.insert(
            header::COOKIE,
            "a=1; pcap_cli_token_8080=abc; pcap_cli_token_9090=def"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            cookie_token(&h, "pcap_cli_token_9090").as_deref(),
            Some("def")
        );
        assert_eq!(
            cookie_token(&h, "pcap_cli_token_8080").as_deref(),
            Some("abc")
        );
        assert_eq!(cookie_token(&h, "pcap_cli_token_1"), None);
    }

    #[test]
    fn token_comparison() {
        assert!(same_token(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!same_token(b"0123456789abcdeF", b"0123456789abcdef"));
        assert!(!same_token(b"0123456789abcde", b"0123456789abcdef"));
        assert!(!same_token(b"", b"0123456789abcdef"));
    }

    #[test]
    fn origins() {
        assert!(origin_matches("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(origin_matches("http://LocalHost:1", "localhost:1"));
        assert!(!origin_matches("http://evil.example", "127.0.0.1:8080"));
        assert!(!origin_matches("http://127.0.0.1:8081", "127.0.0.1:8080"));
        assert!(!origin_matches("null", "127.0.0.1:8080"));
    }

    #[test]
    fn message_is_json_with_items_and_counters() {
        let items: Vec<Arc<str>> = vec![
            Arc::from("{\"kind\":\"packet\",\"data\":{\"frame\":1}}"),
            Arc::from("{\"kind\":\"tcp\",\"data\":{}}"),
        ];
        let c = Counters {
            capture: CaptureStats {
                packets: 2,
                bytes: 120,
                drops: 0,
            },
            view_drops: 7,
            cut: 2,
            ended: true,
        };
        let v: serde_json::Value = serde_json::from_str(&message(&items, c)).unwrap();
        assert_eq!(v["items"][0]["data"]["frame"], 1);
        assert_eq!(v["items"][1]["kind"], "tcp");
        assert_eq!(v["stats"]["view_drops"], 7);
        assert_eq!(v["stats"]["cut"], 2);
        assert_eq!(v["stats"]["ended"], true);
        let empty: serde_json::Value = serde_json::from_str(&message(&[], c)).unwrap();
        assert_eq!(empty["items"].as_array().map(Vec::len), Some(0));
    }
}
