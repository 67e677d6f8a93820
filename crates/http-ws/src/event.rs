//! What a session reports: borrowed views of heads, bodies and frames, plus owned records.

use pcap_tcp_reassembly::Direction;

use crate::error::{HttpError, ProtocolError};
use crate::websocket::PerMessageDeflate;

/// Headers of one head, in wire order, borrowing the stream bytes.
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a> {
    raw: &'a [httparse::Header<'a>],
}

impl<'a> Headers<'a> {
    /// Headers over `raw`, in wire order: how a decoder of another HTTP version (HTTP/2's
    /// decoded header fields) reports heads through the same events.
    pub fn new(raw: &'a [httparse::Header<'a>]) -> Self {
        Headers { raw }
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// True when the head has no headers.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Headers as `(name, value)` in wire order; values stay bytes (the spec allows non-ASCII).
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.raw.iter().map(|h| (h.name, h.value))
    }

    /// The first value of header `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.raw
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }
}

/// A parsed request line and headers.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RequestHead<'a> {
    /// Index of the transaction this request opens (matches [`TransactionRecord::index`]).
    pub index: u64,
    /// Time (ns) of the packet that carried the first byte of the request.
    pub ts_ns: i64,
    /// Stream offset of the first byte of the request line.
    pub offset: u64,
    /// Method token, e.g. `GET`.
    pub method: &'a str,
    /// Request target as sent.
    pub uri: &'a str,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1; [`HTTP2`] for HTTP/2, which has no
    /// minor version; [`HTTP09`] for an HTTP/0.9 simple request.
    pub version: u8,
    /// Headers in order.
    pub headers: Headers<'a>,
    /// Size of the head in bytes (up to and including the blank line).
    pub head_len: usize,
}

/// The `version` of HTTP/2 heads (HTTP/1.x heads carry their minor version, 0 or 1).
pub const HTTP2: u8 = 2;

/// The `version` of HTTP/0.9 heads. A simple request is one line, `GET /path`, with no
/// version and no headers; its response has no status line and no headers, only a body
/// that runs until the server closes. Such a response is reported as a head of status 200
/// (HTTP/0.9 has no other) with no headers and a length of 0.
pub const HTTP09: u8 = 9;

/// The name of a head's `version`: `HTTP/1.0`, `HTTP/1.1`, `HTTP/2` or `HTTP/0.9`.
pub fn version_name(version: u8) -> &'static str {
    match version {
        0 => "HTTP/1.0",
        HTTP2 => "HTTP/2",
        HTTP09 => "HTTP/0.9",
        _ => "HTTP/1.1",
    }
}

impl<'a> RequestHead<'a> {
    /// The first `Host` header, or HTTP/2's `:authority` pseudo-header.
    pub fn host(&self) -> Option<&'a [u8]> {
        self.headers
            .get("host")
            .or_else(|| self.headers.get(":authority"))
    }

    /// A request head, for decoders outside this crate (HTTP/2).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        index: u64,
        ts_ns: i64,
        offset: u64,
        method: &'a str,
        uri: &'a str,
        version: u8,
        headers: Headers<'a>,
        head_len: usize,
    ) -> Self {
        RequestHead {
            index,
            ts_ns,
            offset,
            method,
            uri,
            version,
            headers,
            head_len,
        }
    }
}

/// A parsed status line and headers.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ResponseHead<'a> {
    /// Time (ns) of the packet that carried the first byte of the response.
    pub ts_ns: i64,
    /// Stream offset of the first byte of the status line.
    pub offset: u64,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1; [`HTTP2`] or [`HTTP09`] (a response
    /// with no status line, answering an HTTP/0.9 request).
    pub version: u8,
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: &'a str,
    /// Headers in order.
    pub headers: Headers<'a>,
    /// Size of the head in bytes.
    pub head_len: usize,
    /// A 1xx interim response (other than 101): reported, but the transaction goes on.
    pub interim: bool,
}

impl<'a> ResponseHead<'a> {
    /// A response head, for decoders outside this crate (HTTP/2: `reason` is empty).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ts_ns: i64,
        offset: u64,
        version: u8,
        status: u16,
        reason: &'a str,
        headers: Headers<'a>,
        head_len: usize,
        interim: bool,
    ) -> Self {
        ResponseHead {
            ts_ns,
            offset,
            version,
            status,
            reason,
            headers,
            head_len,
            interim,
        }
    }
}

/// End of one request or response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageComplete {
    /// Which message: ClientToServer = request, ServerToClient = response.
    pub dir: Direction,
    /// Time (ns) of the packet that completed it (or of the close that ended it).
    pub ts_ns: i64,
    /// Body bytes after transfer decoding (de-chunked), before content decoding.
    pub body_len: u64,
    /// Body bytes as sent, chunk-size lines, CRLFs and trailers included (HAR's bodySize).
    pub wire_len: u64,
    /// Body bytes after content decoding; `None` when not decoded (no coding, or decoding off).
    pub decoded_len: Option<u64>,
    /// Decoded output was cut at the cap or stopped on corrupt data.
    pub decoded_truncated: bool,
    /// False when the stream ended or lost bytes before the framing said the body was done.
    pub complete: bool,
}

impl MessageComplete {
    /// The end of a message of direction `dir` at `ts_ns` with a body of `body_len` bytes,
    /// `wire_len` on the wire, for decoders outside this crate (HTTP/2); not decoded, and
    /// complete.
    pub fn new(dir: Direction, ts_ns: i64, body_len: u64, wire_len: u64) -> Self {
        MessageComplete {
            dir,
            ts_ns,
            body_len,
            wire_len,
            decoded_len: None,
            decoded_truncated: false,
            complete: true,
        }
    }
}

/// One request/response exchange with its timings: raw material for http-trace and HAR.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TransactionRecord {
    /// 0-based index of the transaction in the session.
    pub index: u64,
    /// Time of the first request byte (`None`: response without a seen request).
    pub request_start_ns: Option<i64>,
    /// Time the request body completed.
    pub request_end_ns: Option<i64>,
    /// Time of the first response byte (an interim 1xx counts).
    pub response_start_ns: Option<i64>,
    /// Time the final response completed.
    pub response_end_ns: Option<i64>,
    /// Final status (`None`: no response before the stream ended).
    pub status: Option<u16>,
    /// Interim responses (1xx but 101: `100 Continue`, `103 Early Hints`) before the final
    /// one, in order; at most 8 are kept.
    pub interim: Vec<u16>,
    /// Request head size.
    pub request_head_len: u64,
    /// Request body size (de-chunked).
    pub request_body_len: u64,
    /// Request body bytes on the wire (chunk framing included).
    pub request_wire_len: u64,
    /// Request body size after content decoding.
    pub request_decoded_len: Option<u64>,
    /// Response head size.
    pub response_head_len: u64,
    /// Response body size (de-chunked).
    pub response_body_len: u64,
    /// Response body bytes on the wire (chunk framing included).
    pub response_wire_len: u64,
    /// Response body size after content decoding.
    pub response_decoded_len: Option<u64>,
    /// The request was seen whole (body included).
    pub request_complete: bool,
    /// The final response was seen whole (false when the stream ended inside it).
    pub response_complete: bool,
    /// Both messages were complete.
    pub complete: bool,
}

/// The opening handshake of a WebSocket connection, as seen on a 101 response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WsHandshake {
    /// Time of the 101 response (HTTP/2: of the 2xx answering the extended CONNECT).
    pub ts_ns: i64,
    /// `Some(true)` when Sec-WebSocket-Accept matches the key, `Some(false)` on mismatch,
    /// `None` when the request was not seen, or the handshake has no key (HTTP/2's
    /// extended CONNECT, RFC 8441).
    pub accept_valid: Option<bool>,
    /// permessage-deflate as agreed in the response, if any.
    pub permessage_deflate: Option<PerMessageDeflate>,
}

impl WsHandshake {
    /// A handshake answered at `ts_ns`, for decoders outside this crate (HTTP/2's extended
    /// CONNECT answered with a 2xx).
    pub fn new(
        ts_ns: i64,
        accept_valid: Option<bool>,
        permessage_deflate: Option<PerMessageDeflate>,
    ) -> Self {
        WsHandshake {
            ts_ns,
            accept_valid,
            permessage_deflate,
        }
    }
}

/// The header of one WebSocket frame, reported as soon as it is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WsFrameInfo {
    /// Direction of the frame.
    pub dir: Direction,
    /// Time of the packet carrying the header.
    pub ts_ns: i64,
    /// Stream offset of the frame's first byte.
    pub offset: u64,
    /// Raw opcode (0..=15).
    pub opcode: u8,
    /// FIN bit.
    pub fin: bool,
    /// RSV1 (per-message compressed with permessage-deflate).
    pub rsv1: bool,
    /// MASK bit.
    pub masked: bool,
    /// Payload length from the header.
    pub payload_len: u64,
}

/// A message's payload: text is validated UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsPayload<'a> {
    /// A text message.
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
}

/// A complete WebSocket data message (fragments joined, unmasked, inflated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WsMessage<'a> {
    /// Direction.
    pub dir: Direction,
    /// Time of the packet that completed it.
    pub ts_ns: i64,
    /// Number of frames it took.
    pub frames: u32,
    /// It was compressed (permessage-deflate).
    pub compressed: bool,
    /// The payload.
    pub payload: WsPayload<'a>,
}

/// A control frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WsControl<'a> {
    /// Direction.
    pub dir: Direction,
    /// Time of the packet that completed it.
    pub ts_ns: i64,
    /// Which control frame.
    pub kind: WsControlKind<'a>,
}

/// The control frame kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsControlKind<'a> {
    /// Ping with its application data.
    Ping(&'a [u8]),
    /// Pong with its application data.
    Pong(&'a [u8]),
    /// Close with its status code and reason (both absent for an empty payload).
    Close {
        /// Status code.
        code: Option<u16>,
        /// Reason text (empty when invalid UTF-8; the error is reported separately).
        reason: &'a str,
    },
}

/// A head that could not be parsed: its first line as sent, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BadHead<'a> {
    /// Request or response side.
    pub dir: Direction,
    /// Time of the bytes that showed it.
    pub ts_ns: i64,
    /// Stream offset of the head's first byte.
    pub offset: u64,
    /// The head's first line, without its line ending, cut at [`BadHead::MAX_LINE`] bytes.
    pub line: &'a [u8],
    /// The line was longer and was cut.
    pub cut: bool,
    /// Why the head could not be parsed.
    pub error: HttpError,
}

impl BadHead<'_> {
    /// Longest first line reported.
    pub const MAX_LINE: usize = 200;
}

/// Everything an [`crate::HttpSession`] reports. Borrowed variants live only for the sink call.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HttpEvent<'a> {
    /// A request head.
    Request(RequestHead<'a>),
    /// The session found from the first bytes that the reassembler's "client" is the HTTP
    /// server (a capture picked up mid-stream): from this event on, directions are HTTP
    /// roles, the reverse of the TCP ones. Sent once, before any other event.
    RolesSwapped {
        /// Time of the bytes that showed it.
        ts_ns: i64,
    },
    /// A response head (final or interim 1xx).
    Response(ResponseHead<'a>),
    /// Trailer headers at the end of a chunked body.
    Trailers {
        /// Direction of the message.
        dir: Direction,
        /// Time.
        ts_ns: i64,
        /// The trailer fields.
        headers: Headers<'a>,
    },
    /// Body bytes: `decoded == false` are transfer-decoded (de-chunked) bytes, always reported;
    /// `decoded == true` are content-decoded bytes (only with `decode_content`).
    Body {
        /// Direction of the message.
        dir: Direction,
        /// Time of the packet carrying them.
        ts_ns: i64,
        /// The bytes.
        data: &'a [u8],
        /// Content-decoded or not.
        decoded: bool,
    },
    /// A request or response is complete.
    MessageComplete(MessageComplete),
    /// A request/response exchange is over (response complete, or stream ended).
    Transaction(TransactionRecord),
    /// Opaque bytes after CONNECT 2xx or a non-WebSocket 101.
    Tunnel {
        /// Direction.
        dir: Direction,
        /// Time.
        ts_ns: i64,
        /// The bytes.
        data: &'a [u8],
    },
    /// A WebSocket upgrade completed; both directions now carry frames.
    WsUpgrade(WsHandshake),
    /// A WebSocket frame header.
    WsFrame(WsFrameInfo),
    /// A complete WebSocket data message.
    WsMessage(WsMessage<'a>),
    /// A WebSocket control frame.
    WsControl(WsControl<'a>),
    /// A protocol error; decoding goes on (or stops for that direction when it cannot).
    Error(ProtocolError),
    /// A head that could not be parsed in a direction known to speak HTTP, as it was on the
    /// wire: reported with its [`HttpEvent::Error`], so that a transaction without a
    /// request (or response) can show what came instead.
    BadHead(BadHead<'a>),
}
