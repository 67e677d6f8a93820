//! What goes into and comes out of the [`Defragmenter`](super::Defragmenter): the datagram
//! key, the limits, the counters, the events and errors, and a reassembled datagram.
#![warn(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[cfg(doc)]
use super::{Defragmenter, MAX_QUEUED_EVENTS, PIECE_OVERHEAD};

/// Identifies the datagram a fragment belongs to (RFC 791 / RFC 8200).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 protocol, or the IPv6 fragment header's next header.
    pub protocol: u8,
    /// Identification (16 bits in IPv4, 32 in IPv6).
    pub id: u32,
    /// The tunnel path the fragment came through ([`crate::Decoded::tunnel_path`]; 0 when
    /// not tunnelled), so that fragments with the same inner addresses and id in two tunnels
    /// (two VXLAN VNIs, two GRE keys) are not merged.
    pub tunnel: u64,
}

impl FragKey {
    /// Key of an IPv4 fragment.
    pub fn v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, id: u16) -> Self {
        FragKey {
            src: src.into(),
            dst: dst.into(),
            protocol,
            id: u32::from(id),
            tunnel: 0,
        }
    }
    /// Key of an IPv6 fragment.
    pub fn v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, id: u32) -> Self {
        FragKey {
            src: src.into(),
            dst: dst.into(),
            protocol: next_header,
            id,
            tunnel: 0,
        }
    }

    /// The same key for a fragment that came through the tunnel path `tunnel`.
    pub fn in_tunnel(self, tunnel: u64) -> Self {
        FragKey { tunnel, ..self }
    }
}

/// Limits, built from [`Default`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DefragConfig {
    /// An incomplete datagram is dropped this long (packet time) after its first fragment.
    /// Default 30 s, Linux's `ipfrag_time`.
    pub timeout_ns: i64,
    /// Largest reassembled payload accepted. Default 65535: the IPv4 total length and the
    /// IPv6 payload length are 16-bit fields.
    pub max_datagram_len: u32,
    /// Most datagrams under reassembly at once; a new one evicts the oldest. Default 1024.
    pub max_datagrams: usize,
    /// Most bytes held over all datagrams (fragment payload plus [`PIECE_OVERHEAD`] per
    /// stored run); more evicts the oldest. Default 4 MiB (Linux's `ipfrag_high_thresh`).
    pub max_buffered_bytes: usize,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            timeout_ns: 30_000_000_000,
            max_datagram_len: 65_535,
            max_datagrams: 1024,
            max_buffered_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Counters since the defragmenter was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DefragStats {
    /// Fragments accepted into a datagram.
    pub fragments: u64,
    /// Datagrams completed.
    pub reassembled: u64,
    /// Datagrams dropped because they timed out.
    pub expired: u64,
    /// Datagrams dropped to respect `max_datagrams` or `max_buffered_bytes`.
    pub evicted: u64,
    /// Fragments dropped because their datagram alone exceeded `max_buffered_bytes`.
    pub dropped_over_cap: u64,
    /// Datagrams dropped because they exceeded `max_datagram_len`.
    pub too_large: u64,
    /// Datagrams dropped because fragments disagreed on where the datagram ends.
    pub inconsistent: u64,
    /// Fragments whose every byte had already been received, identically.
    pub duplicates: u64,
    /// Fragments that overlapped earlier ones with different bytes (the earlier bytes were kept).
    pub overlaps: u64,
    /// Events not queued because the queue was full.
    pub events_dropped: u64,
}

/// Why a datagram was dropped before completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// No fragment completed it within the timeout.
    Timeout,
    /// Evicted to admit a new datagram under `max_datagrams`.
    DatagramCap,
    /// Evicted to stay under `max_buffered_bytes`.
    ByteCap,
}

/// Something that happened to a datagram other than the one a fragment completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DefragEvent {
    /// An incomplete datagram was dropped.
    Expired {
        /// The datagram.
        key: FragKey,
        /// Why.
        reason: DropReason,
        /// Fragment bytes freed.
        buffered_bytes: usize,
    },
    /// A fragment overlapped earlier bytes with different content; the earlier bytes were kept.
    ConflictingOverlap {
        /// The datagram.
        key: FragKey,
        /// Offset of the fragment.
        offset: u32,
    },
}

/// Why [`Defragmenter::push`] refused a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DefragError {
    /// The fragment ends past `max_datagram_len`; the datagram was dropped.
    #[error("ip fragment at offset {offset} ends at {end}, past the {max}-byte datagram limit")]
    TooLarge {
        /// Fragment offset.
        offset: u32,
        /// Where it ends.
        end: u64,
        /// The limit.
        max: u32,
    },
    /// The fragment disagrees with others on where the datagram ends; the datagram was dropped.
    #[error("ip fragment at offset {offset} conflicts with the datagram end {known_end}")]
    Inconsistent {
        /// Fragment offset.
        offset: u32,
        /// The end known from earlier fragments.
        known_end: u32,
    },
    /// The datagram needs more than `max_buffered_bytes` on its own; it was dropped.
    #[error("ip datagram needs {needed} buffered bytes, over the {max}-byte cap")]
    OverCap {
        /// Bytes it would hold.
        needed: usize,
        /// The cap.
        max: usize,
    },
}

/// A reassembled datagram, borrowed from the defragmenter until the next push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reassembled<'a> {
    /// The datagram.
    pub key: FragKey,
    /// The upper-layer payload (what follows the IPv4 header or the IPv6 fragment header).
    pub payload: &'a [u8],
    /// Fragments accepted into it.
    pub fragments: u32,
    /// Some fragment overlapped earlier bytes with different content.
    pub conflicting_overlap: bool,
    /// Packet time of its first fragment.
    pub first_ts_ns: i64,
}
