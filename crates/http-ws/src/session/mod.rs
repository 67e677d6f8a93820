//! The per-session HTTP/1.x state machine: two directions, a queue of pending requests.

use std::collections::VecDeque;

use pcap_tcp_reassembly::{Direction, PerDir};

use crate::chunked::{self, Chunked};
use crate::config::{HttpConfig, MAX_HEADERS};
use crate::content::{Coding, ContentDecoder, Stop, trim};
use crate::error::{ErrorKind, HttpError, ProtocolError};
use crate::event::{
    BadHead, HTTP09, Headers, HttpEvent, MessageComplete, RequestHead, ResponseHead,
    TransactionRecord, WsHandshake,
};
use crate::transaction::push_waiting;
use crate::websocket::{self, PerMessageDeflate, WsDecoder};

mod body;
mod head;
mod pairing;
mod upgrade;

use body::*;

/// Bytes of look-ahead used to decide whether a stream starts like HTTP.
const DETECT_LOOKAHEAD: usize = 32;
/// Longest method token accepted when detecting or resynchronising.
const MAX_METHOD_LEN: usize = 24;

/// How a message body is delimited.
#[derive(Debug)]
enum Framing {
    Length(u64),
    Chunked(Box<Chunked>),
    Close,
}

#[derive(Debug)]
struct Body {
    framing: Framing,
    len: u64,
    /// Bytes on the wire, chunk framing and trailers included.
    wire: u64,
    decoder: Option<Box<ContentDecoder>>,
    decoded_len: Option<u64>,
    decoded_truncated: bool,
}

/// What a direction does with the next bytes.
#[derive(Debug)]
enum State {
    /// Deciding whether the stream is HTTP; on failure the direction is dead or (after a
    /// gap) resynchronises.
    Detect {
        after_gap: bool,
    },
    /// Between messages: the next bytes are a head.
    Head,
    Body(Body),
    /// Scanning for a request/response line at a line start.
    Resync {
        line_start: bool,
    },
    /// Client bytes after an Upgrade/CONNECT request, held until the response decides.
    Await {
        lost: bool,
    },
    WebSocket(Box<WsDecoder>),
    Tunnel,
    Dead,
}

#[derive(Debug)]
struct DirState {
    state: State,
    /// Partial head, detection look-ahead or bytes held while awaiting an upgrade answer.
    buf: Vec<u8>,
    /// Stream offset of the next byte.
    offset: u64,
    /// A head has parsed in this direction: it is HTTP.
    confirmed: bool,
    /// (ts, offset) of the current message's first byte.
    msg_start: (i64, u64),
    resync_scanned: usize,
}

impl DirState {
    fn new() -> Self {
        DirState {
            state: State::Detect { after_gap: false },
            buf: Vec::new(),
            offset: 0,
            confirmed: false,
            msg_start: (0, 0),
            resync_scanned: 0,
        }
    }
}

impl DirState {
    /// Bytes held beyond the struct: the buffer and the current message's decoders.
    fn memory(&self) -> usize {
        let state = match &self.state {
            State::Body(b) => {
                let chunked = match &b.framing {
                    Framing::Chunked(c) => c.memory(),
                    _ => 0,
                };
                chunked + b.decoder.as_ref().map_or(0, |d| d.memory())
            }
            State::WebSocket(ws) => ws.memory(),
            _ => 0,
        };
        self.buf.capacity() + state
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Head,
    Connect,
    /// An HTTP/0.9 simple request: its response is a bare body up to the close.
    Simple,
    Other,
}

/// A request waiting for (or being answered by) its response.
#[derive(Debug)]
struct Pending {
    index: u64,
    method: Method,
    start_ns: i64,
    end_ns: Option<i64>,
    head_len: u64,
    body_len: u64,
    wire_len: u64,
    decoded_len: Option<u64>,
    complete: bool,
    upgrade: bool,
    ws_key: Option<Box<[u8]>>,
    first_response_ns: Option<i64>,
    /// Interim (1xx) statuses answered so far, at most [`MAX_INTERIM`].
    interim: Vec<u16>,
}

/// Interim responses kept per request: a server may send any number of them.
const MAX_INTERIM: usize = 8;

/// The response being received.
#[derive(Debug)]
struct Responding {
    req: Option<Pending>,
    status: u16,
    start_ns: i64,
    head_len: u64,
}

/// What a parsed head says about framing and upgrades (owned, so the borrow of the head ends).
#[derive(Debug, Default)]
struct HeadInfo {
    len: usize,
    method: Option<Method>,
    status: u16,
    version: u8,
    content_length: Option<u64>,
    chunked: bool,
    other_te: bool,
    coding: Option<Coding>,
    upgrade: bool,
    upgrade_ws: bool,
    ws_key: Option<Box<[u8]>>,
    ws_accept: Option<Box<[u8]>>,
    deflate: Option<PerMessageDeflate>,
}

/// Incremental HTTP/1.x and WebSocket decoder for one TCP session.
///
/// Feed each direction's reassembled bytes in time order with [`HttpSession::data`]; chunk
/// boundaries do not matter. Events go to the sink and borrow the input (or the session's
/// small buffers) only for the duration of the call.
#[derive(Debug)]
pub struct HttpSession {
    cfg: HttpConfig,
    /// Each direction's state, in HTTP roles.
    dirs: PerDir<DirState>,
    pending: VecDeque<Pending>,
    responding: Option<Responding>,
    next_index: u64,
    /// The reassembler's client is the HTTP server (picked up mid-stream): directions are
    /// swapped on the way in so events always use HTTP roles.
    swapped: bool,
    /// Set by detection when it swapped roles in the middle of a `feed`.
    swap_pending: bool,
    /// The pending-request cap was hit (reported once).
    pipeline_overflowed: bool,
}

fn error(
    dir: Direction,
    ts_ns: i64,
    offset: u64,
    e: HttpError,
    sink: &mut impl FnMut(HttpEvent<'_>),
) {
    sink(HttpEvent::Error(ProtocolError {
        dir,
        ts_ns,
        offset,
        kind: ErrorKind::Http(e),
    }));
}

impl HttpSession {
    /// A session in its initial state: both directions will be checked for HTTP.
    pub fn new(config: HttpConfig) -> Self {
        HttpSession {
            cfg: config,
            dirs: PerDir::new(DirState::new(), DirState::new()),
            pending: VecDeque::new(),
            responding: None,
            next_index: 0,
            swapped: false,
            swap_pending: false,
            pipeline_overflowed: false,
        }
    }

    /// False once both directions were found not to be HTTP (or ended): callers may drop
    /// the session and stop feeding it.
    pub fn is_active(&self) -> bool {
        self.dirs.iter().any(|d| !matches!(d.state, State::Dead))
    }

    /// Bytes this session holds, approximately: its buffers and decoders, plus the heads of
    /// the requests waiting for a response, which a consumer pairing requests with
    /// responses keeps as well. The measure for a memory budget over many sessions
    /// (`pcap_analyzer::AnalyzerConfig::protocol_memory` is one).
    pub fn memory(&self) -> usize {
        let waiting = self
            .pending
            .iter()
            .chain(self.responding.as_ref().and_then(|r| r.req.as_ref()))
            .map(|p| usize::try_from(p.head_len).unwrap_or(usize::MAX))
            .fold(0usize, usize::saturating_add);
        std::mem::size_of::<Self>()
            + self.dirs.iter().map(DirState::memory).sum::<usize>()
            + self.pending.capacity() * std::mem::size_of::<Pending>()
            + waiting
    }

    /// Stops decoding because sessions together went over a memory budget of `max` bytes:
    /// reports [`HttpError::MemoryBudget`], then ends both directions as
    /// [`HttpSession::end`] does (requests still waiting get their records).
    pub fn abandon(&mut self, max: usize, ts_ns: i64, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let offset = self.dirs[Direction::ClientToServer].offset;
        error(
            Direction::ClientToServer,
            ts_ns,
            offset,
            HttpError::MemoryBudget { max },
            sink,
        );
        self.end(None, ts_ns, sink);
    }

    /// True once a request or response head has parsed in either direction.
    pub fn is_http(&self) -> bool {
        self.dirs.iter().any(|d| d.confirmed)
    }

    /// True when the session found the reassembler's client to be the HTTP server (a
    /// capture picked up mid-stream) and reports events in swapped, HTTP roles.
    pub fn roles_swapped(&self) -> bool {
        self.swapped
    }

    /// Decodes `bytes`, the next in-order bytes of direction `dir`, seen at `ts_ns`.
    ///
    /// Event directions are HTTP roles: `ClientToServer` carries requests. When the first
    /// bytes of a session show the reassembler's "client" sending responses (a capture picked
    /// up mid-stream), the session swaps directions once, before anything was decoded.
    pub fn data(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        bytes: &[u8],
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let role = self.role(dir);
        self.feed(role, ts_ns, bytes, sink);
    }

    fn role(&self, dir: Direction) -> Direction {
        if self.swapped { dir.reverse() } else { dir }
    }

    /// True when `dir` may still turn out to be the other role: nothing decoded or held in
    /// the other direction, no swap yet.
    fn can_swap(&self, dir: Direction) -> bool {
        let other = &self.dirs[dir.reverse()];
        !self.swapped
            && !self.dirs[dir].confirmed
            && !other.confirmed
            && other.offset == 0
            && other.buf.is_empty()
            && matches!(other.state, State::Detect { after_gap: false })
    }

    /// [`Self::data`] for a direction already mapped to its HTTP role.
    fn feed(
        &mut self,
        mut dir: Direction,
        ts_ns: i64,
        bytes: &[u8],
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let mut input = bytes;
        let mut stuck = 0u8;
        while !input.is_empty() {
            let used = self.step(dir, ts_ns, input, sink).min(input.len());
            if std::mem::take(&mut self.swap_pending) {
                dir = dir.reverse();
                sink(HttpEvent::RolesSwapped { ts_ns });
            }
            let d = &mut self.dirs[dir];
            d.offset = d.offset.saturating_add(used as u64);
            input = input.get(used..).unwrap_or_default();
            // A step that consumes nothing must have changed state; never loop on it.
            stuck = if used == 0 {
                stuck.saturating_add(1)
            } else {
                0
            };
            if stuck > 8 {
                break;
            }
        }
    }

    /// `len` bytes of direction `dir` were lost before capture: bodies of known length skip
    /// them; otherwise decoding resynchronises at the next request/response line.
    pub fn gap(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        len: u64,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        if len == 0 {
            return;
        }
        let dir = self.role(dir);
        let offset = self.dirs[dir].offset;
        let state = std::mem::replace(&mut self.dirs[dir].state, State::Dead);
        let next = match state {
            State::Dead => State::Dead,
            State::Detect { .. } if !self.dirs[dir].confirmed && self.dirs[dir].buf.is_empty() => {
                // Picked up mid-stream: look for a message start, with a budget.
                State::Resync { line_start: true }
            }
            State::Tunnel => State::Tunnel,
            State::WebSocket(mut ws) => {
                ws.gap(ts_ns, offset, len, sink);
                State::WebSocket(ws)
            }
            State::Await { .. } => {
                self.dirs[dir].buf.clear();
                State::Await { lost: true }
            }
            State::Body(mut body) => {
                let skipped = match &mut body.framing {
                    Framing::Length(rem) if *rem >= len => {
                        *rem -= len;
                        true
                    }
                    Framing::Chunked(c) => c.skip_data(len),
                    Framing::Close => true,
                    Framing::Length(_) => false,
                };
                error(dir, ts_ns, offset, HttpError::BytesLost { len }, sink);
                if skipped {
                    body.len = body.len.saturating_add(len);
                    body.wire = body.wire.saturating_add(len);
                    if body.decoder.take().is_some() {
                        body.decoded_truncated = true;
                    }
                    self.dirs[dir].offset = offset.saturating_add(len);
                    self.dirs[dir].state = State::Body(body);
                    if matches!(body_ref(&self.dirs[dir].state), Some(Framing::Length(0))) {
                        self.finish_message(dir, ts_ns, true, sink);
                    }
                    return;
                }
                self.dirs[dir].state = State::Body(body);
                self.finish_message(dir, ts_ns, false, sink);
                self.dirs[dir].offset = offset.saturating_add(len);
                self.dirs[dir].state = State::Resync { line_start: true };
                return;
            }
            State::Detect { .. } | State::Head | State::Resync { .. } => {
                self.dirs[dir].buf.clear();
                State::Resync { line_start: true }
            }
        };
        if !matches!(next, State::Body(_) | State::WebSocket(_)) {
            error(dir, ts_ns, offset, HttpError::BytesLost { len }, sink);
        }
        self.dirs[dir].state = next;
        self.dirs[dir].offset = offset.saturating_add(len);
    }

    /// Direction `dir` (or both, for `None`) ended (FIN, RST or close): completes bodies
    /// framed by the close, reports unfinished messages, and emits records for requests
    /// left without a response.
    pub fn end(
        &mut self,
        dir: Option<Direction>,
        ts_ns: i64,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let dirs: &[Direction] = match dir {
            Some(Direction::ClientToServer) => &[Direction::ClientToServer],
            Some(Direction::ServerToClient) => &[Direction::ServerToClient],
            None => &[Direction::ClientToServer, Direction::ServerToClient],
        };
        for &dir in dirs {
            self.end_one(self.role(dir), ts_ns, sink);
        }
    }

    fn end_one(&mut self, dir: Direction, ts_ns: i64, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let offset = self.dirs[dir].offset;
        let partial_head = !self.dirs[dir].buf.is_empty();
        match &mut self.dirs[dir].state {
            State::Body(b) => {
                let complete = matches!(b.framing, Framing::Close);
                if !complete {
                    error(dir, ts_ns, offset, HttpError::IncompleteMessage, sink);
                }
                self.finish_message(dir, ts_ns, complete, sink);
            }
            State::Head if partial_head => {
                error(dir, ts_ns, offset, HttpError::IncompleteMessage, sink);
            }
            State::WebSocket(ws) => ws.end(ts_ns, offset, sink),
            _ => {}
        }
        self.dirs[dir].state = State::Dead;
        self.dirs[dir].buf = Vec::new();
        if dir == Direction::ServerToClient {
            if let Some(r) = self.responding.take() {
                self.emit_record(r, None, ts_ns, false, sink);
            }
            while let Some(p) = self.pending.pop_front() {
                self.close_unanswered(p, ts_ns, sink);
            }
        }
    }

    /// One state-machine step over a prefix of `input`; returns bytes consumed (0 only
    /// when the state changed and the next step consumes).
    fn step(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        input: &[u8],
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) -> usize {
        let offset = self.dirs[dir].offset;
        match &mut self.dirs[dir].state {
            State::Dead => input.len(),
            State::Tunnel => {
                sink(HttpEvent::Tunnel {
                    dir,
                    ts_ns,
                    data: input,
                });
                input.len()
            }
            State::WebSocket(ws) => {
                ws.data(ts_ns, offset, input, sink);
                input.len()
            }
            State::Await { .. } => {
                let d = &mut self.dirs[dir];
                let max = self.cfg.max_head_bytes;
                if d.buf.len().saturating_add(input.len()) > max {
                    // The client did not wait: give up holding and decode it as HTTP.
                    error(
                        dir,
                        ts_ns,
                        offset,
                        HttpError::UpgradeBufferFull { max },
                        sink,
                    );
                    d.state = State::Head;
                    self.replay(dir, ts_ns, sink);
                    return 0;
                }
                d.buf.extend_from_slice(input);
                input.len()
            }
            State::Detect { after_gap } => {
                let after_gap = *after_gap;
                self.detect(dir, ts_ns, input, after_gap, sink)
            }
            State::Resync { line_start } => {
                let line_start = *line_start;
                self.resync(dir, ts_ns, input, line_start)
            }
            State::Head => self.head(dir, ts_ns, input, sink),
            State::Body(_) => self.body(dir, ts_ns, input, sink),
        }
    }

    fn give_up(&mut self, dir: Direction) {
        self.dirs[dir].state = State::Dead;
        self.dirs[dir].buf = Vec::new();
    }
}
