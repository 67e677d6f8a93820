//! The whole chain in a few lines: a packet source, decoding, IP defragmentation, TCP
//! reassembly and per-session protocol detection, reporting to a [`Handler`] that
//! implements only what it needs.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use std::ops::ControlFlow;
//!
//! use pcap_analyzer::{Analyzer, Handler, Stream};
//! use pcap_capture::Source;
//! use pcap_http_ws::HttpEvent;
//!
//! struct Requests;
//! impl Handler for Requests {
//!     type Error = Infallible;
//!     fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<Infallible> {
//!         if let HttpEvent::Request(r) = event {
//!             println!("{} {} {}", stream.client, r.method, r.uri);
//!         }
//!         ControlFlow::Continue(())
//!     }
//! }
//!
//! let mut source = Source::open_file("capture.pcap")?;
//! Analyzer::default().run(&mut source, &mut Requests).map_err(|e| e.to_string())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Protocols are found by content, not port: see [`protocol`] for how a decoder of one's
//! own is registered next to the built-in HTTP/1.x and WebSocket one. [`search`] finds a
//! regular expression in the reassembled streams, matches split across segments included.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod analyzer;
mod handler;
mod http;
mod http2;
pub mod protocol;
pub mod search;
mod source;
mod tls;

pub use analyzer::{Analyzer, AnalyzerConfig};
pub use handler::{DefragNotice, Flow, Handler, Stream};
pub use http::HttpProtocol;
pub use http2::Http2Protocol;
/// The HTTP/2 decoder's events, as [`Handler::http2`] hears them.
pub use pcap_http2::H2Event as Http2Event;
pub use source::{PacketSource, RunError};
pub use tls::TlsProtocol;

/// The README's examples, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
