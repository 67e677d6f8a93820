//! HTTP/1.x and WebSocket as a [`Protocol`]: [`pcap_http_ws::HttpSession`] behind the
//! analyzer's detection, reporting to [`Handler::http`] in HTTP roles.

use std::mem;

use pcap_http_ws::{HttpConfig, HttpEvent, HttpSession};
use pcap_http2::{H2Config, H2Session};
use pcap_tcp_reassembly::Direction;

use crate::handler::{Handler, Stream};
use crate::protocol::{Cx, Detection, Protocol, ProtocolSession};

/// HTTP/1.x (and WebSocket after an upgrade), found by content on any port.
#[derive(Debug, Clone)]
pub struct HttpProtocol {
    config: HttpConfig,
}

impl HttpProtocol {
    /// HTTP decoding with these settings.
    pub fn new(config: HttpConfig) -> HttpProtocol {
        HttpProtocol { config }
    }
}

impl<H: Handler> Protocol<H> for HttpProtocol {
    fn name(&self) -> &'static str {
        "http"
    }

    /// A candidate unless the session starts with the HTTP/2 client preface's request
    /// line (`PRI * HTTP/2.0`, which [`crate::Http2Protocol`] takes): [`HttpSession`]
    /// itself drops a direction that does not start like a request or status line within
    /// a few bytes, and resynchronises on a message start after lost bytes, which a look
    /// at the first bytes alone could not.
    fn probe(&self, _dir: Direction, prefix: &[u8]) -> bool {
        !prefix.starts_with(b"PRI * HTTP/2.0\r\n")
    }

    fn start(&self) -> Box<dyn ProtocolSession<H>> {
        Box::new(HttpDecoder {
            session: HttpSession::new(self.config.clone()),
            swapped: false,
            h2c: H2c {
                offered: None,
                config: H2Config::from_http(&self.config),
                session: None,
            },
        })
    }
}

/// An HTTP/1.1 session's way to HTTP/2 (`Upgrade: h2c`, RFC 7540 section 3.2).
#[derive(Debug)]
struct H2c {
    /// The last request, when it offered the upgrade: stream 1's request once upgraded.
    offered: Option<Box<UpgradeRequest>>,
    /// Settings for the HTTP/2 session, from the HTTP ones.
    config: H2Config,
    /// After the 101: the tunnelled bytes are HTTP/2, stream 1 answering the upgraded
    /// request.
    session: Option<Box<H2Session>>,
}

/// A request head with `Upgrade: h2c`, kept until its response.
#[derive(Debug)]
struct UpgradeRequest {
    ts_ns: i64,
    offset: u64,
    method: String,
    uri: String,
    version: u8,
    head_len: usize,
    headers: Vec<(String, Vec<u8>)>,
}

impl UpgradeRequest {
    fn new(r: &pcap_http_ws::RequestHead<'_>) -> Self {
        UpgradeRequest {
            ts_ns: r.ts_ns,
            offset: r.offset,
            method: r.method.to_owned(),
            uri: r.uri.to_owned(),
            version: r.version,
            head_len: r.head_len,
            headers: r
                .headers
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_vec()))
                .collect(),
        }
    }

    /// Reports it as stream 1's request of `h2`.
    fn report<H: Handler>(&self, h2: &mut H2Session, ts_ns: i64, cx: &mut Cx<'_, H>) {
        let raw: Vec<httparse::Header<'_>> = self
            .headers
            .iter()
            .map(|(n, v)| httparse::Header { name: n, value: v })
            .collect();
        let head = pcap_http_ws::RequestHead::new(
            0,
            self.ts_ns,
            self.offset,
            &self.method,
            &self.uri,
            self.version,
            pcap_http_ws::Headers::new(&raw),
            self.head_len,
        );
        h2.upgraded_request(&head, ts_ns, &mut |ev| crate::http2::report(cx, ev));
    }
}

/// One session's HTTP decoder, whether it found the TCP client to be the HTTP server, and
/// the HTTP/2 session it turned into after an h2c upgrade.
#[derive(Debug)]
struct HttpDecoder {
    session: HttpSession,
    /// Events name the endpoints in HTTP roles, the reverse of the TCP handshake's.
    swapped: bool,
    h2c: H2c,
}

/// Whether a head's `Upgrade` header names h2c.
fn upgrade_h2c(headers: &pcap_http_ws::Headers<'_>) -> bool {
    headers.get("upgrade").is_some_and(|v| {
        v.split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"h2c"))
    })
}

/// A sink for the session's events that reports them to the handler in HTTP roles,
/// following a [`HttpEvent::RolesSwapped`] as it happens. A concrete closure rather than a
/// `dyn` one, so the decoder's calls to it are inlined.
///
/// After an h2c upgrade (a request with `Upgrade: h2c` answered by `101` with the same),
/// the bytes the HTTP/1.1 session reports as a tunnel are HTTP/2: they go to the HTTP/2
/// session instead, and its events to the handler as [`crate::Http2Protocol`]'s do.
fn reporter<'a, 'c: 'a, H: Handler>(
    swapped: &'a mut bool,
    h2c: &'a mut H2c,
    cx: &'a mut Cx<'c, H>,
) -> impl FnMut(HttpEvent<'_>) + 'a {
    let mut shown = cx.stream;
    if *swapped {
        swap_roles(&mut shown);
    }
    move |e: HttpEvent<'_>| {
        match &e {
            HttpEvent::RolesSwapped { .. } => {
                swap_roles(&mut shown);
                *swapped = !*swapped;
            }
            HttpEvent::Request(r) => {
                h2c.offered = upgrade_h2c(&r.headers).then(|| Box::new(UpgradeRequest::new(r)));
            }
            HttpEvent::Response(r) if r.status == 101 && upgrade_h2c(&r.headers) => {
                if let Some(req) = h2c.offered.take() {
                    // The 101 and the HTTP/1.1 record first, then stream 1's request.
                    cx.report(|h| h.http(&shown, &e));
                    let mut h2 = Box::new(H2Session::upgraded(h2c.config.clone()));
                    let conn = std::mem::replace(&mut cx.stream, shown);
                    req.report(&mut h2, r.ts_ns, cx);
                    cx.stream = conn;
                    h2c.session = Some(h2);
                    return;
                }
            }
            HttpEvent::Tunnel { dir, ts_ns, data } => {
                if let Some(h2) = h2c.session.as_mut() {
                    let conn = std::mem::replace(&mut cx.stream, shown);
                    h2.data(*dir, *ts_ns, data, &mut |ev| crate::http2::report(cx, ev));
                    cx.stream = conn;
                    return;
                }
            }
            _ => {}
        }
        cx.report(|h| h.http(&shown, &e));
    }
}

fn swap_roles(stream: &mut Stream) {
    mem::swap(&mut stream.client, &mut stream.server);
}

impl<H: Handler> ProtocolSession<H> for HttpDecoder {
    fn data(&mut self, cx: &mut Cx<'_, H>, dir: Direction, ts_ns: i64, bytes: &[u8]) {
        let HttpDecoder {
            session,
            swapped,
            h2c,
        } = self;
        session.data(dir, ts_ns, bytes, &mut reporter(swapped, h2c, cx));
    }

    fn gap(&mut self, cx: &mut Cx<'_, H>, dir: Direction, ts_ns: i64, len: u64) {
        let HttpDecoder {
            session,
            swapped,
            h2c,
        } = self;
        if let Some(h2) = h2c.session.as_mut() {
            h2.gap(dir, ts_ns, len, &mut |ev| crate::http2::report(cx, ev));
        }
        session.gap(dir, ts_ns, len, &mut reporter(swapped, h2c, cx));
    }

    fn end(&mut self, cx: &mut Cx<'_, H>, dir: Option<Direction>, ts_ns: i64) {
        let HttpDecoder {
            session,
            swapped,
            h2c,
        } = self;
        if let Some(h2) = h2c.session.as_mut() {
            h2.end(dir, ts_ns, &mut |ev| crate::http2::report(cx, ev));
        }
        session.end(dir, ts_ns, &mut reporter(swapped, h2c, cx));
    }

    fn abandon(&mut self, cx: &mut Cx<'_, H>, budget: usize, ts_ns: i64) {
        let HttpDecoder {
            session,
            swapped,
            h2c,
        } = self;
        session.abandon(budget, ts_ns, &mut reporter(swapped, h2c, cx));
    }

    fn memory(&self) -> usize {
        let h2 = self.h2c.session.as_ref().map_or(0, |s| s.memory());
        if self.session.is_active() {
            self.session.memory() + h2
        } else {
            h2
        }
    }

    fn detection(&self) -> Detection {
        if !self.session.is_active() {
            Detection::Rejected
        } else if self.session.is_http() {
            Detection::Confirmed
        } else {
            Detection::Undecided
        }
    }
}
