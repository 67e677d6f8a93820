//! The per-session HTTP/1.x state machine: two directions, a queue of pending requests.

use std::collections::VecDeque;

use pcap_tcp_reassembly::Direction;

use crate::chunked::{self, Chunked};
use crate::config::{HttpConfig, MAX_HEADERS};
use crate::content::{Coding, ContentDecoder, Stop, trim};
use crate::error::{ErrorKind, HttpError, ProtocolError};
use crate::event::{
    Headers, HttpEvent, MessageComplete, RequestHead, ResponseHead, TransactionRecord, WsHandshake,
};
use crate::transaction::push_waiting;
use crate::websocket::{self, PerMessageDeflate, Pos, WsDecoder};

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

/// The two directions' states, indexed by [`idx`] (0 = client, 1 = server) without panics.
#[derive(Debug)]
struct Dirs {
    client: DirState,
    server: DirState,
}

impl std::ops::Index<usize> for Dirs {
    type Output = DirState;
    fn index(&self, i: usize) -> &DirState {
        if i == 0 { &self.client } else { &self.server }
    }
}

impl std::ops::IndexMut<usize> for Dirs {
    fn index_mut(&mut self, i: usize) -> &mut DirState {
        if i == 0 {
            &mut self.client
        } else {
            &mut self.server
        }
    }
}

impl Dirs {
    fn iter(&self) -> impl Iterator<Item = &DirState> {
        [&self.client, &self.server].into_iter()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Head,
    Connect,
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
}

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
    dirs: Dirs,
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

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
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

/// Does `b` start like a request (`client`) or response line? `None`: need more bytes.
fn plausible_start(client: bool, b: &[u8]) -> Option<bool> {
    if client {
        for (i, &c) in b.iter().enumerate() {
            match c {
                b'A'..=b'Z' | b'-' | b'_' if i < MAX_METHOD_LEN => {}
                b' ' if i > 0 => return Some(true),
                _ => return Some(false),
            }
        }
        None
    } else {
        let want = b"HTTP/1.";
        let n = want.len().min(b.len());
        if b.get(..n) != want.get(..n) {
            Some(false)
        } else if n == want.len() {
            Some(true)
        } else {
            None
        }
    }
}

/// For a stream not yet known to be HTTP: once its first line is complete, is it a
/// request line ending in `HTTP/1.x`? `None`: line not complete yet.
fn first_line_ok(client: bool, b: &[u8]) -> Option<bool> {
    if !client {
        return Some(true);
    }
    let nl = memchr::memchr(b'\n', b)?;
    let line = trim(b.get(..nl).unwrap_or_default());
    Some(line.len() >= 8 && line.get(line.len() - 8..line.len() - 1) == Some(b"HTTP/1.".as_slice()))
}

/// Index just past the blank line ending a head, searching from `from`.
fn find_head_end(b: &[u8], from: usize) -> Option<usize> {
    let hay = b.get(from..)?;
    for p in memchr::memchr_iter(b'\n', hay) {
        let at = from.saturating_add(p);
        match (b.get(at + 1), b.get(at + 2)) {
            (Some(b'\n'), _) => return Some(at + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(at + 3),
            _ => {}
        }
    }
    None
}

fn map_httparse(e: httparse::Error, max: usize) -> HttpError {
    match e {
        httparse::Error::TooManyHeaders => HttpError::TooManyHeaders { max },
        e => HttpError::Head(e),
    }
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    let v = trim(v);
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

fn has_token(v: &[u8], token: &[u8]) -> bool {
    v.split(|&b| b == b',')
        .any(|t| trim(t).eq_ignore_ascii_case(token))
}

/// Reads the headers that drive framing and upgrades.
fn head_info(headers: &[httparse::Header<'_>], info: &mut HeadInfo) -> Option<HttpError> {
    let mut err = None;
    let mut codings = 0;
    for h in headers {
        let n = h.name.as_bytes();
        let v = h.value;
        // Dispatch on the name length first: most headers are none of these.
        let is = |name: &[u8]| n.eq_ignore_ascii_case(name);
        match n.len() {
            14 if is(b"content-length") => match parse_u64(v) {
                None => err = Some(HttpError::InvalidContentLength),
                Some(len) => match info.content_length {
                    Some(prev) if prev != len => err = Some(HttpError::ConflictingContentLength),
                    Some(_) => {}
                    None => info.content_length = Some(len),
                },
            },
            17 if is(b"transfer-encoding") => {
                let last = v
                    .split(|&b| b == b',')
                    .next_back()
                    .map(trim)
                    .unwrap_or_default();
                if last.eq_ignore_ascii_case(b"chunked") {
                    info.chunked = true;
                } else if !trim(v).eq_ignore_ascii_case(b"identity") {
                    info.other_te = true;
                }
            }
            16 if is(b"content-encoding") => {
                codings += 1;
                info.coding = Coding::from_header(v);
            }
            7 if is(b"upgrade") => {
                info.upgrade = true;
                info.upgrade_ws |= has_token(v, b"websocket");
            }
            17 if is(b"sec-websocket-key") => info.ws_key = Some(trim(v).into()),
            20 if is(b"sec-websocket-accept") => info.ws_accept = Some(trim(v).into()),
            24 if is(b"sec-websocket-extensions") && info.deflate.is_none() => {
                info.deflate = PerMessageDeflate::from_header(v);
            }
            _ => {}
        }
    }
    if codings > 1 {
        info.coding = None;
    }
    err
}

impl HttpSession {
    /// A session in its initial state: both directions will be checked for HTTP.
    pub fn new(config: HttpConfig) -> Self {
        HttpSession {
            cfg: config,
            dirs: Dirs {
                client: DirState::new(),
                server: DirState::new(),
            },
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
        let offset = self.dirs[0].offset;
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
        let other = &self.dirs[1 - idx(dir)];
        !self.swapped
            && !self.dirs[idx(dir)].confirmed
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
            let d = &mut self.dirs[idx(dir)];
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
        let i = idx(dir);
        let offset = self.dirs[i].offset;
        let state = std::mem::replace(&mut self.dirs[i].state, State::Dead);
        let next = match state {
            State::Dead => State::Dead,
            State::Detect { .. } if !self.dirs[i].confirmed && self.dirs[i].buf.is_empty() => {
                // Picked up mid-stream: look for a message start, with a budget.
                State::Resync { line_start: true }
            }
            State::Tunnel => State::Tunnel,
            State::WebSocket(mut ws) => {
                ws.gap(Pos { ts_ns, offset }, len, sink);
                State::WebSocket(ws)
            }
            State::Await { .. } => {
                self.dirs[i].buf.clear();
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
                    self.dirs[i].offset = offset.saturating_add(len);
                    self.dirs[i].state = State::Body(body);
                    if matches!(body_ref(&self.dirs[i].state), Some(Framing::Length(0))) {
                        self.finish_message(dir, ts_ns, true, sink);
                    }
                    return;
                }
                self.dirs[i].state = State::Body(body);
                self.finish_message(dir, ts_ns, false, sink);
                self.dirs[i].offset = offset.saturating_add(len);
                self.dirs[i].state = State::Resync { line_start: true };
                return;
            }
            State::Detect { .. } | State::Head | State::Resync { .. } => {
                self.dirs[i].buf.clear();
                State::Resync { line_start: true }
            }
        };
        if !matches!(next, State::Body(_) | State::WebSocket(_)) {
            error(dir, ts_ns, offset, HttpError::BytesLost { len }, sink);
        }
        self.dirs[i].state = next;
        self.dirs[i].offset = offset.saturating_add(len);
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

    /// Emits the record of a request that will get no response (the stream ended, or the
    /// pipeline cap pushed it out).
    fn close_unanswered(&mut self, p: Pending, ts_ns: i64, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let r = Responding {
            req: Some(p),
            status: 0,
            start_ns: 0,
            head_len: 0,
        };
        self.emit_record(r, None, ts_ns, false, sink);
    }

    fn end_one(&mut self, dir: Direction, ts_ns: i64, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let i = idx(dir);
        let offset = self.dirs[i].offset;
        let partial_head = !self.dirs[i].buf.is_empty();
        match &mut self.dirs[i].state {
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
            State::WebSocket(ws) => ws.end(Pos { ts_ns, offset }, sink),
            _ => {}
        }
        self.dirs[i].state = State::Dead;
        self.dirs[i].buf = Vec::new();
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
        let i = idx(dir);
        let offset = self.dirs[i].offset;
        match &mut self.dirs[i].state {
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
                ws.data(Pos { ts_ns, offset }, input, sink);
                input.len()
            }
            State::Await { .. } => {
                let d = &mut self.dirs[i];
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
                self.detect(dir, ts_ns, input, after_gap)
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
        let i = idx(dir);
        self.dirs[i].state = State::Dead;
        self.dirs[i].buf = Vec::new();
    }

    fn detect(&mut self, dir: Direction, ts_ns: i64, input: &[u8], after_gap: bool) -> usize {
        let client = dir == Direction::ClientToServer;
        let d = &mut self.dirs[idx(dir)];
        if d.buf.is_empty() && d.confirmed {
            let skip = input
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            if skip > 0 {
                return skip;
            }
        }
        let mut look = [0u8; DETECT_LOOKAHEAD];
        let have = d.buf.len().min(DETECT_LOOKAHEAD);
        let add = (DETECT_LOOKAHEAD - have).min(input.len());
        if let (Some(dst), Some(src)) = (look.get_mut(..have), d.buf.get(..have)) {
            dst.copy_from_slice(src);
        }
        if let (Some(dst), Some(src)) = (look.get_mut(have..have + add), input.get(..add)) {
            dst.copy_from_slice(src);
        }
        let look = look.get(..have + add).unwrap_or_default();
        let verdict = plausible_start(client, look);
        if verdict == Some(false) && !after_gap && self.can_swap(dir) {
            match plausible_start(!client, look) {
                Some(true) => {
                    // The reassembler's client sends responses (picked up mid-stream).
                    self.swapped = true;
                    self.swap_pending = true;
                    std::mem::swap(&mut self.dirs.client, &mut self.dirs.server);
                    return 0;
                }
                None if look.len() < DETECT_LOOKAHEAD => {
                    let d = &mut self.dirs[idx(dir)];
                    if d.buf.is_empty() {
                        d.msg_start = (ts_ns, d.offset);
                    }
                    d.buf.extend_from_slice(input);
                    return input.len();
                }
                _ => {}
            }
        }
        let d = &mut self.dirs[idx(dir)];
        match verdict {
            Some(true) => {
                if d.buf.is_empty() {
                    d.msg_start = (ts_ns, d.offset);
                }
                d.state = State::Head;
                0
            }
            None if have + add < DETECT_LOOKAHEAD => {
                if d.buf.is_empty() {
                    d.msg_start = (ts_ns, d.offset);
                }
                d.buf.extend_from_slice(input);
                input.len()
            }
            _ if after_gap => {
                d.buf.clear();
                d.state = State::Resync { line_start: false };
                0
            }
            _ => {
                self.give_up(dir);
                0
            }
        }
    }

    fn resync(&mut self, dir: Direction, ts_ns: i64, input: &[u8], line_start: bool) -> usize {
        let client = dir == Direction::ClientToServer;
        let budget = self.cfg.resync_budget;
        let d = &mut self.dirs[idx(dir)];
        let mut at = 0usize;
        let mut at_line_start = line_start;
        loop {
            if at_line_start {
                let rest = input.get(at..).unwrap_or_default();
                let skip = rest
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                at = at.saturating_add(skip);
                let rest = input.get(at..).unwrap_or_default();
                if rest.is_empty() {
                    d.state = State::Resync { line_start: true };
                    break;
                }
                match plausible_start(client, rest) {
                    Some(true) => {
                        d.state = State::Detect { after_gap: true };
                        return at;
                    }
                    None => {
                        d.state = State::Detect { after_gap: true };
                        return at;
                    }
                    Some(false) => {}
                }
            }
            match memchr::memchr(b'\n', input.get(at..).unwrap_or_default()) {
                Some(p) => {
                    at = at.saturating_add(p).saturating_add(1);
                    at_line_start = true;
                }
                None => {
                    at = input.len();
                    d.state = State::Resync { line_start: false };
                    break;
                }
            }
        }
        if !d.confirmed {
            d.resync_scanned = d.resync_scanned.saturating_add(at);
            if d.resync_scanned > budget {
                self.give_up(dir);
            }
        }
        let _ = ts_ns;
        input.len()
    }

    fn head(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        input: &[u8],
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) -> usize {
        let client = dir == Direction::ClientToServer;
        let max = self.cfg.max_head_bytes;
        let i = idx(dir);
        let d = &mut self.dirs[i];
        if d.buf.is_empty() {
            let skip = input
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            if skip > 0 {
                return skip;
            }
            d.msg_start = (ts_ns, d.offset);
            if !d.confirmed {
                match first_line_ok(client, input) {
                    Some(false) => {
                        self.give_up(dir);
                        return 0;
                    }
                    // A request line ending in HTTP/1.x: HTTP, even if httparse rejects it.
                    Some(true) => d.confirmed = true,
                    None => {}
                }
            }
            // Fast path: the whole head is in this chunk; parse it in place, no copy.
            let window = input.get(..max).unwrap_or(input);
            if let Some(end) = self.parse_head(dir, ts_ns, window, false, sink) {
                return end;
            }
            if input.len() > max {
                self.head_too_large(dir, ts_ns, sink);
                return 0;
            }
            self.dirs[i].buf.extend_from_slice(input);
            return input.len();
        }
        let old = d.buf.len();
        let take = input.len().min(max.saturating_add(1).saturating_sub(old));
        d.buf
            .extend_from_slice(input.get(..take).unwrap_or_default());
        if !d.confirmed {
            match first_line_ok(client, &d.buf) {
                Some(false) => {
                    self.give_up(dir);
                    return 0;
                }
                Some(true) => d.confirmed = true,
                None => {}
            }
        }
        match find_head_end(&d.buf, old.saturating_sub(3)) {
            Some(end) if end <= max => {
                let buf = std::mem::take(&mut d.buf);
                self.parse_head(dir, ts_ns, buf.get(..end).unwrap_or_default(), true, sink);
                let mut buf = buf;
                buf.clear();
                if self.dirs[i].buf.is_empty() {
                    self.dirs[i].buf = buf;
                }
                end.saturating_sub(old)
            }
            _ if d.buf.len() > max => {
                d.buf.clear();
                self.head_too_large(dir, ts_ns, sink);
                take
            }
            _ => take,
        }
    }

    fn head_too_large(&mut self, dir: Direction, ts_ns: i64, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let i = idx(dir);
        if !self.dirs[i].confirmed {
            self.give_up(dir);
            return;
        }
        let max = self.cfg.max_head_bytes;
        error(
            dir,
            ts_ns,
            self.dirs[i].msg_start.1,
            HttpError::HeadTooLarge { max },
            sink,
        );
        self.dirs[i].buf.clear();
        self.dirs[i].state = State::Resync { line_start: false };
    }

    /// Parses the head at the start of `head`, emits it and sets up framing; returns its
    /// length. `None` (nothing emitted) when the head is not complete yet, unless `whole`
    /// says `head` ends with the blank line, in which case a partial parse is an error.
    fn parse_head(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        head: &[u8],
        whole: bool,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) -> Option<usize> {
        let i = idx(dir);
        let (start_ns, start_off) = self.dirs[i].msg_start;
        let max_h = self.cfg.max_headers.min(MAX_HEADERS);
        // Uninitialised storage: no 3 KiB memset per head (httparse writes before reading).
        let mut storage =
            [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let headers = storage.get_mut(..max_h).unwrap_or_default();
        let mut info = HeadInfo::default();
        let mut pc = httparse::ParserConfig::default();
        pc.allow_multiple_spaces_in_request_line_delimiters(true)
            .allow_multiple_spaces_in_response_status_delimiters(true)
            .allow_spaces_after_header_name_in_responses(true)
            .allow_obsolete_multiline_headers_in_responses(true)
            .ignore_invalid_headers_in_responses(true)
            .ignore_invalid_headers_in_requests(true);
        let result = if dir == Direction::ClientToServer {
            let mut req = httparse::Request::new(&mut []);
            match pc.parse_request_with_uninit_headers(&mut req, head, headers) {
                Ok(httparse::Status::Complete(n)) => {
                    info.len = n;
                    info.version = req.version.unwrap_or(1);
                    let method = req.method.unwrap_or_default();
                    info.method = Some(match method {
                        "HEAD" => Method::Head,
                        "CONNECT" => Method::Connect,
                        _ => Method::Other,
                    });
                    let e = head_info(req.headers, &mut info);
                    sink(HttpEvent::Request(RequestHead {
                        index: self.next_index,
                        ts_ns: start_ns,
                        offset: start_off,
                        method,
                        uri: req.path.unwrap_or_default(),
                        version: info.version,
                        headers: Headers::new(req.headers),
                        head_len: n,
                    }));
                    Ok(e)
                }
                Ok(httparse::Status::Partial) if !whole => return None,
                Ok(httparse::Status::Partial) => Err(HttpError::Head(httparse::Error::NewLine)),
                Err(e) => Err(map_httparse(e, max_h)),
            }
        } else {
            let mut resp = httparse::Response::new(&mut []);
            match pc.parse_response_with_uninit_headers(&mut resp, head, headers) {
                Ok(httparse::Status::Complete(n)) => {
                    info.len = n;
                    info.version = resp.version.unwrap_or(1);
                    info.status = resp.code.unwrap_or_default();
                    let e = head_info(resp.headers, &mut info);
                    sink(HttpEvent::Response(ResponseHead {
                        ts_ns: start_ns,
                        offset: start_off,
                        version: info.version,
                        status: info.status,
                        reason: resp.reason.unwrap_or_default(),
                        headers: Headers::new(resp.headers),
                        head_len: n,
                        interim: (100..200).contains(&info.status) && info.status != 101,
                    }));
                    Ok(e)
                }
                Ok(httparse::Status::Partial) if !whole => return None,
                Ok(httparse::Status::Partial) => Err(HttpError::Head(httparse::Error::NewLine)),
                Err(e) => Err(map_httparse(e, max_h)),
            }
        };
        match result {
            Ok(framing_error) => {
                let len = info.len;
                self.dirs[i].confirmed = true;
                if let Some(e) = framing_error {
                    error(dir, ts_ns, start_off, e, sink);
                }
                if dir == Direction::ClientToServer {
                    self.request_head(ts_ns, info, sink);
                } else {
                    self.response_head(ts_ns, info, sink);
                }
                Some(len)
            }
            Err(e) => {
                // Skip the bad head (or at least its first line), then look for the next one.
                let skip = find_head_end(head, 0)
                    .or_else(|| memchr::memchr(b'\n', head).map(|p| p.saturating_add(1)))
                    .unwrap_or(head.len());
                if !self.dirs[i].confirmed {
                    self.give_up(dir);
                    return Some(skip);
                }
                error(dir, ts_ns, start_off, e, sink);
                self.dirs[i].state = State::Resync { line_start: true };
                Some(skip)
            }
        }
    }

    fn new_body(&self, framing: Framing, coding: Option<Coding>) -> Body {
        let decoder = coding
            .filter(|_| self.cfg.decode_content)
            .map(|c| Box::new(ContentDecoder::new(c, self.cfg.max_decoded_body)));
        Body {
            framing,
            len: 0,
            wire: 0,
            decoded_len: decoder.as_ref().map(|_| 0),
            decoder,
            decoded_truncated: false,
        }
    }

    fn request_head(&mut self, ts_ns: i64, info: HeadInfo, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let i = idx(Direction::ClientToServer);
        let (start_ns, start_off) = self.dirs[i].msg_start;
        if self.pending.len() >= self.cfg.max_pending_requests {
            // Reported once per session (a request-only capture would repeat it forever);
            // the oldest request is closed as a transaction without a response.
            if !std::mem::replace(&mut self.pipeline_overflowed, true) {
                let max = self.cfg.max_pending_requests;
                error(
                    Direction::ClientToServer,
                    ts_ns,
                    start_off,
                    HttpError::TooManyPendingRequests { max },
                    sink,
                );
            }
            if let Some(p) = self.pending.pop_front() {
                self.close_unanswered(p, ts_ns, sink);
            }
        }
        let method = info.method.unwrap_or(Method::Other);
        push_waiting(
            &mut self.pending,
            Pending {
                index: self.next_index,
                method,
                start_ns,
                end_ns: None,
                head_len: info.len as u64,
                body_len: 0,
                wire_len: 0,
                decoded_len: None,
                complete: false,
                upgrade: info.upgrade || method == Method::Connect,
                ws_key: info.ws_key,
                first_response_ns: None,
            },
        );
        self.next_index = self.next_index.saturating_add(1);
        let framing = if info.chunked {
            Some(Framing::Chunked(Box::new(Chunked::new())))
        } else {
            match info.content_length {
                Some(n) if n > 0 => Some(Framing::Length(n)),
                _ => None,
            }
        };
        let done = framing.is_none();
        self.dirs[i].state =
            State::Body(self.new_body(framing.unwrap_or(Framing::Length(0)), info.coding));
        if done {
            self.finish_message(Direction::ClientToServer, ts_ns, true, sink);
        }
    }

    fn response_head(&mut self, ts_ns: i64, info: HeadInfo, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let s = idx(Direction::ServerToClient);
        let (start_ns, _) = self.dirs[s].msg_start;
        let status = info.status;
        if (100..200).contains(&status) && status != 101 {
            if let Some(p) = self.pending.front_mut() {
                p.first_response_ns.get_or_insert(start_ns);
            }
            self.dirs[s].state = State::Head;
            return;
        }
        let req = self.pending.pop_front();
        let method = req.as_ref().map_or(Method::Other, |r| r.method);
        let req_upgrade = req.as_ref().is_some_and(|r| r.upgrade);
        let ws_key = req.as_ref().and_then(|r| r.ws_key.clone());
        self.responding = Some(Responding {
            start_ns: req
                .as_ref()
                .and_then(|r| r.first_response_ns)
                .unwrap_or(start_ns),
            req,
            status,
            head_len: info.len as u64,
        });
        if status == 101 && (req_upgrade || info.upgrade) {
            self.dirs[s].state = State::Body(self.new_body(Framing::Length(0), None));
            self.finish_message(Direction::ServerToClient, ts_ns, true, sink);
            if info.upgrade_ws {
                let accept_valid = match (&ws_key, &info.ws_accept) {
                    (Some(k), Some(a)) => Some(websocket::accept_key(k).as_bytes() == &**a),
                    (Some(_), None) => Some(false),
                    _ => None,
                };
                if accept_valid == Some(false) {
                    error(
                        Direction::ServerToClient,
                        ts_ns,
                        self.dirs[s].msg_start.1,
                        HttpError::AcceptMismatch,
                        sink,
                    );
                }
                sink(HttpEvent::WsUpgrade(WsHandshake {
                    ts_ns,
                    accept_valid,
                    permessage_deflate: info.deflate,
                }));
                for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                    let ws = WsDecoder::new(
                        dir,
                        info.deflate,
                        self.cfg.ws_max_frame,
                        self.cfg.ws_max_message,
                    );
                    self.switch(dir, State::WebSocket(Box::new(ws)), ts_ns, sink);
                }
            } else {
                self.switch(Direction::ClientToServer, State::Tunnel, ts_ns, sink);
                self.switch(Direction::ServerToClient, State::Tunnel, ts_ns, sink);
            }
            return;
        }
        if method == Method::Connect && (200..300).contains(&status) {
            self.dirs[s].state = State::Body(self.new_body(Framing::Length(0), None));
            self.finish_message(Direction::ServerToClient, ts_ns, true, sink);
            self.switch(Direction::ClientToServer, State::Tunnel, ts_ns, sink);
            self.switch(Direction::ServerToClient, State::Tunnel, ts_ns, sink);
            return;
        }
        let bodyless = method == Method::Head || status == 204 || status == 304 || status < 200;
        let framing = if bodyless {
            Framing::Length(0)
        } else if info.chunked {
            Framing::Chunked(Box::new(Chunked::new()))
        } else if let (Some(n), false) = (info.content_length, info.other_te) {
            Framing::Length(n)
        } else {
            Framing::Close
        };
        let done = matches!(framing, Framing::Length(0));
        self.dirs[s].state = State::Body(self.new_body(framing, info.coding));
        if done {
            self.finish_message(Direction::ServerToClient, ts_ns, true, sink);
        }
    }

    /// Moves `dir` to `state`; held client bytes are replayed into it.
    fn switch(
        &mut self,
        dir: Direction,
        state: State,
        ts_ns: i64,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let i = idx(dir);
        let lost = match self.dirs[i].state {
            State::Dead => return,
            State::Await { lost } => lost,
            _ => false,
        };
        self.dirs[i].state = if lost { State::Dead } else { state };
        self.replay(dir, ts_ns, sink);
    }

    /// Feeds the bytes held in `buf` (while awaiting an upgrade answer) to the current state.
    fn replay(&mut self, dir: Direction, ts_ns: i64, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let i = idx(dir);
        let held = std::mem::take(&mut self.dirs[i].buf);
        if held.is_empty() {
            return;
        }
        let d = &mut self.dirs[i];
        d.offset = d.offset.saturating_sub(held.len() as u64);
        self.feed(dir, ts_ns, &held, sink);
    }

    fn body(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        input: &[u8],
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) -> usize {
        let i = idx(dir);
        let max_line = self.cfg.max_head_bytes;
        let offset = self.dirs[i].offset;
        let State::Body(body) = &mut self.dirs[i].state else {
            return 0;
        };
        let (used, data, end, err) = match &mut body.framing {
            Framing::Length(rem) => {
                let n = usize::try_from(*rem).unwrap_or(usize::MAX).min(input.len());
                *rem -= n as u64;
                (n, n, *rem == 0, None)
            }
            Framing::Close => (input.len(), input.len(), false, None),
            Framing::Chunked(c) => match c.step(input, max_line) {
                (n, chunked::Out::Data) => (n, n, false, None),
                (n, chunked::Out::Nothing) => (n, 0, false, None),
                (n, chunked::Out::End) => {
                    let trailer = c.trailer();
                    if !trailer.is_empty() {
                        let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
                        match httparse::parse_headers(trailer, &mut storage) {
                            Ok(httparse::Status::Complete((_, hs))) => sink(HttpEvent::Trailers {
                                dir,
                                ts_ns,
                                headers: Headers::new(hs),
                            }),
                            Ok(httparse::Status::Partial) => {}
                            Err(e) => error(dir, ts_ns, offset, HttpError::Trailer(e), sink),
                        }
                    }
                    (n, 0, true, None)
                }
                (n, chunked::Out::Error(e)) => (n, 0, false, Some(e)),
            },
        };
        body.wire = body.wire.saturating_add(used as u64);
        if data > 0 {
            emit_body(
                dir,
                ts_ns,
                offset,
                input.get(..data).unwrap_or_default(),
                body,
                sink,
            );
        }
        if let Some(e) = err {
            error(dir, ts_ns, offset, e, sink);
            self.finish_message(dir, ts_ns, false, sink);
            self.dirs[i].state = State::Resync { line_start: false };
        } else if end {
            self.finish_message(dir, ts_ns, true, sink);
        }
        used
    }

    /// Ends the current message of `dir` (its body state), emitting completion events and,
    /// for responses, the transaction record.
    fn finish_message(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        complete: bool,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let i = idx(dir);
        let offset = self.dirs[i].offset;
        let State::Body(mut body) = std::mem::replace(&mut self.dirs[i].state, State::Head) else {
            return;
        };
        if let Some(mut dec) = body.decoder.take() {
            let r = dec.finish();
            drain(dir, ts_ns, &mut dec, sink);
            body.decoded_len = Some(dec.total());
            if let Err(stop) = r {
                body.decoded_truncated = true;
                report_stop(
                    dir,
                    ts_ns,
                    offset,
                    stop,
                    &dec,
                    self.cfg.max_decoded_body,
                    sink,
                );
            }
        }
        let mc = MessageComplete {
            dir,
            ts_ns,
            body_len: body.len,
            wire_len: body.wire,
            decoded_len: body.decoded_len,
            decoded_truncated: body.decoded_truncated,
            complete,
        };
        sink(HttpEvent::MessageComplete(mc));
        if dir == Direction::ClientToServer {
            let waiting = self.pending.back_mut().filter(|p| p.end_ns.is_none());
            let mut upgrade = false;
            if let Some(p) = waiting {
                p.end_ns = Some(ts_ns);
                p.body_len = body.len;
                p.wire_len = body.wire;
                p.decoded_len = body.decoded_len;
                p.complete = complete;
                upgrade = p.upgrade;
            } else if let Some(p) = self
                .responding
                .as_mut()
                .and_then(|r| r.req.as_mut())
                .filter(|p| p.end_ns.is_none())
            {
                p.end_ns = Some(ts_ns);
                p.body_len = body.len;
                p.wire_len = body.wire;
                p.decoded_len = body.decoded_len;
                p.complete = complete;
            }
            if upgrade {
                self.dirs[i].state = State::Await { lost: false };
            }
        } else if let Some(r) = self.responding.take() {
            self.emit_record(r, Some(mc), ts_ns, complete, sink);
            // An Upgrade/CONNECT that was refused: held client bytes are HTTP again.
            let c = idx(Direction::ClientToServer);
            if matches!(self.dirs[c].state, State::Await { .. }) && self.pending.is_empty() {
                self.switch(Direction::ClientToServer, State::Head, ts_ns, sink);
            }
        }
    }

    fn emit_record(
        &mut self,
        r: Responding,
        resp: Option<MessageComplete>,
        ts_ns: i64,
        complete: bool,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let index = match &r.req {
            Some(p) => p.index,
            None => {
                let n = self.next_index;
                self.next_index = n.saturating_add(1);
                n
            }
        };
        let rec = TransactionRecord {
            index,
            request_start_ns: r.req.as_ref().map(|p| p.start_ns),
            request_end_ns: r.req.as_ref().and_then(|p| p.end_ns),
            response_start_ns: resp
                .map(|_| r.start_ns)
                .or(r.req.as_ref().and_then(|p| p.first_response_ns)),
            response_end_ns: resp.map(|_| ts_ns),
            status: resp.map(|_| r.status),
            request_head_len: r.req.as_ref().map_or(0, |p| p.head_len),
            request_body_len: r.req.as_ref().map_or(0, |p| p.body_len),
            request_wire_len: r.req.as_ref().map_or(0, |p| p.wire_len),
            request_decoded_len: r.req.as_ref().and_then(|p| p.decoded_len),
            response_head_len: r.head_len,
            response_body_len: resp.map_or(0, |m| m.body_len),
            response_wire_len: resp.map_or(0, |m| m.wire_len),
            response_decoded_len: resp.and_then(|m| m.decoded_len),
            request_complete: r.req.as_ref().is_some_and(|p| p.complete),
            response_complete: complete && resp.is_some(),
            complete: complete && r.req.as_ref().is_some_and(|p| p.complete),
        };
        sink(HttpEvent::Transaction(rec));
    }
}

fn body_ref(s: &State) -> Option<&Framing> {
    match s {
        State::Body(b) => Some(&b.framing),
        _ => None,
    }
}

fn drain(
    dir: Direction,
    ts_ns: i64,
    dec: &mut ContentDecoder,
    sink: &mut impl FnMut(HttpEvent<'_>),
) {
    if let Some(out) = dec.output() {
        if !out.is_empty() {
            sink(HttpEvent::Body {
                dir,
                ts_ns,
                data: out,
                decoded: true,
            });
            out.clear();
        }
    }
}

fn report_stop(
    dir: Direction,
    ts_ns: i64,
    offset: u64,
    stop: Stop,
    dec: &ContentDecoder,
    max: u64,
    sink: &mut impl FnMut(HttpEvent<'_>),
) {
    let e = match stop {
        Stop::Cap => HttpError::DecodedBodyTooLarge { max },
        Stop::Corrupt => HttpError::ContentDecode {
            encoding: dec.coding().name(),
        },
    };
    error(dir, ts_ns, offset, e, sink);
}

/// Reports transfer-decoded body bytes and, when decoding, their decoded form.
fn emit_body(
    dir: Direction,
    ts_ns: i64,
    offset: u64,
    data: &[u8],
    body: &mut Body,
    sink: &mut impl FnMut(HttpEvent<'_>),
) {
    body.len = body.len.saturating_add(data.len() as u64);
    sink(HttpEvent::Body {
        dir,
        ts_ns,
        data,
        decoded: false,
    });
    if let Some(dec) = body.decoder.as_mut() {
        let r = dec.feed(data);
        drain(dir, ts_ns, dec, sink);
        body.decoded_len = Some(dec.total());
        if let Err(stop) = r {
            let max = match stop {
                Stop::Cap => dec.total(),
                Stop::Corrupt => 0,
            };
            report_stop(dir, ts_ns, offset, stop, dec, max, sink);
            body.decoded_truncated = true;
            body.decoder = None;
        }
    }
}
