//! HTTP/1.x and WebSocket as a [`Protocol`]: [`pcap_http_ws::HttpSession`] behind the
//! analyzer's detection, reporting to [`Handler::http`] in HTTP roles.

use std::mem;

use pcap_http_ws::{HttpConfig, HttpEvent, HttpSession};
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

    /// Always a candidate: [`HttpSession`] itself drops a direction that does not start
    /// like a request or status line within a few bytes, and resynchronises on a message
    /// start after lost bytes, which a look at the first bytes alone could not.
    fn probe(&self, _dir: Direction, _prefix: &[u8]) -> bool {
        true
    }

    fn start(&self) -> Box<dyn ProtocolSession<H>> {
        Box::new(HttpDecoder {
            session: HttpSession::new(self.config.clone()),
            swapped: false,
        })
    }
}

/// One session's HTTP decoder, and whether it found the TCP client to be the HTTP server.
#[derive(Debug)]
struct HttpDecoder {
    session: HttpSession,
    /// Events name the endpoints in HTTP roles, the reverse of the TCP handshake's.
    swapped: bool,
}

/// A sink for the session's events that reports them to the handler in HTTP roles,
/// following a [`HttpEvent::RolesSwapped`] as it happens. A concrete closure rather than a
/// `dyn` one, so the decoder's calls to it are inlined.
fn reporter<'a, 'c: 'a, H: Handler>(
    swapped: &'a mut bool,
    cx: &'a mut Cx<'c, H>,
) -> impl FnMut(HttpEvent<'_>) + 'a {
    let mut shown = cx.stream;
    if *swapped {
        swap_roles(&mut shown);
    }
    move |e: HttpEvent<'_>| {
        if let HttpEvent::RolesSwapped { .. } = e {
            swap_roles(&mut shown);
            *swapped = !*swapped;
        }
        cx.report(|h| h.http(&shown, &e));
    }
}

fn swap_roles(stream: &mut Stream) {
    mem::swap(&mut stream.client, &mut stream.server);
}

impl<H: Handler> ProtocolSession<H> for HttpDecoder {
    fn data(&mut self, cx: &mut Cx<'_, H>, dir: Direction, ts_ns: i64, bytes: &[u8]) {
        let HttpDecoder { session, swapped } = self;
        session.data(dir, ts_ns, bytes, &mut reporter(swapped, cx));
    }

    fn gap(&mut self, cx: &mut Cx<'_, H>, dir: Direction, ts_ns: i64, len: u64) {
        let HttpDecoder { session, swapped } = self;
        session.gap(dir, ts_ns, len, &mut reporter(swapped, cx));
    }

    fn end(&mut self, cx: &mut Cx<'_, H>, dir: Option<Direction>, ts_ns: i64) {
        let HttpDecoder { session, swapped } = self;
        session.end(dir, ts_ns, &mut reporter(swapped, cx));
    }

    fn abandon(&mut self, cx: &mut Cx<'_, H>, budget: usize, ts_ns: i64) {
        let HttpDecoder { session, swapped } = self;
        session.abandon(budget, ts_ns, &mut reporter(swapped, cx));
    }

    fn memory(&self) -> usize {
        if self.session.is_active() {
            self.session.memory()
        } else {
            0
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
