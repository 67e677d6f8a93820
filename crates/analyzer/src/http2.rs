//! HTTP/2 as a [`Protocol`]: [`pcap_http2::H2Session`] behind the analyzer's detection.
//! Each stream's exchange goes to [`Handler::http`] as HTTP/1.x events with
//! [`Stream::h2_stream`] set; the rest (gRPC, RST_STREAM, GOAWAY, SETTINGS, errors and
//! caps) goes to [`Handler::http2`].

use pcap_http2::frame::{FrameHeader, FrameType, MAX_FRAME_SIZE_LIMIT, flags};
use pcap_http2::{H2Config, H2Error, H2Event, H2Session, PREFACE};
use pcap_tcp_reassembly::Direction;

use crate::handler::{Handler, Stream};
use crate::protocol::{Cx, Detection, Protocol, ProtocolSession};

/// HTTP/2 in cleartext (h2c with prior knowledge, found by the client preface) or picked up
/// mid-stream (found by a chain of valid frame headers); after TLS with ALPN `h2`, a TLS
/// decoder starts [`Http2Protocol::session`] on the plaintext directly.
#[derive(Debug, Clone)]
pub struct Http2Protocol {
    config: H2Config,
}

impl Http2Protocol {
    /// HTTP/2 decoding with these settings.
    pub fn new(config: H2Config) -> Http2Protocol {
        Http2Protocol { config }
    }

    /// A decoder for a session known to be HTTP/2 from its start (ALPN `h2`, or a
    /// prior-knowledge port): no probing, the client's first bytes must be the preface.
    /// It confirms at once.
    pub fn session<H: Handler>(&self) -> Box<dyn ProtocolSession<H>> {
        Box::new(H2Decoder {
            mode: Mode::Known(H2Session::new(self.config.clone())),
            config: self.config.clone(),
        })
    }

    /// A decoder for a session known to be HTTP/2 whose start was not seen: it looks for
    /// a frame boundary in each direction. It confirms at once.
    pub fn midstream_session<H: Handler>(&self) -> Box<dyn ProtocolSession<H>> {
        Box::new(H2Decoder {
            mode: Mode::Known(H2Session::midstream(self.config.clone())),
            config: self.config.clone(),
        })
    }
}

/// Whether `prefix` starts like a frame header of a connection in progress.
fn looks_like_frame(prefix: &[u8]) -> bool {
    FrameHeader::parse(prefix).is_some_and(|h| h.plausible(MAX_FRAME_SIZE_LIMIT))
}

/// Whether `prefix` starts with a SETTINGS frame that is not an acknowledgement: how a
/// server's side of a connection begins, sometimes before the client preface is seen.
fn server_settings(prefix: &[u8]) -> bool {
    FrameHeader::parse(prefix).is_some_and(|h| {
        h.kind == FrameType::Settings && !h.has(flags::ACK) && h.plausible(MAX_FRAME_SIZE_LIMIT)
    })
}

/// Whether `prefix` is (the start of) the client preface.
fn preface(prefix: &[u8]) -> bool {
    let n = prefix.len().min(PREFACE.len());
    !prefix.is_empty() && prefix.get(..n) == PREFACE.get(..n)
}

impl<H: Handler> Protocol<H> for Http2Protocol {
    fn name(&self) -> &'static str {
        "http2"
    }

    /// The client preface; or, for a session picked up mid-stream (lost first bytes, or
    /// first bytes that start like a frame header: a zero byte first, a known type), a
    /// candidate that confirms only on two consecutive valid frame headers.
    fn probe(&self, dir: Direction, prefix: &[u8]) -> bool {
        prefix.is_empty()
            || (dir == Direction::ClientToServer && preface(prefix))
            || looks_like_frame(prefix)
    }

    fn start(&self) -> Box<dyn ProtocolSession<H>> {
        Box::new(H2Decoder {
            mode: Mode::Probing,
            config: self.config.clone(),
        })
    }
}

#[derive(Debug)]
enum Mode {
    /// Before the session's first bytes: which kind of start it is is not known yet.
    Probing,
    /// Decoding, found by content (reports only once confirmed).
    Found(H2Session),
    /// Decoding a session known to be HTTP/2.
    Known(H2Session),
    /// Not HTTP/2.
    Rejected,
}

/// One session's HTTP/2 decoder.
#[derive(Debug)]
struct H2Decoder {
    mode: Mode,
    config: H2Config,
}

/// Reports one event of an HTTP/2 session whose connection is `stream`: stream events as
/// HTTP events of that stream, the rest to [`Handler::http2`].
pub(crate) fn report<H: Handler>(cx: &mut Cx<'_, H>, ev: H2Event<'_>) {
    let conn = cx.stream;
    let on = |n: u32| Stream {
        h2_stream: Some(n),
        ..conn
    };
    match ev {
        H2Event::Http { stream, event } => {
            let s = on(stream);
            cx.report(|h| h.http(&s, &event));
        }
        ev => {
            let s = match &ev {
                H2Event::RstStream { stream, .. }
                | H2Event::PushPromise { stream, .. }
                | H2Event::StreamEnd { stream, .. } => on(*stream),
                H2Event::GrpcMessage(m) => on(m.stream),
                H2Event::GrpcStatus(g) => on(g.stream),
                _ => conn,
            };
            cx.report(|h| h.http2(&s, &ev));
        }
    }
}

impl H2Decoder {
    /// The session, and whether it may report (confirmed or known).
    fn session(&mut self) -> Option<&mut H2Session> {
        match &mut self.mode {
            Mode::Found(s) | Mode::Known(s) => Some(s),
            _ => None,
        }
    }

    /// Runs `f` on the session with a sink that reports to the handler. An
    /// [`H2Session`] reports nothing before it is confirmed (the preface, or a frame
    /// boundary found mid-stream) but the error that rejects it, which a session found by
    /// content keeps to itself: it was not HTTP/2.
    fn with<H: Handler>(
        &mut self,
        cx: &mut Cx<'_, H>,
        f: impl FnOnce(&mut H2Session, &mut dyn FnMut(H2Event<'_>)),
    ) {
        let found = matches!(self.mode, Mode::Found(_));
        let Some(session) = self.session() else {
            return;
        };
        f(session, &mut |ev| match ev {
            H2Event::Error {
                error: H2Error::NoPreface | H2Error::NoResync { .. },
                ..
            } if found => {}
            ev => report(cx, ev),
        });
        if let Mode::Found(s) = &self.mode {
            if !s.is_active() {
                self.mode = Mode::Rejected;
            }
        }
    }
}

impl<H: Handler> ProtocolSession<H> for H2Decoder {
    fn data(&mut self, cx: &mut Cx<'_, H>, dir: Direction, ts_ns: i64, bytes: &[u8]) {
        if let Mode::Probing = self.mode {
            self.mode = if (dir == Direction::ClientToServer && preface(bytes))
                || (dir == Direction::ServerToClient && server_settings(bytes))
            {
                // A server may send its SETTINGS before the client's preface arrives.
                Mode::Found(H2Session::new(self.config.clone()))
            } else if looks_like_frame(bytes) {
                Mode::Found(H2Session::midstream(self.config.clone()))
            } else {
                Mode::Rejected
            };
        }
        self.with(cx, |s, sink| s.data(dir, ts_ns, bytes, &mut |e| sink(e)));
    }

    fn gap(&mut self, cx: &mut Cx<'_, H>, dir: Direction, ts_ns: i64, len: u64) {
        if let Mode::Probing = self.mode {
            self.mode = Mode::Found(H2Session::midstream(self.config.clone()));
        }
        self.with(cx, |s, sink| s.gap(dir, ts_ns, len, &mut |e| sink(e)));
    }

    fn end(&mut self, cx: &mut Cx<'_, H>, dir: Option<Direction>, ts_ns: i64) {
        self.with(cx, |s, sink| s.end(dir, ts_ns, &mut |e| sink(e)));
    }

    fn abandon(&mut self, cx: &mut Cx<'_, H>, budget: usize, ts_ns: i64) {
        self.with(cx, |s, sink| {
            sink(H2Event::Error {
                dir: Direction::ClientToServer,
                ts_ns,
                offset: 0,
                error: H2Error::MemoryBudget { budget },
            });
            s.end(None, ts_ns, &mut |e| sink(e));
        });
    }

    fn memory(&self) -> usize {
        match &self.mode {
            Mode::Found(s) | Mode::Known(s) => s.memory(),
            _ => 0,
        }
    }

    fn detection(&self) -> Detection {
        match &self.mode {
            Mode::Probing => Detection::Undecided,
            Mode::Rejected => Detection::Rejected,
            Mode::Known(_) => Detection::Confirmed,
            Mode::Found(s) if !s.is_active() => Detection::Rejected,
            Mode::Found(s) if s.is_h2() => Detection::Confirmed,
            Mode::Found(_) => Detection::Undecided,
        }
    }
}
