//! One HTTP/2 stream: its two messages (heads, bodies, content decoding), its gRPC call and
//! the record of its exchange.

use pcap_http_ws::{ContentDecoder, HttpEvent, PerMessageDeflate, TransactionRecord, WsDecoder};
use pcap_tcp_reassembly::{Direction, PerDir};

use crate::grpc;

/// One direction of a stream: a request or a response.
#[derive(Debug, Default)]
pub(crate) struct Half {
    /// A (final) head was seen.
    pub(crate) head: bool,
    /// END_STREAM was seen (or the stream ended).
    pub(crate) done: bool,
    /// Bytes were lost inside it.
    pub(crate) lost: bool,
    /// DATA bytes, padding excluded.
    pub(crate) body_len: u64,
    /// DATA payload bytes, padding included.
    pub(crate) wire_len: u64,
    pub(crate) decoder: Option<Box<ContentDecoder>>,
    pub(crate) decoded_len: Option<u64>,
    pub(crate) decoded_truncated: bool,
    /// gRPC messages of this direction.
    pub(crate) grpc: Option<Box<grpc::Reader>>,
    /// `grpc-encoding: gzip` on this direction's head.
    pub(crate) grpc_gzip: bool,
}

impl Half {
    pub(crate) fn memory(&self) -> usize {
        self.decoder.as_ref().map_or(0, |d| d.memory())
            + self.grpc.as_ref().map_or(0, |g| g.memory())
    }
}

/// One stream.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    /// Its transaction's index in the connection (streams in order of appearance).
    pub(crate) index: u64,
    /// The stream whose request caused this push.
    pub(crate) pushed_by: Option<u32>,
    pub(crate) request: Half,
    pub(crate) response: Half,
    pub(crate) record: TransactionRecord,
    /// The gRPC method (`:path`) when the request's content-type is gRPC's.
    pub(crate) grpc_path: Option<Box<str>>,
    /// A grpc-status was reported.
    pub(crate) grpc_status_seen: bool,
    /// The request is an extended CONNECT for WebSocket (`:protocol websocket`, RFC 8441).
    pub(crate) connect_ws: bool,
    /// The WebSocket its DATA carries, after a 2xx answered the extended CONNECT.
    pub(crate) ws: Option<Box<WsTunnel>>,
    /// The record was reported already (at the WebSocket upgrade).
    pub(crate) recorded: bool,
}

/// WebSocket over an HTTP/2 stream: a decoder per direction, fed the DATA payloads.
#[derive(Debug)]
pub(crate) struct WsTunnel {
    /// `None` once the direction ended (END_STREAM).
    dirs: PerDir<Option<WsDecoder>>,
    /// Bytes of DATA fed per direction (the WebSocket stream offset).
    offset: PerDir<u64>,
}

impl WsTunnel {
    pub(crate) fn new(
        deflate: Option<PerMessageDeflate>,
        max_frame: u64,
        max_message: u64,
    ) -> Self {
        let dec = |dir| Some(WsDecoder::new(dir, deflate, max_frame, max_message));
        WsTunnel {
            dirs: PerDir::new(
                dec(Direction::ClientToServer),
                dec(Direction::ServerToClient),
            ),
            offset: PerDir::new(0, 0),
        }
    }

    pub(crate) fn memory(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .dirs
                .iter()
                .map(|d| d.as_ref().map_or(0, WsDecoder::memory))
                .sum::<usize>()
    }

    /// DATA of direction `dir`.
    pub(crate) fn data(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        data: &[u8],
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let offset = self.offset[dir];
        self.offset[dir] = offset.saturating_add(data.len() as u64);
        if let Some(d) = self.dirs[dir].as_mut() {
            d.data(ts_ns, offset, data, sink);
        }
    }

    /// Bytes of direction `dir` were lost, and how many of them were this stream's is not
    /// known: the direction is not decoded any further (an error says so).
    pub(crate) fn lose(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let offset = self.offset[dir];
        if let Some(d) = self.dirs[dir].as_mut() {
            d.gap(ts_ns, offset, u64::MAX, sink);
        }
    }

    /// Direction `dir` ended; true when both have.
    pub(crate) fn end(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) -> bool {
        if let Some(mut d) = self.dirs[dir].take() {
            d.end(ts_ns, self.offset[dir], sink);
        }
        self.dirs.iter().all(|d| d.is_none())
    }
}

impl Stream {
    pub(crate) fn memory(&self) -> usize {
        std::mem::size_of::<Stream>()
            + self.request.memory()
            + self.response.memory()
            + self.grpc_path.as_ref().map_or(0, |p| p.len())
            + self.ws.as_ref().map_or(0, |w| w.memory())
    }
}
