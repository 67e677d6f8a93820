//! TCP session tracking and ordered byte-stream reassembly with bounded memory.
//!
//! Push [`Segment`]s in capture order into a [`Reassembler`]; it tracks sessions by
//! canonical 4-tuple (IPv4 and IPv6), orders each direction's bytes, and reports
//! [`Event`]s to a sink: in-order `Data` borrowed from the segment (zero-copy), `Gap`s for
//! bytes that will never arrive, retransmissions, out-of-order segments, FIN, RST, and one
//! closing event per session carrying a [`SessionInfo`] summary. Out-of-order bytes are
//! copied into per-direction buffers whose size, chunk count and total are capped
//! ([`Config`]); hitting a cap turns the first hole into a gap instead of growing.
//!
//! ```
//! use pcap_tcp_reassembly::{EventKind, Reassembler, Segment, TcpFlags};
//! use std::net::{IpAddr, Ipv4Addr};
//!
//! let seg = |seq: u32, flags: TcpFlags, payload: &'static [u8]| Segment {
//!     ts_ns: 0,
//!     src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
//!     dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
//!     src_port: 40000,
//!     dst_port: 80,
//!     seq,
//!     ack: 0,
//!     flags,
//!     window: 512,
//!     payload,
//!     orig_payload_len: None,
//! };
//! let mut r = Reassembler::default();
//! let mut got = Vec::new();
//! let mut sink = |e: pcap_tcp_reassembly::Event<'_>| {
//!     if let EventKind::Data { bytes, .. } = e.kind {
//!         got.extend_from_slice(bytes);
//!     }
//! };
//! r.push(&seg(99, TcpFlags::SYN, b""), &mut sink);
//! r.push(&seg(106, TcpFlags::ACK, b"world"), &mut sink); // out of order: buffered
//! r.push(&seg(100, TcpFlags::ACK, b"hello "), &mut sink); // fills the hole
//! r.finish(&mut sink);
//! assert_eq!(got, b"hello world");
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::indexing_slicing)]

mod config;
mod direction;
mod event;
mod flags;
mod key;
mod reassembler;
mod segment;
mod stream;

pub use config::{Config, Stats};
pub use direction::Direction;
pub use event::{CloseReason, Event, EventKind, Overlap, SessionInfo, SessionState, StartKind};
pub use flags::TcpFlags;
pub use key::FlowKey;
pub use reassembler::{Assigned, Reassembler};
pub use segment::Segment;

#[cfg(test)]
mod tests;
