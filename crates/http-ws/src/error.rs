//! Protocol errors: reported as events with a position, never panics.

use pcap_tcp_reassembly::Direction;

/// An HTTP/1.x framing or syntax problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// httparse rejected the head.
    #[error("http head: {0}")]
    Head(httparse::Error),
    /// The head has more headers than the configured cap.
    #[error("http head: more than {max} headers")]
    TooManyHeaders {
        /// The cap.
        max: usize,
    },
    /// The head is larger than the configured cap.
    #[error("http head: larger than {max} bytes")]
    HeadTooLarge {
        /// The cap.
        max: usize,
    },
    /// A Content-Length value is not a decimal number.
    #[error("http content-length: invalid value")]
    InvalidContentLength,
    /// Several Content-Length headers disagree (the first is used).
    #[error("http content-length: conflicting values")]
    ConflictingContentLength,
    /// A chunk-size line holds a byte that is not a hex digit, extension or line end.
    #[error("http chunked: invalid chunk-size byte {byte:#04x}")]
    InvalidChunkSize {
        /// The offending byte.
        byte: u8,
    },
    /// A chunk size has more hex digits than fit the limit.
    #[error("http chunked: chunk size longer than {max} hex digits")]
    ChunkSizeTooLong {
        /// The digit limit.
        max: usize,
    },
    /// Chunk data is not followed by CRLF.
    #[error("http chunked: missing crlf after chunk data")]
    MissingChunkCrlf,
    /// A chunk extension or the trailer section is over the head size cap.
    #[error("http chunked: trailer or extension larger than {max} bytes")]
    TrailerTooLarge {
        /// The cap.
        max: usize,
    },
    /// The trailer section does not parse.
    #[error("http chunked: trailer: {0}")]
    Trailer(httparse::Error),
    /// The body's content coding is corrupt; decoded output stops here.
    #[error("http body: {encoding} content decoding failed")]
    ContentDecode {
        /// The coding (`gzip`, `deflate`, `br`).
        encoding: &'static str,
    },
    /// The decoded body exceeds the cap; decoded output is truncated.
    #[error("http body: decoded size over {max} bytes, truncated")]
    DecodedBodyTooLarge {
        /// The cap.
        max: u64,
    },
    /// A brotli body declares a window (RFC 7932 section 9.1) over the configured cap
    /// (`HttpConfig::max_brotli_window`): the body is not decoded.
    #[error("http body: brotli window of {window} bytes over the {max}-byte cap, body not decoded")]
    BrotliWindowTooLarge {
        /// The window the stream declares, in bytes (`(1 << WBITS) - 16`).
        window: u64,
        /// The cap.
        max: u64,
    },
    /// The stream ended (FIN/RST/close) inside a message.
    #[error("http message: incomplete at end of stream")]
    IncompleteMessage,
    /// Bytes were lost before capture; decoding resynchronises at the next message start.
    #[error("http stream: {len} bytes not captured")]
    BytesLost {
        /// Number of bytes the capture does not have.
        len: u64,
    },
    /// More requests queued without responses than the cap (reported once per session); the
    /// oldest is closed as a transaction without a response.
    #[error("http pipeline: more than {max} requests pending")]
    TooManyPendingRequests {
        /// The cap.
        max: usize,
    },
    /// Bytes sent while the client waited for an Upgrade/CONNECT answer exceed the head cap.
    #[error("http upgrade: more than {max} bytes sent before the response")]
    UpgradeBufferFull {
        /// The cap.
        max: usize,
    },
    /// The HTTP decoders of all sessions together held more than their memory budget: this
    /// session's decoding stopped as if it had ended (hostile traffic, or far more
    /// concurrent sessions than the budget was made for).
    #[error("http decoding stopped: sessions together over the {max}-byte memory budget")]
    MemoryBudget {
        /// The budget.
        max: usize,
    },
    /// The 101 response's Sec-WebSocket-Accept does not match the request's key (RFC 6455 4.2.2).
    #[error("websocket handshake: sec-websocket-accept does not match sec-websocket-key")]
    AcceptMismatch,
}

/// An RFC 6455 rule broken by a WebSocket frame or message (names follow tungstenite).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    /// RSV bits set without a negotiated extension defining them (RFC 6455 5.2).
    #[error("websocket frame: reserved bits {bits:#03b} set")]
    NonZeroReservedBits {
        /// RSV1..RSV3 as the low three bits (RSV1 = 0b100).
        bits: u8,
    },
    /// A client-to-server frame without a mask (RFC 6455 5.1).
    #[error("websocket frame: unmasked frame from client")]
    UnmaskedFrameFromClient,
    /// A server-to-client frame with a mask (RFC 6455 5.1).
    #[error("websocket frame: masked frame from server")]
    MaskedFrameFromServer,
    /// A control frame without FIN (RFC 6455 5.5).
    #[error("websocket frame: fragmented control frame")]
    FragmentedControlFrame,
    /// A control frame payload over 125 bytes (RFC 6455 5.5).
    #[error("websocket frame: control frame payload of {len} bytes (max 125)")]
    ControlFrameTooBig {
        /// The payload length.
        len: u64,
    },
    /// A reserved opcode (RFC 6455 5.2).
    #[error("websocket frame: invalid opcode {0:#x}")]
    InvalidOpcode(u8),
    /// A text message or close reason that is not UTF-8 (RFC 6455 8.1).
    #[error("websocket message: invalid utf-8 in text")]
    InvalidUtf8,
    /// A continuation frame with no message in progress (RFC 6455 5.4).
    #[error("websocket frame: continuation frame without a message")]
    UnexpectedContinuation,
    /// A new data frame while a fragmented message is unfinished (RFC 6455 5.4).
    #[error("websocket frame: data frame while a fragmented message is unfinished")]
    ExpectedContinuation,
    /// A frame payload over the configured cap; the payload is skipped.
    #[error("websocket frame: payload of {size} bytes over the {max} byte cap")]
    FrameTooBig {
        /// Payload length from the header.
        size: u64,
        /// The cap.
        max: u64,
    },
    /// A message (or its inflated form) over the configured cap; the message is skipped.
    #[error("websocket message: over the {max} byte cap")]
    MessageTooBig {
        /// The cap.
        max: u64,
    },
    /// A close frame with a one-byte payload (RFC 6455 5.5.1).
    #[error("websocket close: one-byte payload")]
    InvalidClosePayload,
    /// A close code that may not be sent (RFC 6455 7.4).
    #[error("websocket close: invalid code {0}")]
    InvalidCloseCode(u16),
    /// permessage-deflate data that does not inflate (RFC 7692 7.2.2).
    #[error("websocket message: permessage-deflate data does not inflate")]
    Decompression,
    /// A compressed frame on a connection without permessage-deflate, or RSV1 on a continuation.
    #[error("websocket frame: compressed frame without permessage-deflate")]
    UnexpectedCompression,
    /// The stream ended or lost bytes inside a frame; this direction stops decoding.
    #[error("websocket stream: {what}")]
    Truncated {
        /// What was cut short.
        what: &'static str,
    },
}

/// What went wrong: an HTTP or a WebSocket rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// HTTP/1.x.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// RFC 6455.
    #[error(transparent)]
    WebSocket(#[from] WsError),
}

/// A protocol error with where it happened: direction, packet time and stream offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} at stream offset {offset}: {kind}", dir.as_str())]
pub struct ProtocolError {
    /// The stream the error is in.
    pub dir: Direction,
    /// Timestamp (ns) of the bytes that revealed it.
    pub ts_ns: i64,
    /// Offset in that direction's byte stream (lost bytes count).
    pub offset: u64,
    /// The rule broken.
    pub kind: ErrorKind,
}
