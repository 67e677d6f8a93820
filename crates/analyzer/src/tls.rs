//! TLS as a [`Protocol`]: [`pcap_tls::TlsSession`] behind the analyzer's detection. Every
//! TLS event goes to [`Handler::tls`]; the decrypted bytes also go to the protocols
//! registered inside TLS (HTTP/1.x by default), detected by content as on a cleartext
//! session, whose events are reported with [`Stream::tls`](crate::Stream::tls) set.

use std::mem;
use std::rc::Rc;
use std::sync::Arc;

use pcap_tcp_reassembly::Direction;
use pcap_tls::{KeyLookup, TlsConfig, TlsEvent, TlsSession};

use crate::handler::Handler;
use crate::protocol::{Cx, Detection, Protocol, ProtocolSession, start_candidates};

/// TLS, found by content on any port, decrypted with the secrets `keys` finds, and the
/// protocols to detect in the plaintext.
pub struct TlsProtocol<H: Handler> {
    config: TlsConfig,
    keys: Option<Arc<dyn KeyLookup>>,
    inner: Rc<[Box<dyn Protocol<H>>]>,
}

impl<H: Handler> TlsProtocol<H> {
    /// TLS decoding with `config`, decrypting with `keys` (none: handshake details only),
    /// and detecting `inner` protocols in the decrypted bytes.
    pub fn new(
        config: TlsConfig,
        keys: Option<Arc<dyn KeyLookup>>,
        inner: Vec<Box<dyn Protocol<H>>>,
    ) -> TlsProtocol<H> {
        TlsProtocol {
            config,
            keys,
            inner: inner.into(),
        }
    }
}

impl<H: Handler + 'static> Protocol<H> for TlsProtocol<H> {
    fn name(&self) -> &'static str {
        "tls"
    }

    /// A record header carrying a handshake; nothing can be learned from a session picked
    /// up after its handshake, so a session that starts with a gap is not a candidate.
    fn probe(&self, _dir: Direction, prefix: &[u8]) -> bool {
        pcap_tls::looks_like_tls(prefix)
    }

    fn start(&self) -> Box<dyn ProtocolSession<H>> {
        Box::new(TlsDecoder {
            session: TlsSession::new(self.config.clone(), self.keys.clone()),
            protocols: Rc::clone(&self.inner),
            inner: Inner::NotYet,
            swapped: false,
        })
    }
}

/// The decoder of the plaintext: none until the first decrypted bytes, then the candidates
/// their content chose, until every one of them rejected it.
enum Inner<H: Handler> {
    NotYet,
    Running(Box<dyn ProtocolSession<H>>),
    Done,
}

/// One session's TLS, and the decoder of what it carries.
struct TlsDecoder<H: Handler> {
    session: TlsSession,
    protocols: Rc<[Box<dyn Protocol<H>>]>,
    inner: Inner<H>,
    /// The TCP client is the TLS server: events name the endpoints in TLS roles.
    swapped: bool,
}

/// What a TLS event does besides reaching [`Handler::tls`]: plaintext goes to the inner
/// decoder, and a role swap is remembered.
fn on_event<H: Handler + 'static>(
    cx: &mut Cx<'_, H>,
    protocols: &[Box<dyn Protocol<H>>],
    inner: &mut Inner<H>,
    swapped: &mut bool,
    event: TlsEvent<'_>,
) {
    if let TlsEvent::RolesSwapped { .. } = event {
        *swapped = !*swapped;
    }
    let mut shown = cx.stream;
    if *swapped {
        mem::swap(&mut shown.client, &mut shown.server);
    }
    cx.report(|h| h.tls(&shown, &event));
    if let TlsEvent::Plaintext { dir, ts_ns, data } = event {
        shown.tls = true;
        let mut icx = cx.with_stream(shown);
        plaintext(&mut icx, protocols, inner, dir, ts_ns, data);
    }
}

/// Decrypted bytes to the inner decoder, made on the first of them.
fn plaintext<H: Handler + 'static>(
    cx: &mut Cx<'_, H>,
    protocols: &[Box<dyn Protocol<H>>],
    inner: &mut Inner<H>,
    dir: Direction,
    ts_ns: i64,
    data: &[u8],
) {
    if let Inner::NotYet = inner {
        *inner = match start_candidates(protocols, dir, data) {
            Some(d) => Inner::Running(d),
            None => Inner::Done,
        };
    }
    if let Inner::Running(decoder) = inner {
        decoder.data(cx, dir, ts_ns, data);
        if decoder.detection() == Detection::Rejected {
            *inner = Inner::Done;
        }
    }
}

impl<H: Handler> TlsDecoder<H> {
    /// The session's stream in TLS roles, marked as decrypted, for the inner decoder.
    fn inner_cx<'c>(&self, cx: &'c mut Cx<'_, H>) -> Cx<'c, H> {
        let mut shown = cx.stream;
        if self.swapped {
            mem::swap(&mut shown.client, &mut shown.server);
        }
        shown.tls = true;
        cx.with_stream(shown)
    }

    /// A TCP direction in TLS roles.
    fn tls_dir(&self, dir: Direction) -> Direction {
        if self.swapped { dir.reverse() } else { dir }
    }
}

impl<H: Handler + 'static> ProtocolSession<H> for TlsDecoder<H> {
    fn data(&mut self, cx: &mut Cx<'_, H>, dir: Direction, ts_ns: i64, bytes: &[u8]) {
        let TlsDecoder {
            session,
            protocols,
            inner,
            swapped,
        } = self;
        session.data(dir, ts_ns, bytes, &mut |e| {
            on_event(cx, protocols, inner, swapped, e)
        });
    }

    fn gap(&mut self, cx: &mut Cx<'_, H>, dir: Direction, ts_ns: i64, len: u64) {
        let TlsDecoder {
            session,
            protocols,
            inner,
            swapped,
        } = self;
        session.gap(dir, ts_ns, len, &mut |e| {
            on_event(cx, protocols, inner, swapped, e)
        });
    }

    fn end(&mut self, cx: &mut Cx<'_, H>, dir: Option<Direction>, ts_ns: i64) {
        {
            let TlsDecoder {
                session,
                protocols,
                inner,
                swapped,
            } = self;
            session.end(dir, ts_ns, &mut |e| {
                on_event(cx, protocols, inner, swapped, e)
            });
        }
        let tls_dir = dir.map(|d| self.tls_dir(d));
        if let Inner::Running(mut decoder) = mem::replace(&mut self.inner, Inner::Done) {
            decoder.end(&mut self.inner_cx(cx), tls_dir, ts_ns);
            if dir.is_some() {
                self.inner = Inner::Running(decoder);
            }
        }
    }

    fn abandon(&mut self, cx: &mut Cx<'_, H>, budget: usize, ts_ns: i64) {
        if let Inner::Running(mut decoder) = mem::replace(&mut self.inner, Inner::Done) {
            decoder.abandon(&mut self.inner_cx(cx), budget, ts_ns);
        }
        self.end(cx, None, ts_ns);
    }

    fn memory(&self) -> usize {
        let inner = match &self.inner {
            Inner::Running(d) => d.memory(),
            _ => 0,
        };
        self.session.memory() + inner
    }

    fn detection(&self) -> Detection {
        match self.session.is_tls() {
            Some(true) => Detection::Confirmed,
            Some(false) => Detection::Rejected,
            None => Detection::Undecided,
        }
    }
}
