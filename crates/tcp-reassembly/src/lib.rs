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
//!     wscale: None,
//!     payload,
//!     orig_payload_len: None,
//!     tunnel: 0,
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
//!
//! # Policies
//!
//! - **Sessions** are numbered from 0 in order of their first packet, like tshark's
//!   `tcp.stream`. Client: the sender of a SYN without ACK; if a SYN/ACK comes first, its
//!   receiver; for a session picked up mid-stream, the sender of the first packet
//!   (tshark's rule, so roles agree with Wireshark even when a port heuristic would guess
//!   better). A SYN without ACK whose sequence number differs from the first one seen in
//!   that direction starts a new session (port reuse, tshark's rule); with the same
//!   number it is a `SynRetry`.
//! - **Overlaps**: by default the first copy of a byte wins (BSD-like, tshark);
//!   [`Config::overlap_policy`] chooses another [`OverlapPolicy`] (last, or as a target's
//!   stack would). Re-sent bytes still held in the out-of-order buffer are compared: each
//!   held range overlapped with different bytes is an
//!   [`OverlapConflict`](EventKind::OverlapConflict) event saying which copy was kept, and
//!   the overlap as a whole a [`Retransmission`](EventKind::Retransmission) with
//!   [`Overlap::Different`]. Bytes already delivered are not kept, so overlaps with them are
//!   [`Overlap::Unchecked`] and the delivered copy stands whatever the policy.
//! - **RSTs** end a session only when the receiver's stack would accept them (RFC 9293
//!   §3.10.7, RFC 5961 §3.2): in SYN-SENT, one that acknowledges the SYN; later, one at the
//!   receiver's next expected sequence number. The others are
//!   [`RstIgnored`](EventKind::RstIgnored) events, their payload is dropped and the session
//!   goes on. The window is known only when both SYNs (and their window scale options)
//!   were seen; without it, as for a session picked up mid-stream, every RST is accepted.
//! - **Holes** become `Gap` events: when the peer acknowledges past them (the bytes were
//!   lost to the capture, not the network), when a buffer cap is hit, on RST, idle
//!   timeout, eviction and [`Reassembler::finish`]. Bytes cut off by the snapshot length
//!   are a gap too.
//! - **Time** is packet time only. The clock is the largest `min(previous, current)`
//!   timestamp, so one packet with a wild timestamp cannot time every session out.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::indexing_slicing)]

mod adapter;
mod budget;
mod config;
mod direction;
mod event;
mod key;
mod reassembler;
mod segment;
mod seq;
mod session;
mod stream;

pub use budget::MemoryBudget;
pub use config::{Config, OverlapPolicy, Stats};
pub use direction::{Direction, PerDir};
pub use event::{
    CloseReason, Event, EventKind, Overlap, RstIgnoredReason, SessionInfo, SessionState, StartKind,
};
pub use key::FlowKey;
pub use pcap_decode::tcp::TcpFlags;
pub use reassembler::{Assigned, Reassembler};
pub use segment::Segment;

#[cfg(test)]
mod tests;

/// The README's examples, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
