//! One connection: frames of both directions in, each stream's exchange out.

use std::collections::HashMap;

use pcap_http_ws::{
    Coding, ContentDecoder, HTTP2, Headers, HttpEvent, MessageComplete, PerMessageDeflate,
    RequestHead, ResponseHead, Stop, WsHandshake,
};
use pcap_tcp_reassembly::{Direction, PerDir};

use crate::config::H2Config;
use crate::error::H2Error;
use crate::event::{EndReason, GrpcMessage, GrpcStatus, H2Event};
use crate::frame::{
    DEFAULT_MAX_FRAME_SIZE, Frame, FrameHeader, FrameType, HEADER_LEN, MAX_FRAME_SIZE_LIMIT, flags,
    setting,
};
use crate::grpc;
use crate::hpack::{Decoder, HeaderList};
use crate::stream::{Half, Stream, WsTunnel};

/// The client connection preface (RFC 9113 section 3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Where a direction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Matching the client preface: this many bytes matched.
    Preface(usize),
    /// Frame by frame.
    Frames,
    /// Looking for a frame boundary (after lost bytes or a mid-stream start).
    Resync,
    /// Not decoded any further.
    Dead,
}

/// A header block waiting for its CONTINUATIONs.
#[derive(Debug)]
struct Block {
    stream: u32,
    promised: Option<u32>,
    end_stream: bool,
    offset: u64,
    bytes: Vec<u8>,
}

/// One direction's decoding state.
#[derive(Debug)]
struct Dir {
    phase: Phase,
    /// A frame split across chunks, or bytes scanned for a frame boundary.
    buf: Vec<u8>,
    /// Bytes of an oversized frame still to skip.
    skip: u64,
    /// Stream offset of the next byte fed.
    offset: u64,
    /// Decodes the header blocks this direction sends.
    hpack: Decoder,
    /// A header block failed: the table is out of step, later blocks are not decoded.
    hpack_broken: bool,
    /// SETTINGS_MAX_FRAME_SIZE the receiver announced (for resynchronisation, and to
    /// report larger frames).
    max_frame: u32,
    /// `max_frame` is known: the connection was seen from its start, or the receiver's
    /// SETTINGS named it (mid-stream, or after an h2c upgrade whose `HTTP2-Settings`
    /// header is not read, it may have been raised before).
    max_frame_known: bool,
    block: Option<Block>,
}

impl Dir {
    fn new(phase: Phase, hpack: Decoder) -> Self {
        Dir {
            phase,
            buf: Vec::new(),
            skip: 0,
            offset: 0,
            hpack,
            hpack_broken: false,
            max_frame: DEFAULT_MAX_FRAME_SIZE,
            max_frame_known: true,
            block: None,
        }
    }

    fn memory(&self) -> usize {
        self.buf.capacity()
            + self.hpack.memory()
            + self.block.as_ref().map_or(0, |b| b.bytes.capacity())
    }
}

type Streams = HashMap<u32, Stream, foldhash::fast::RandomState>;

/// Incremental decoder of one HTTP/2 connection (h2, or h2c), fed each direction's
/// in-order bytes as [`pcap_http_ws::HttpSession`] is.
///
/// Each stream's request and response are reported as the events an HTTP/1.x
/// transaction produces ([`H2Event::Http`]), in completion order, with what HTTP/2 and
/// gRPC have of their own alongside. Streams interleave; their bodies never mix.
#[derive(Debug)]
pub struct H2Session {
    cfg: H2Config,
    dirs: PerDir<Dir>,
    streams: Streams,
    next_index: u64,
    /// The decoded fields of the block being reported (reused).
    list: HeaderList,
    /// Decompressed gRPC messages (reused).
    scratch: Vec<u8>,
    /// The preface or a resynchronised frame showed the connection to be HTTP/2.
    confirmed: bool,
    /// The client did not send the preface: not HTTP/2.
    failed: bool,
    /// Highest stream opened by the client (odd) and by the server (even): a frame for a
    /// lower stream that is not open is for a closed one (e.g. a response still in flight
    /// after RST_STREAM) and opens nothing.
    highest: [u32; 2],
    /// Started mid-stream or lost bytes: streams opened before may appear in any order.
    unordered: bool,
    /// The server sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441).
    connect_protocol: bool,
}

/// The direction's half of a stream.
fn half(s: &mut Stream, dir: Direction) -> &mut Half {
    match dir {
        Direction::ClientToServer => &mut s.request,
        Direction::ServerToClient => &mut s.response,
    }
}

fn text(v: &[u8]) -> &str {
    std::str::from_utf8(v).unwrap_or("")
}

impl H2Session {
    /// A connection from its start, with prior knowledge: the client sends the preface.
    pub fn new(cfg: H2Config) -> Self {
        let cap = cfg.max_table_size;
        H2Session {
            dirs: PerDir::new(
                Dir::new(Phase::Preface(0), Decoder::new(cap)),
                Dir::new(Phase::Frames, Decoder::new(cap)),
            ),
            cfg,
            streams: Streams::default(),
            next_index: 0,
            list: HeaderList::new(),
            scratch: Vec::new(),
            confirmed: false,
            failed: false,
            highest: [0; 2],
            unordered: false,
            connect_protocol: false,
        }
    }

    /// A connection upgraded from HTTP/1.1 (`Upgrade: h2c`, `101`), fed the bytes after
    /// the 101 and after the upgraded request: the client still sends the preface, and
    /// stream 1 carries the response to the HTTP/1.1 request (its request is not
    /// reported again here: it was the HTTP/1.1 one).
    pub fn upgraded(cfg: H2Config) -> Self {
        let mut s = H2Session::new(cfg);
        let mut one = Stream {
            index: 0,
            ..Stream::default()
        };
        one.request.done = true;
        s.streams.insert(1, one);
        s.next_index = 1;
        s.highest[1] = 1;
        // The client's settings came in the HTTP/1.1 request's HTTP2-Settings header.
        s.dirs[Direction::ServerToClient].max_frame_known = false;
        s
    }

    /// Reports `head`, the HTTP/1.1 request that asked for the h2c upgrade, as stream 1's
    /// request (RFC 7540 section 3.2: the response comes on stream 1), so stream 1's record
    /// has both sides. Call once, right after [`H2Session::upgraded`]; `head.version` stays
    /// the HTTP/1.1 one it was sent with.
    pub fn upgraded_request(
        &mut self,
        head: &RequestHead<'_>,
        ts_ns: i64,
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        let Some(s) = self.streams.get_mut(&1) else {
            return;
        };
        if s.request.head {
            return;
        }
        s.request.head = true;
        s.record.request_start_ns = Some(head.ts_ns);
        s.record.request_end_ns = Some(ts_ns);
        s.record.request_head_len = head.head_len as u64;
        s.record.request_complete = true;
        let mut h = *head;
        h.index = s.index;
        sink(H2Event::Http {
            stream: 1,
            event: HttpEvent::Request(h),
        });
        sink(H2Event::Http {
            stream: 1,
            event: HttpEvent::MessageComplete(MessageComplete::new(
                Direction::ClientToServer,
                ts_ns,
                0,
                0,
            )),
        });
    }

    /// A connection picked up mid-stream: both directions look for a frame boundary, and
    /// HPACK references to entries from before the capture are shown as `?`.
    pub fn midstream(cfg: H2Config) -> Self {
        let mut s = H2Session::new(cfg);
        let cap = s.cfg.max_table_size;
        s.dirs = PerDir::new(
            Dir::new(Phase::Resync, Decoder::midstream(cap)),
            Dir::new(Phase::Resync, Decoder::midstream(cap)),
        );
        for dir in Direction::BOTH {
            s.dirs[dir].max_frame_known = false;
        }
        s.unordered = true;
        s
    }

    /// True once the client preface (or, mid-stream, a chain of valid frames) was seen.
    pub fn is_h2(&self) -> bool {
        self.confirmed
    }

    /// False once the session is known not to be HTTP/2 (no preface).
    pub fn is_active(&self) -> bool {
        !self.failed
    }

    /// Streams open.
    pub fn open_streams(&self) -> usize {
        self.streams.len()
    }

    /// Bytes held, approximately, for memory budgets.
    pub fn memory(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.dirs.iter().map(|d| d.memory()).sum::<usize>()
            + self.streams.values().map(Stream::memory).sum::<usize>()
            + self.list.bytes()
            + self.scratch.capacity()
    }

    /// The next in-order bytes of direction `dir`.
    pub fn data(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        mut bytes: &[u8],
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        loop {
            let d = &mut self.dirs[dir];
            match d.phase {
                Phase::Dead => {
                    d.offset = d.offset.saturating_add(bytes.len() as u64);
                    return;
                }
                Phase::Preface(n) => {
                    let want = PREFACE.get(n..).unwrap_or_default();
                    let take = want.len().min(bytes.len());
                    if bytes.get(..take) != want.get(..take) {
                        d.phase = Phase::Dead;
                        self.failed = !self.confirmed;
                        let offset = d.offset;
                        sink(H2Event::Error {
                            dir,
                            ts_ns,
                            offset,
                            error: H2Error::NoPreface,
                        });
                        return;
                    }
                    d.offset = d.offset.saturating_add(take as u64);
                    bytes = bytes.get(take..).unwrap_or_default();
                    if n.saturating_add(take) == PREFACE.len() {
                        d.phase = Phase::Frames;
                        self.confirmed = true;
                    } else {
                        d.phase = Phase::Preface(n.saturating_add(take));
                    }
                    if bytes.is_empty() {
                        return;
                    }
                }
                Phase::Resync => {
                    self.resync(dir, ts_ns, bytes, sink);
                    return;
                }
                Phase::Frames => {
                    self.frames(dir, ts_ns, bytes, sink);
                    return;
                }
            }
        }
    }

    /// Scans for a frame header that is plausible and followed by another plausible one.
    fn resync(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        bytes: &[u8],
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        let budget = self.cfg.resync_budget;
        let d = &mut self.dirs[dir];
        let room = budget.saturating_sub(d.buf.len());
        let take = room.min(bytes.len());
        d.buf
            .extend_from_slice(bytes.get(..take).unwrap_or_default());
        d.offset = d.offset.saturating_add(bytes.len() as u64);
        let max = d
            .max_frame
            .clamp(DEFAULT_MAX_FRAME_SIZE, MAX_FRAME_SIZE_LIMIT);
        let mut found = None;
        for p in 0..d.buf.len() {
            let Some(h) = d.buf.get(p..).and_then(FrameHeader::parse) else {
                break;
            };
            if !h.plausible(max) {
                continue;
            }
            let next = p.saturating_add(HEADER_LEN).saturating_add(h.len as usize);
            match d.buf.get(next..).and_then(FrameHeader::parse) {
                Some(n) if n.plausible(max) => {
                    found = Some(p);
                    break;
                }
                Some(_) => {}
                // The next header is not here yet: wait for it rather than guess.
                None => break,
            }
        }
        let Some(p) = found else {
            if d.buf.len() >= budget {
                let scanned = d.buf.len();
                d.phase = Phase::Dead;
                self.failed = !self.confirmed;
                d.buf = Vec::new();
                let offset = d.offset;
                sink(H2Event::Error {
                    dir,
                    ts_ns,
                    offset,
                    error: H2Error::NoResync { scanned },
                });
            } else if take < bytes.len() {
                // Bytes beyond the budget were not kept: the scan window is no longer
                // contiguous with what follows.
                d.phase = Phase::Dead;
                self.failed = !self.confirmed;
            }
            return;
        };
        // Lost bytes past the budget cannot be re-scanned: the window must hold them all.
        let pending = std::mem::take(&mut d.buf);
        let held = pending.len() as u64;
        d.offset = d.offset.saturating_sub(held).saturating_add(p as u64);
        d.phase = Phase::Frames;
        self.confirmed = true;
        sink(H2Event::Resync {
            dir,
            ts_ns,
            skipped: p,
        });
        self.frames(dir, ts_ns, pending.get(p..).unwrap_or_default(), sink);
    }

    /// Frames of a direction in the `Frames` phase; an incomplete last frame is buffered.
    fn frames(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        mut input: &[u8],
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        let cap = self.cfg.max_frame.min(MAX_FRAME_SIZE_LIMIT);
        {
            let d = &mut self.dirs[dir];
            if d.skip > 0 {
                let n = usize::try_from(d.skip)
                    .unwrap_or(usize::MAX)
                    .min(input.len());
                d.skip -= n as u64;
                d.offset = d.offset.saturating_add(n as u64);
                input = input.get(n..).unwrap_or_default();
            }
        }
        if !self.dirs[dir].buf.is_empty() {
            let d = &mut self.dirs[dir];
            if d.buf.len() < HEADER_LEN {
                let take = (HEADER_LEN - d.buf.len()).min(input.len());
                d.buf
                    .extend_from_slice(input.get(..take).unwrap_or_default());
                d.offset = d.offset.saturating_add(take as u64);
                input = input.get(take..).unwrap_or_default();
            }
            let Some(h) = FrameHeader::parse(&d.buf) else {
                return;
            };
            if h.len > cap {
                let offset = d.offset.saturating_sub(d.buf.len() as u64);
                d.skip = u64::from(h.len);
                d.buf.clear();
                sink(too_large(dir, ts_ns, offset, h, cap));
                return self.frames(dir, ts_ns, input, sink);
            }
            let total = HEADER_LEN.saturating_add(h.len as usize);
            let take = total.saturating_sub(d.buf.len()).min(input.len());
            d.buf
                .extend_from_slice(input.get(..take).unwrap_or_default());
            d.offset = d.offset.saturating_add(take as u64);
            input = input.get(take..).unwrap_or_default();
            if d.buf.len() < total {
                return;
            }
            let offset = d.offset.saturating_sub(total as u64);
            let mut buf = std::mem::take(&mut d.buf);
            self.frame(
                dir,
                ts_ns,
                offset,
                h,
                buf.get(HEADER_LEN..).unwrap_or_default(),
                sink,
            );
            buf.clear();
            if buf.capacity() <= 64 * 1024 {
                self.dirs[dir].buf = buf;
            }
        }
        while !input.is_empty() {
            let d = &mut self.dirs[dir];
            if d.phase != Phase::Frames {
                return self.data(dir, ts_ns, input, sink);
            }
            let Some(h) = FrameHeader::parse(input) else {
                d.buf.extend_from_slice(input);
                d.offset = d.offset.saturating_add(input.len() as u64);
                return;
            };
            let offset = d.offset;
            if h.len > cap {
                sink(too_large(dir, ts_ns, offset, h, cap));
                let d = &mut self.dirs[dir];
                d.skip = u64::from(h.len);
                d.offset = d.offset.saturating_add(HEADER_LEN as u64);
                return self.frames(
                    dir,
                    ts_ns,
                    input.get(HEADER_LEN..).unwrap_or_default(),
                    sink,
                );
            }
            let total = HEADER_LEN.saturating_add(h.len as usize);
            let Some(frame) = input.get(..total) else {
                d.buf.extend_from_slice(input);
                d.offset = d.offset.saturating_add(input.len() as u64);
                return;
            };
            d.offset = d.offset.saturating_add(total as u64);
            input = input.get(total..).unwrap_or_default();
            self.frame(
                dir,
                ts_ns,
                offset,
                h,
                frame.get(HEADER_LEN..).unwrap_or_default(),
                sink,
            );
        }
    }

    fn error(
        &self,
        dir: Direction,
        ts_ns: i64,
        offset: u64,
        error: H2Error,
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        sink(H2Event::Error {
            dir,
            ts_ns,
            offset,
            error,
        });
    }

    /// One whole frame.
    fn frame(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        offset: u64,
        h: FrameHeader,
        payload: &[u8],
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        sink(H2Event::Frame {
            dir,
            ts_ns,
            offset,
            header: h,
        });
        let d = &self.dirs[dir];
        let limit = d
            .max_frame
            .clamp(DEFAULT_MAX_FRAME_SIZE, MAX_FRAME_SIZE_LIMIT);
        if d.max_frame_known && h.len > limit {
            let e = H2Error::FrameSize {
                frame: h.kind.name(),
                stream: h.stream,
                len: h.len,
                max: limit,
            };
            self.error(dir, ts_ns, offset, e, sink);
        }
        let open_block = self.dirs[dir].block.as_ref().map(|b| b.stream);
        match open_block {
            Some(s) if h.kind != FrameType::Continuation || h.stream != s => {
                self.dirs[dir].block = None;
                self.dirs[dir].hpack_broken = true;
                let e = H2Error::Continuation {
                    expected: s,
                    kind: h.kind.to_u8(),
                    stream: h.stream,
                };
                self.error(dir, ts_ns, offset, e, sink);
            }
            None if h.kind == FrameType::Continuation => {
                let e = H2Error::Continuation {
                    expected: 0,
                    kind: h.kind.to_u8(),
                    stream: h.stream,
                };
                return self.error(dir, ts_ns, offset, e, sink);
            }
            _ => {}
        }
        let frame = match Frame::parse(&h, payload) {
            Ok(f) => f,
            Err(e) => return self.error(dir, ts_ns, offset, e.into(), sink),
        };
        let end_stream = h.has(flags::END_STREAM);
        let end_headers = h.has(flags::END_HEADERS);
        match frame {
            Frame::Data { data, padding } => {
                self.on_data(
                    dir, ts_ns, offset, h.stream, data, padding, end_stream, sink,
                );
            }
            Frame::Headers { fragment, .. } => {
                let b = Block {
                    stream: h.stream,
                    promised: None,
                    end_stream,
                    offset,
                    bytes: Vec::new(),
                };
                self.start_block(dir, ts_ns, b, fragment, end_headers, sink);
            }
            Frame::PushPromise { promised, fragment } => {
                let b = Block {
                    stream: h.stream,
                    promised: Some(promised),
                    end_stream: false,
                    offset,
                    bytes: Vec::new(),
                };
                self.start_block(dir, ts_ns, b, fragment, end_headers, sink);
            }
            Frame::Continuation { fragment } => {
                let Some(mut b) = self.dirs[dir].block.take() else {
                    return;
                };
                if b.bytes.len().saturating_add(fragment.len()) > self.cfg.max_header_list {
                    self.dirs[dir].hpack_broken = true;
                    let e = H2Error::HeaderBlockTooLarge {
                        stream: b.stream,
                        max: self.cfg.max_header_list,
                    };
                    return self.error(dir, ts_ns, offset, e, sink);
                }
                b.bytes.extend_from_slice(fragment);
                if end_headers {
                    let bytes = std::mem::take(&mut b.bytes);
                    self.finish_block(dir, ts_ns, &b, &bytes, sink);
                } else {
                    self.dirs[dir].block = Some(b);
                }
            }
            Frame::Settings(settings) => {
                let ack = h.has(flags::ACK);
                // A side's SETTINGS bound what the other side sends.
                let other = &mut self.dirs[dir.reverse()];
                for (id, value) in settings.iter() {
                    match id {
                        setting::HEADER_TABLE_SIZE => other.hpack.set_limit(value as usize),
                        setting::MAX_FRAME_SIZE => {
                            other.max_frame = value;
                            other.max_frame_known = true;
                        }
                        setting::ENABLE_CONNECT_PROTOCOL if dir == Direction::ServerToClient => {
                            self.connect_protocol = value == 1;
                        }
                        _ => {}
                    }
                }
                sink(H2Event::Settings {
                    dir,
                    ts_ns,
                    ack,
                    settings,
                });
            }
            Frame::Ping { data } => sink(H2Event::Ping {
                dir,
                ts_ns,
                ack: h.has(flags::ACK),
                data,
            }),
            Frame::RstStream { code } => {
                sink(H2Event::RstStream {
                    dir,
                    ts_ns,
                    stream: h.stream,
                    code,
                });
                self.close(h.stream, ts_ns, EndReason::Reset { code, by: dir }, sink);
            }
            Frame::GoAway {
                last_stream,
                code,
                debug,
            } => {
                sink(H2Event::GoAway {
                    dir,
                    ts_ns,
                    last_stream,
                    code,
                    debug,
                });
                // Streams the receiver started above the last one processed are dropped.
                let odd = dir == Direction::ServerToClient;
                let mut gone: Vec<u32> = self
                    .streams
                    .keys()
                    .copied()
                    .filter(|&id| id > last_stream && (id % 2 == 1) == odd)
                    .collect();
                gone.sort_unstable();
                for id in gone {
                    self.close(id, ts_ns, EndReason::GoAway { code }, sink);
                }
            }
            Frame::Priority(_) | Frame::WindowUpdate { .. } | Frame::Unknown { .. } => {}
        }
    }

    fn start_block(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        mut b: Block,
        fragment: &[u8],
        end_headers: bool,
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        if fragment.len() > self.cfg.max_header_list {
            self.dirs[dir].hpack_broken = true;
            let e = H2Error::HeaderBlockTooLarge {
                stream: b.stream,
                max: self.cfg.max_header_list,
            };
            return self.error(dir, ts_ns, b.offset, e, sink);
        }
        if end_headers {
            self.finish_block(dir, ts_ns, &b, fragment, sink);
        } else {
            b.bytes.extend_from_slice(fragment);
            self.dirs[dir].block = Some(b);
        }
    }

    fn finish_block(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        b: &Block,
        block: &[u8],
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        if self.dirs[dir].hpack_broken {
            return;
        }
        let mut list = std::mem::take(&mut self.list);
        list.clear();
        let max = self.cfg.max_header_list;
        match self.dirs[dir].hpack.decode(block, &mut list, max) {
            Err(error) => {
                self.dirs[dir].hpack_broken = true;
                let e = H2Error::Hpack {
                    stream: b.stream,
                    error,
                };
                self.error(dir, ts_ns, b.offset, e, sink);
            }
            Ok(info) => {
                if let Some(size) = info.capped {
                    let e = H2Error::TableCapped {
                        size,
                        max: self.cfg.max_table_size,
                    };
                    self.error(dir, ts_ns, b.offset, e, sink);
                }
                self.on_head(dir, ts_ns, b, block.len(), &list, sink);
            }
        }
        self.list = list;
    }

    /// Makes sure stream `id` is followed (false: over the cap).
    fn open(
        &mut self,
        id: u32,
        dir: Direction,
        ts_ns: i64,
        offset: u64,
        sink: &mut impl FnMut(H2Event<'_>),
    ) -> bool {
        if self.streams.contains_key(&id) {
            return true;
        }
        let parity = (id % 2) as usize;
        if let Some(high) = self.highest.get_mut(parity) {
            if id <= *high && !self.unordered {
                return false;
            }
            *high = (*high).max(id);
        }
        if self.streams.len() >= self.cfg.max_streams {
            let e = H2Error::TooManyStreams {
                stream: id,
                max: self.cfg.max_streams,
            };
            self.error(dir, ts_ns, offset, e, sink);
            return false;
        }
        let index = self.next_index;
        self.next_index = index.saturating_add(1);
        let mut record = pcap_http_ws::TransactionRecord::default();
        record.index = index;
        self.streams.insert(
            id,
            Stream {
                index,
                record,
                ..Stream::default()
            },
        );
        true
    }

    fn decoder(&self, headers: &HeaderList) -> Option<Box<ContentDecoder>> {
        let coding = headers
            .get("content-encoding")
            .and_then(Coding::from_header)?;
        self.cfg.decode_content.then(|| {
            Box::new(ContentDecoder::new(
                coding,
                self.cfg.max_decoded_body,
                self.cfg.max_brotli_window,
            ))
        })
    }

    /// A decoded header block: a request, a response (interim or final) or trailers.
    fn on_head(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        b: &Block,
        head_len: usize,
        list: &HeaderList,
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        let raw: Vec<httparse::Header<'_>> = list
            .iter()
            .map(|(n, v)| httparse::Header {
                name: text(n),
                value: v,
            })
            .collect();
        let headers = Headers::new(&raw);
        let (id, is_request) = match (b.promised, dir) {
            (Some(p), _) => {
                sink(H2Event::PushPromise {
                    ts_ns,
                    stream: b.stream,
                    promised: p,
                });
                (p, true)
            }
            (None, Direction::ClientToServer) => (b.stream, true),
            (None, Direction::ServerToClient) => (b.stream, false),
        };
        if !self.open(id, dir, ts_ns, b.offset, sink) {
            return;
        }
        let decoder = self.decoder(list);
        let (ws_frame, ws_message) = (self.cfg.ws_max_frame, self.cfg.ws_max_message);
        let connect_checked = self.connect_protocol || self.unordered;
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        let get = |n: &str| list.get(n).map(text);
        if is_request {
            if s.request.head {
                sink(H2Event::Http {
                    stream: id,
                    event: HttpEvent::Trailers {
                        dir,
                        ts_ns,
                        headers,
                    },
                });
            } else {
                let method = get(":method").unwrap_or("");
                let uri = get(":path").or_else(|| get(":authority")).unwrap_or("");
                s.request.head = true;
                s.request.decoder = decoder;
                s.pushed_by = b.promised.map(|_| b.stream);
                s.record.request_start_ns = Some(ts_ns);
                s.record.request_head_len = head_len as u64;
                if list.get("content-type").is_some_and(grpc::is_grpc) {
                    s.grpc_path = Some(uri.into());
                    s.request.grpc = Some(Box::default());
                    s.response.grpc = Some(Box::default());
                    s.request.grpc_gzip = list
                        .get("grpc-encoding")
                        .is_some_and(|v| v.eq_ignore_ascii_case(b"gzip"));
                }
                if method == "CONNECT"
                    && b.promised.is_none()
                    && list
                        .get(":protocol")
                        .is_some_and(|p| p.eq_ignore_ascii_case(b"websocket"))
                {
                    s.connect_ws = true;
                    if !connect_checked {
                        let e = H2Error::ConnectProtocolNotEnabled { stream: id };
                        sink(H2Event::Error {
                            dir,
                            ts_ns,
                            offset: b.offset,
                            error: e,
                        });
                    }
                }
                let head = RequestHead::new(
                    s.index, ts_ns, b.offset, method, uri, HTTP2, headers, head_len,
                );
                sink(H2Event::Http {
                    stream: id,
                    event: HttpEvent::Request(head),
                });
            }
            if b.end_stream || b.promised.is_some() {
                self.end_half(id, Direction::ClientToServer, ts_ns, true, sink);
            }
            return;
        }
        let status = get(":status").and_then(|v| v.parse::<u16>().ok());
        match status {
            Some(status) if !s.response.head => {
                let interim = (100..200).contains(&status);
                s.record.response_start_ns.get_or_insert(ts_ns);
                if !interim {
                    s.response.head = true;
                    s.response.decoder = decoder;
                    s.record.status = Some(status);
                    s.record.response_head_len = head_len as u64;
                    s.response.grpc_gzip = list
                        .get("grpc-encoding")
                        .is_some_and(|v| v.eq_ignore_ascii_case(b"gzip"));
                }
                let head = ResponseHead::new(
                    ts_ns, b.offset, HTTP2, status, "", headers, head_len, interim,
                );
                sink(H2Event::Http {
                    stream: id,
                    event: HttpEvent::Response(head),
                });
                if !interim && b.end_stream {
                    grpc_status(s, id, ts_ns, list, true, sink);
                }
                if s.connect_ws && (200..300).contains(&status) && !b.end_stream {
                    let deflate = list
                        .get("sec-websocket-extensions")
                        .and_then(PerMessageDeflate::from_header);
                    ws_upgrade(s, id, ts_ns, deflate, (ws_frame, ws_message), sink);
                }
            }
            _ => {
                sink(H2Event::Http {
                    stream: id,
                    event: HttpEvent::Trailers {
                        dir,
                        ts_ns,
                        headers,
                    },
                });
                grpc_status(s, id, ts_ns, list, false, sink);
            }
        }
        if b.end_stream {
            self.end_half(id, Direction::ServerToClient, ts_ns, true, sink);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_data(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        offset: u64,
        id: u32,
        data: &[u8],
        padding: usize,
        end_stream: bool,
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        if !self.open(id, dir, ts_ns, offset, sink) {
            return;
        }
        let H2Session {
            streams,
            scratch,
            cfg,
            ..
        } = self;
        let Some(s) = streams.get_mut(&id) else {
            return;
        };
        if let Some(ws) = s.ws.as_mut() {
            let mut http = |event: HttpEvent<'_>| sink(H2Event::Http { stream: id, event });
            ws.data(dir, ts_ns, data, &mut http);
            if end_stream {
                self.end_half(id, dir, ts_ns, true, sink);
            }
            return;
        }
        let path: &str = s.grpc_path.as_deref().unwrap_or("");
        let h = match dir {
            Direction::ClientToServer => &mut s.request,
            Direction::ServerToClient => &mut s.response,
        };
        h.body_len = h.body_len.saturating_add(data.len() as u64);
        h.wire_len = h
            .wire_len
            .saturating_add(data.len().saturating_add(padding) as u64);
        if !data.is_empty() {
            sink(H2Event::Http {
                stream: id,
                event: HttpEvent::Body {
                    dir,
                    ts_ns,
                    data,
                    decoded: false,
                },
            });
        }
        if let Some(dec) = h.decoder.as_mut() {
            let r = dec.feed(data);
            drain(id, dir, ts_ns, dec, sink);
            h.decoded_len = Some(dec.total());
            if let Err(stop) = r {
                h.decoded_truncated = true;
                let coding = dec.coding().name();
                h.decoder = None;
                sink(decode_error(id, dir, ts_ns, offset, coding, stop));
            }
        }
        if let Some(reader) = h.grpc.as_mut() {
            let gzip = h.grpc_gzip;
            let max = cfg.max_grpc_message;
            // Oversized messages are reported after the call (one per DATA frame at most
            // can start and end in it, and the sink is busy with the messages).
            let mut over = None;
            reader.feed(
                data,
                max,
                &mut |m: grpc::Framed<'_>| {
                    let decoded = match m.data {
                        Some(d) if m.compressed && gzip => {
                            grpc::gunzip(d, max, scratch).then_some(&scratch[..])
                        }
                        _ => None,
                    };
                    sink(H2Event::GrpcMessage(GrpcMessage {
                        stream: id,
                        dir,
                        ts_ns,
                        path,
                        len: m.len,
                        compressed: m.compressed,
                        data: m.data,
                        decoded,
                    }));
                },
                &mut |len| over = Some(len),
            );
            if let Some(len) = over {
                sink(H2Event::Error {
                    dir,
                    ts_ns,
                    offset,
                    error: H2Error::GrpcMessageTooLarge {
                        stream: id,
                        len,
                        max,
                    },
                });
            }
        }
        if end_stream {
            self.end_half(id, dir, ts_ns, true, sink);
        }
    }

    /// END_STREAM in `dir` (or the stream's end): the message is complete; once both are,
    /// the stream is.
    fn end_half(
        &mut self,
        id: u32,
        dir: Direction,
        ts_ns: i64,
        complete: bool,
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        if let Some(ws) = s.ws.as_mut() {
            let mut http = |event: HttpEvent<'_>| sink(H2Event::Http { stream: id, event });
            if ws.end(dir, ts_ns, &mut http) {
                self.close(id, ts_ns, EndReason::Complete, sink);
            }
            return;
        }
        finish_half(s, id, dir, ts_ns, complete, sink);
        if s.request.done && s.response.done {
            self.close(id, ts_ns, EndReason::Complete, sink);
        }
    }

    /// Ends stream `id`: messages still open end incomplete, then its record.
    fn close(
        &mut self,
        id: u32,
        ts_ns: i64,
        reason: EndReason,
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        let Some(mut s) = self.streams.remove(&id) else {
            return;
        };
        for dir in Direction::BOTH {
            if let Some(ws) = s.ws.as_mut() {
                let mut http = |event: HttpEvent<'_>| sink(H2Event::Http { stream: id, event });
                ws.end(dir, ts_ns, &mut http);
            }
            let h = half(&mut s, dir);
            if !h.done && (h.head || h.body_len > 0) {
                finish_half(&mut s, id, dir, ts_ns, false, sink);
            }
        }
        sink(H2Event::StreamEnd {
            stream: id,
            ts_ns,
            reason,
            pushed_by: s.pushed_by,
        });
        if s.recorded {
            return;
        }
        let mut record = std::mem::take(&mut s.record);
        record.complete = record.request_complete && record.response_complete;
        sink(H2Event::Http {
            stream: id,
            event: HttpEvent::Transaction(record),
        });
    }

    /// `len` bytes of direction `dir` were never captured: the direction looks for a frame
    /// boundary, and messages open in it are incomplete.
    pub fn gap(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        len: u64,
        sink: &mut impl FnMut(H2Event<'_>),
    ) {
        let d = &mut self.dirs[dir];
        d.offset = d.offset.saturating_add(len);
        if d.phase == Phase::Dead {
            return;
        }
        if d.skip >= len && d.buf.is_empty() && d.phase == Phase::Frames {
            // Lost inside a frame being skipped anyway.
            d.skip -= len;
            return;
        }
        d.skip = 0;
        d.buf.clear();
        d.block = None;
        d.phase = Phase::Resync;
        self.unordered = true;
        let cap = self.cfg.max_table_size;
        let old = std::mem::replace(&mut d.hpack, Decoder::midstream(cap));
        d.hpack = old.into_midstream();
        d.hpack_broken = false;
        for (&id, s) in self.streams.iter_mut() {
            if let Some(ws) = s.ws.as_mut() {
                let mut http = |event: HttpEvent<'_>| sink(H2Event::Http { stream: id, event });
                ws.lose(dir, ts_ns, &mut http);
            }
            let h = half(s, dir);
            if !h.done {
                h.lost = true;
                if let Some(g) = h.grpc.as_mut() {
                    g.lose();
                }
            }
        }
    }

    /// Direction `dir` ended (`Some`), or the whole connection (`None`): every stream
    /// still open ends, incomplete.
    pub fn end(&mut self, dir: Option<Direction>, ts_ns: i64, sink: &mut impl FnMut(H2Event<'_>)) {
        if dir.is_some() {
            return;
        }
        let mut open: Vec<u32> = self.streams.keys().copied().collect();
        open.sort_unstable();
        for id in open {
            self.close(id, ts_ns, EndReason::ConnectionEnd, sink);
        }
    }
}

fn too_large(
    dir: Direction,
    ts_ns: i64,
    offset: u64,
    h: FrameHeader,
    max: u32,
) -> H2Event<'static> {
    H2Event::Error {
        dir,
        ts_ns,
        offset,
        error: H2Error::FrameTooLarge {
            frame: h.kind.name(),
            stream: h.stream,
            len: h.len,
            max,
        },
    }
}

fn decode_error(
    stream: u32,
    dir: Direction,
    ts_ns: i64,
    offset: u64,
    coding: &'static str,
    stop: Stop,
) -> H2Event<'static> {
    let why = match stop {
        Stop::Cap => "over the cap",
        Stop::Window { .. } => "brotli window too large",
        _ => "corrupt",
    };
    H2Event::Error {
        dir,
        ts_ns,
        offset,
        error: H2Error::Decode {
            stream,
            coding,
            why,
        },
    }
}

/// Reports the decoded bytes a content decoder produced.
fn drain(
    stream: u32,
    dir: Direction,
    ts_ns: i64,
    dec: &mut ContentDecoder,
    sink: &mut impl FnMut(H2Event<'_>),
) {
    if let Some(out) = dec.output() {
        if !out.is_empty() {
            sink(H2Event::Http {
                stream,
                event: HttpEvent::Body {
                    dir,
                    ts_ns,
                    data: out,
                    decoded: true,
                },
            });
            out.clear();
        }
    }
}

/// A message's end: content decoding finished, the record filled in, `MessageComplete`.
fn finish_half(
    s: &mut Stream,
    id: u32,
    dir: Direction,
    ts_ns: i64,
    complete: bool,
    sink: &mut impl FnMut(H2Event<'_>),
) {
    let h = half(s, dir);
    if h.done {
        return;
    }
    h.done = true;
    if let Some(dec) = h.decoder.as_mut() {
        let r = dec.finish();
        drain(id, dir, ts_ns, dec, sink);
        h.decoded_len = Some(dec.total());
        if let Err(stop) = r {
            h.decoded_truncated = true;
            sink(decode_error(id, dir, ts_ns, 0, dec.coding().name(), stop));
        }
        h.decoder = None;
    }
    let whole = complete && !h.lost && h.head;
    let mut m = MessageComplete::new(dir, ts_ns, h.body_len, h.wire_len);
    m.decoded_len = h.decoded_len;
    m.decoded_truncated = h.decoded_truncated;
    m.complete = whole;
    let (body, wire, decoded) = (h.body_len, h.wire_len, h.decoded_len);
    let r = &mut s.record;
    match dir {
        Direction::ClientToServer => {
            r.request_end_ns = Some(ts_ns);
            r.request_body_len = body;
            r.request_wire_len = wire;
            r.request_decoded_len = decoded;
            r.request_complete = whole;
        }
        Direction::ServerToClient => {
            r.response_end_ns = Some(ts_ns);
            r.response_body_len = body;
            r.response_wire_len = wire;
            r.response_decoded_len = decoded;
            r.response_complete = whole;
        }
    }
    if s.request.head || dir == Direction::ServerToClient {
        sink(H2Event::Http {
            stream: id,
            event: HttpEvent::MessageComplete(m),
        });
    }
}

/// A 2xx answered stream `id`'s extended CONNECT for WebSocket (RFC 8441): `WsUpgrade`,
/// then both messages end and the record is reported, as for an HTTP/1.1 `101`; the
/// stream's DATA is WebSocket frames from now on, until END_STREAM or RST_STREAM.
fn ws_upgrade(
    s: &mut Stream,
    id: u32,
    ts_ns: i64,
    deflate: Option<PerMessageDeflate>,
    (max_frame, max_message): (u64, u64),
    sink: &mut impl FnMut(H2Event<'_>),
) {
    sink(H2Event::Http {
        stream: id,
        event: HttpEvent::WsUpgrade(WsHandshake::new(ts_ns, None, deflate)),
    });
    for dir in Direction::BOTH {
        finish_half(s, id, dir, ts_ns, true, sink);
    }
    let mut record = std::mem::take(&mut s.record);
    record.complete = record.request_complete && record.response_complete;
    s.recorded = true;
    sink(H2Event::Http {
        stream: id,
        event: HttpEvent::Transaction(record),
    });
    s.ws = Some(Box::new(WsTunnel::new(deflate, max_frame, max_message)));
}

/// `grpc-status` and `grpc-message` of a gRPC call's trailers (or trailers-only response).
fn grpc_status(
    s: &mut Stream,
    id: u32,
    ts_ns: i64,
    list: &HeaderList,
    trailers_only: bool,
    sink: &mut impl FnMut(H2Event<'_>),
) {
    let Some(path) = s.grpc_path.as_deref() else {
        return;
    };
    let status = list.get("grpc-status");
    if status.is_none() && trailers_only {
        return;
    }
    s.grpc_status_seen = true;
    sink(H2Event::GrpcStatus(GrpcStatus {
        stream: id,
        ts_ns,
        path,
        status: status.and_then(|v| text(v).parse().ok()),
        message: list.get("grpc-message").map(grpc::percent_decode),
        trailers_only,
    }));
}
