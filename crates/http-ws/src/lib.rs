//! Incremental HTTP/1.x and RFC 6455 WebSocket decoding over reassembled TCP streams.
//!
//! One [`HttpSession`] per TCP session is fed each direction's in-order bytes (any chunking,
//! directions interleaved in time order), lost-byte gaps and the end of each direction. It
//! reports [`HttpEvent`]s to a sink closure: heads and body bytes borrow the input, so nothing
//! is copied unless a head straddles chunks or content decoding is asked for.
//!
//! ```
//! use pcap_http_ws::{HttpConfig, HttpEvent, HttpSession};
//! use pcap_tcp_reassembly::Direction;
//!
//! let mut session = HttpSession::new(HttpConfig::default());
//! let mut seen = Vec::new();
//! let mut sink = |ev: HttpEvent<'_>| match ev {
//!     HttpEvent::Request(r) => seen.push(format!("{} {}", r.method, r.uri)),
//!     HttpEvent::Response(r) => seen.push(format!("{} {}", r.status, r.reason)),
//!     HttpEvent::Transaction(t) => seen.push(format!("body {}", t.response_body_len)),
//!     _ => {}
//! };
//! session.data(Direction::ClientToServer, 1, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n", &mut sink);
//! session.data(Direction::ServerToClient, 2, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", &mut sink);
//! assert_eq!(seen, ["GET /a", "200 OK", "body 2"]);
//! ```
//!
//! Detection is by content, not port: a direction that does not start with a plausible
//! request (client) or status line (server) is dropped after a few bytes, so non-HTTP
//! sessions cost almost nothing. Protocol errors are [`HttpEvent::Error`] events; decoding
//! goes on (or stops for that direction), never panics, and every buffer has a cap.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::indexing_slicing)]

mod chunked;
mod config;
mod content;
mod error;
mod event;
mod session;
mod transaction;
mod websocket;

pub use config::{HttpConfig, MAX_HEADERS};
pub use content::{Coding, ContentDecoder, Stop};
pub use error::{ErrorKind, HttpError, ProtocolError, WsError};
pub use event::{
    BadHead, HTTP2, HTTP09, Headers, HttpEvent, MessageComplete, RequestHead, ResponseHead,
    TransactionRecord, WsControl, WsControlKind, WsFrameInfo, WsHandshake, WsMessage, WsPayload,
    version_name,
};
pub use pcap_tcp_reassembly::Direction;
pub use session::HttpSession;
pub use transaction::{
    HeadBuffers, HeadRender, PackedHeaders, RequestView, ResponseView, Transaction,
    TransactionCollector, TransactionView,
};
pub use websocket::{PerMessageDeflate, WsDecoder, accept_key};

/// The README's examples, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
