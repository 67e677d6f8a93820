//! What an [`crate::H2Session`] reports: each stream's exchange as the HTTP/1.x events of
//! [`pcap_http_ws`], plus what HTTP/2 and gRPC have of their own.

use std::borrow::Cow;

use pcap_http_ws::HttpEvent;
use pcap_tcp_reassembly::Direction;

use crate::error::H2Error;
use crate::frame::{FrameHeader, Settings};

/// How a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// Both sides sent END_STREAM.
    Complete,
    /// RST_STREAM with this error code, sent in direction `by`.
    Reset {
        /// Error code (see [`crate::frame::error_code_name`]).
        code: u32,
        /// Who sent it (ClientToServer: the client).
        by: Direction,
    },
    /// A GOAWAY whose last stream is below this one.
    GoAway {
        /// GOAWAY's error code.
        code: u32,
    },
    /// The connection ended (or lost bytes) with the stream open.
    ConnectionEnd,
}

/// One gRPC message (a length-prefixed message of a DATA stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GrpcMessage<'a> {
    /// HTTP/2 stream.
    pub stream: u32,
    /// Direction (ClientToServer: a request message).
    pub dir: Direction,
    /// Time of the packet that completed it.
    pub ts_ns: i64,
    /// `/package.Service/Method`.
    pub path: &'a str,
    /// Message length from its prefix.
    pub len: u32,
    /// The compressed flag.
    pub compressed: bool,
    /// The message as sent; `None` when over `H2Config::max_grpc_message`.
    pub data: Option<&'a [u8]>,
    /// The message decompressed (gzip `grpc-encoding`), when compressed and decoded.
    pub decoded: Option<&'a [u8]>,
}

/// The end of a gRPC call: `grpc-status` and `grpc-message` from the trailers (or from the
/// response headers of a trailers-only response).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GrpcStatus<'a> {
    /// HTTP/2 stream.
    pub stream: u32,
    /// Time of the trailers.
    pub ts_ns: i64,
    /// `/package.Service/Method`.
    pub path: &'a str,
    /// `grpc-status` (`None`: absent or not a number).
    pub status: Option<u32>,
    /// `grpc-message`, percent-decoded.
    pub message: Option<Cow<'a, [u8]>>,
    /// The status came in the response headers (no DATA, no separate trailers).
    pub trailers_only: bool,
}

/// Everything an [`crate::H2Session`] reports. Borrowed variants live only for the sink call.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum H2Event<'a> {
    /// An event of stream `stream`'s exchange, as an HTTP/1.x transaction reports it:
    /// `Request` (pseudo-headers in the headers, `version` [`pcap_http_ws::HTTP2`]),
    /// `Response` (empty reason), `Body`, `Trailers`, `MessageComplete`, `Transaction`.
    /// Streams interleave; a consumer pairs events by `stream`.
    ///
    /// WebSocket over HTTP/2 (RFC 8441): when a 2xx answers an extended CONNECT
    /// (`:method CONNECT`, `:protocol websocket`), the stream reports `WsUpgrade`, both
    /// `MessageComplete`s and its `Transaction` at once, as an HTTP/1.1 `101` does; its
    /// DATA then carries WebSocket frames both ways (`WsFrame`, `WsMessage`, `WsControl`,
    /// and `Error` for WebSocket errors, offsets counted in the stream's DATA bytes of
    /// the direction) until END_STREAM or RST_STREAM, and no `Body`.
    Http {
        /// HTTP/2 stream.
        stream: u32,
        /// The event.
        event: HttpEvent<'a>,
    },
    /// Every frame's header, with its direction, time and stream offset.
    Frame {
        /// Direction.
        dir: Direction,
        /// Time.
        ts_ns: i64,
        /// Stream offset of the frame's first byte.
        offset: u64,
        /// The header.
        header: FrameHeader,
    },
    /// A SETTINGS frame.
    Settings {
        /// Direction.
        dir: Direction,
        /// Time.
        ts_ns: i64,
        /// An acknowledgement (no parameters).
        ack: bool,
        /// The parameters.
        settings: Settings<'a>,
    },
    /// A PING frame.
    Ping {
        /// Direction.
        dir: Direction,
        /// Time.
        ts_ns: i64,
        /// An acknowledgement.
        ack: bool,
        /// Opaque data.
        data: [u8; 8],
    },
    /// A RST_STREAM frame: the stream ends.
    RstStream {
        /// Who sent it.
        dir: Direction,
        /// Time.
        ts_ns: i64,
        /// The stream.
        stream: u32,
        /// Error code.
        code: u32,
    },
    /// A GOAWAY frame: streams above `last_stream` end.
    GoAway {
        /// Who sent it.
        dir: Direction,
        /// Time.
        ts_ns: i64,
        /// Last stream processed.
        last_stream: u32,
        /// Error code.
        code: u32,
        /// Debug data.
        debug: &'a [u8],
    },
    /// A PUSH_PROMISE: stream `promised` is a pushed response to the request reported for
    /// it (as the `Request` of stream `promised`).
    PushPromise {
        /// Time.
        ts_ns: i64,
        /// The stream of the request that caused the push.
        stream: u32,
        /// The reserved stream.
        promised: u32,
    },
    /// A stream ended, before its `Transaction` record.
    StreamEnd {
        /// The stream.
        stream: u32,
        /// Time.
        ts_ns: i64,
        /// How.
        reason: EndReason,
        /// Stream this one was pushed for (PUSH_PROMISE), if pushed.
        pushed_by: Option<u32>,
    },
    /// A gRPC message.
    GrpcMessage(GrpcMessage<'a>),
    /// The status of a gRPC call.
    GrpcStatus(GrpcStatus<'a>),
    /// A direction picked up after lost bytes (or mid-stream) found a frame boundary after
    /// skipping `skipped` bytes.
    Resync {
        /// Direction.
        dir: Direction,
        /// Time.
        ts_ns: i64,
        /// Bytes skipped.
        skipped: usize,
    },
    /// A protocol error or a cap hit; decoding goes on where it can.
    Error {
        /// Direction.
        dir: Direction,
        /// Time.
        ts_ns: i64,
        /// Stream offset of the frame concerned.
        offset: u64,
        /// What.
        error: H2Error,
    },
}
