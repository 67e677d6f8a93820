//! IPv4 and IPv6 fragment reassembly with a packet-time timeout and memory caps.
//!
//! [`Defragmenter`] takes plain data (a [`FragKey`], the fragment offset in bytes, the
//! more-fragments flag and the fragment payload), so it does not depend on any header view.
//! When a fragment completes its datagram, [`Defragmenter::push`] returns the contiguous
//! upper-layer payload, borrowed from an internal buffer that is reused for the next datagram.
//!
//! Policy: the first copy of a byte wins (as in BSD, Wireshark and Suricata's default); a
//! later fragment whose overlapping bytes differ is counted and reported as
//! [`DefragEvent::ConflictingOverlap`]. Incomplete datagrams expire [`DefragConfig::timeout_ns`]
//! after their first fragment, by packet time; when [`DefragConfig::max_datagrams`] or
//! [`DefragConfig::max_buffered_bytes`] would be exceeded the oldest datagram is evicted. Every
//! expiry and eviction is counted in [`DefragStats`] and queued as a [`DefragEvent`] (the
//! queue is bounded too: [`MAX_QUEUED_EVENTS`]).
//!
//! ```
//! use pcap_decode::defrag::{Defragmenter, FragKey};
//! use std::net::Ipv4Addr;
//! let key = FragKey::v4(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2), 17, 0x1ea0);
//! let mut d = Defragmenter::default();
//! assert!(d.push(0, key, 8, false, b"orld!").unwrap().is_none()); // last fragment first
//! let whole = d.push(1, key, 0, true, b"hello, w").unwrap().unwrap();
//! assert_eq!(whole.payload, b"hello, world!");
//! assert_eq!(d.stats().reassembled, 1);
//! ```
#![warn(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Bytes counted per stored run of fragment bytes on top of the bytes themselves: the
/// bookkeeping of one run.
pub const PIECE_OVERHEAD: usize = std::mem::size_of::<Piece>();

/// Most events kept for [`Defragmenter::take_events`]; later ones are only counted.
pub const MAX_QUEUED_EVENTS: usize = 256;

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
}

impl FragKey {
    /// Key of an IPv4 fragment.
    pub fn v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, id: u16) -> Self {
        FragKey {
            src: src.into(),
            dst: dst.into(),
            protocol,
            id: u32::from(id),
        }
    }
    /// Key of an IPv6 fragment.
    pub fn v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, id: u32) -> Self {
        FragKey {
            src: src.into(),
            dst: dst.into(),
            protocol: next_header,
            id,
        }
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

/// A stored run of bytes: `[start, end)` of the datagram, at `at` in the datagram's arena.
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: u32,
    end: u32,
    at: usize,
}

#[derive(Debug)]
struct Datagram {
    first_ts: i64,
    generation: u64,
    /// Non-overlapping, sorted by start.
    pieces: Vec<Piece>,
    arena: Vec<u8>,
    /// End of the datagram, known once the last fragment (MF = 0) arrived.
    end: Option<u32>,
    /// Bytes held, the sum of the pieces' lengths (pieces never overlap).
    covered: u32,
    /// What this datagram counts against `max_buffered_bytes`.
    held: usize,
    fragments: u32,
    conflicting_overlap: bool,
}

/// Stateful IPv4/IPv6 fragment reassembly (see the module docs).
#[derive(Debug, Default)]
pub struct Defragmenter {
    config: DefragConfig,
    table: HashMap<FragKey, Datagram>,
    /// Datagrams in creation order, with their generation; stale entries are skipped.
    order: VecDeque<(FragKey, u64)>,
    next_generation: u64,
    buffered: usize,
    out: Vec<u8>,
    stats: DefragStats,
    events: VecDeque<DefragEvent>,
}

impl Defragmenter {
    /// A defragmenter with the given limits.
    pub fn new(config: DefragConfig) -> Self {
        Defragmenter {
            config,
            ..Default::default()
        }
    }

    /// The counters.
    pub fn stats(&self) -> DefragStats {
        self.stats
    }

    /// Bytes currently held, counted as for `max_buffered_bytes` (never above it).
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Datagrams currently under reassembly (never above `max_datagrams`).
    pub fn pending_datagrams(&self) -> usize {
        self.table.len()
    }

    /// Takes the queued events (expiries, evictions, conflicting overlaps), oldest first.
    pub fn take_events(&mut self) -> impl Iterator<Item = DefragEvent> + '_ {
        self.events.drain(..)
    }

    fn event(&mut self, e: DefragEvent) {
        if self.events.len() < MAX_QUEUED_EVENTS {
            self.events.push_back(e);
        } else {
            self.stats.events_dropped = self.stats.events_dropped.saturating_add(1);
        }
    }

    fn remove(&mut self, key: &FragKey) -> Option<Datagram> {
        let d = self.table.remove(key)?;
        self.buffered = self.buffered.saturating_sub(d.held);
        Some(d)
    }

    fn drop_datagram(&mut self, key: FragKey, reason: DropReason) {
        if let Some(d) = self.remove(&key) {
            match reason {
                DropReason::Timeout => self.stats.expired = self.stats.expired.saturating_add(1),
                DropReason::DatagramCap | DropReason::ByteCap => {
                    self.stats.evicted = self.stats.evicted.saturating_add(1)
                }
            }
            self.event(DefragEvent::Expired {
                key,
                reason,
                buffered_bytes: d.held,
            });
        }
    }

    /// Drops every datagram whose first fragment is older than the timeout at `now_ns`.
    pub fn expire(&mut self, now_ns: i64) {
        while let Some(&(key, generation)) = self.order.front() {
            match self.table.get(&key) {
                Some(d) if d.generation == generation => {
                    if now_ns.saturating_sub(d.first_ts) <= self.config.timeout_ns {
                        break;
                    }
                    self.order.pop_front();
                    self.drop_datagram(key, DropReason::Timeout);
                }
                _ => {
                    self.order.pop_front();
                }
            }
        }
    }

    /// Evicts the oldest live datagram other than `keep`; false when there is none.
    fn evict_oldest(&mut self, keep: &FragKey, reason: DropReason) -> bool {
        let mut skipped = None;
        let mut evicted = false;
        while let Some((key, generation)) = self.order.pop_front() {
            let live = self
                .table
                .get(&key)
                .is_some_and(|d| d.generation == generation);
            if !live {
                continue;
            }
            if key == *keep {
                skipped = Some((key, generation));
                continue;
            }
            self.drop_datagram(key, reason);
            evicted = true;
            break;
        }
        if let Some(entry) = skipped {
            self.order.push_front(entry);
        }
        evicted
    }

    /// Keeps the order queue proportional to the table: completed datagrams leave stale entries.
    fn compact_order(&mut self) {
        let limit = self.table.len().saturating_mul(2).saturating_add(64);
        if self.order.len() > limit {
            let table = &self.table;
            self.order
                .retain(|(k, g)| table.get(k).is_some_and(|d| d.generation == *g));
        }
    }

    /// Adds one fragment: `offset_bytes` is the fragment offset in bytes (IPv4 field * 8),
    /// `more_fragments` the MF flag, `payload` the bytes after the IP header (IPv4) or the
    /// fragment header (IPv6). Returns the datagram when this fragment completes it.
    pub fn push(
        &mut self,
        ts_ns: i64,
        key: FragKey,
        offset_bytes: u32,
        more_fragments: bool,
        payload: &[u8],
    ) -> Result<Option<Reassembled<'_>>, DefragError> {
        self.expire(ts_ns);
        let max = self.config.max_datagram_len;
        let end64 = u64::from(offset_bytes).saturating_add(payload.len() as u64);
        if end64 > u64::from(max) {
            self.remove(&key);
            self.stats.too_large = self.stats.too_large.saturating_add(1);
            return Err(DefragError::TooLarge {
                offset: offset_bytes,
                end: end64,
                max,
            });
        }
        // end64 <= max_datagram_len (a u32), so this conversion is exact.
        let end = u32::try_from(end64).unwrap_or(u32::MAX);

        if !self.table.contains_key(&key) {
            while self.table.len() >= self.config.max_datagrams.max(1) {
                if !self.evict_oldest(&key, DropReason::DatagramCap) {
                    break;
                }
            }
            let generation = self.next_generation;
            self.next_generation = self.next_generation.wrapping_add(1);
            self.table.insert(
                key,
                Datagram {
                    first_ts: ts_ns,
                    generation,
                    pieces: Vec::new(),
                    arena: Vec::new(),
                    end: None,
                    covered: 0,
                    held: 0,
                    fragments: 0,
                    conflicting_overlap: false,
                },
            );
            self.order.push_back((key, generation));
            self.compact_order();
        }

        // Where the datagram ends must agree among fragments.
        let Some(d) = self.table.get_mut(&key) else {
            return Ok(None);
        };
        let max_seen = d.pieces.last().map_or(0, |p| p.end);
        let inconsistent = match (d.end, more_fragments) {
            (Some(known), _) if end > known => Some(known),
            (Some(known), false) if end != known => Some(known),
            (None, false) if end < max_seen => Some(max_seen),
            _ => None,
        };
        if let Some(known_end) = inconsistent {
            self.remove(&key);
            self.stats.inconsistent = self.stats.inconsistent.saturating_add(1);
            return Err(DefragError::Inconsistent {
                offset: offset_bytes,
                known_end,
            });
        }
        if !more_fragments {
            d.end = Some(end);
        }

        // First wins: find the gaps of [offset, end) not yet covered, and compare the rest.
        let mut gaps: Vec<(u32, u32)> = Vec::new();
        let mut conflict = false;
        let mut cursor = offset_bytes;
        // Pieces are sorted and disjoint: skip those ending before the fragment in O(log n).
        let first = d.pieces.partition_point(|p| p.end <= offset_bytes);
        for p in d.pieces.get(first..).unwrap_or_default() {
            if p.start >= end {
                break;
            }
            if p.start > cursor {
                gaps.push((cursor, p.start));
            }
            let (ov_start, ov_end) = (cursor.max(p.start), end.min(p.end));
            let old = d.arena.get(
                p.at.saturating_add((ov_start.saturating_sub(p.start)) as usize)
                    ..p.at
                        .saturating_add((ov_end.saturating_sub(p.start)) as usize),
            );
            let new = payload.get(
                (ov_start.saturating_sub(offset_bytes)) as usize
                    ..(ov_end.saturating_sub(offset_bytes)) as usize,
            );
            if old != new {
                conflict = true;
            }
            cursor = p.end;
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            gaps.push((cursor, end));
        }
        // Each stored run costs its bytes plus its bookkeeping, so tiny fragments cannot
        // hold many times the cap in overhead.
        let new_bytes: usize = gaps
            .iter()
            .map(|&(s, e)| (e.saturating_sub(s) as usize).saturating_add(PIECE_OVERHEAD))
            .fold(0, usize::saturating_add);

        // Caps on buffered bytes: evict older datagrams, or drop this one if it cannot fit.
        let needed = d.held.saturating_add(new_bytes);
        if needed > self.config.max_buffered_bytes {
            self.remove(&key);
            self.stats.dropped_over_cap = self.stats.dropped_over_cap.saturating_add(1);
            return Err(DefragError::OverCap {
                needed,
                max: self.config.max_buffered_bytes,
            });
        }
        while self.buffered.saturating_add(new_bytes) > self.config.max_buffered_bytes {
            if !self.evict_oldest(&key, DropReason::ByteCap) {
                break;
            }
        }

        let Some(d) = self.table.get_mut(&key) else {
            return Ok(None);
        };
        d.fragments = d.fragments.saturating_add(1);
        self.stats.fragments = self.stats.fragments.saturating_add(1);
        if gaps.is_empty() && !payload.is_empty() && !conflict {
            self.stats.duplicates = self.stats.duplicates.saturating_add(1);
        }
        for &(s, e) in &gaps {
            let bytes = payload
                .get(
                    (s.saturating_sub(offset_bytes)) as usize
                        ..(e.saturating_sub(offset_bytes)) as usize,
                )
                .unwrap_or_default();
            let at = d.pieces.partition_point(|p| p.start < s);
            let piece = Piece {
                start: s,
                end: e,
                at: d.arena.len(),
            };
            d.pieces.insert(at, piece);
            d.arena.extend_from_slice(bytes);
            d.covered = d.covered.saturating_add(e.saturating_sub(s));
        }
        self.buffered = self.buffered.saturating_add(new_bytes);
        d.held = d.held.saturating_add(new_bytes);
        if conflict {
            d.conflicting_overlap = true;
            self.stats.overlaps = self.stats.overlaps.saturating_add(1);
            self.event(DefragEvent::ConflictingOverlap {
                key,
                offset: offset_bytes,
            });
        }

        let Some(d) = self.table.get(&key) else {
            return Ok(None);
        };
        let complete = d.end.is_some_and(|total| d.covered == total);
        if !complete {
            return Ok(None);
        }
        let Some(d) = self.remove(&key) else {
            return Ok(None);
        };
        self.stats.reassembled = self.stats.reassembled.saturating_add(1);
        self.out.clear();
        self.out.resize(d.end.unwrap_or(0) as usize, 0);
        for p in &d.pieces {
            let len = (p.end.saturating_sub(p.start)) as usize;
            if let (Some(dst), Some(src)) = (
                self.out.get_mut(p.start as usize..p.end as usize),
                d.arena.get(p.at..p.at.saturating_add(len)),
            ) {
                dst.copy_from_slice(src);
            }
        }
        Ok(Some(Reassembled {
            key,
            payload: &self.out,
            fragments: d.fragments,
            conflicting_overlap: d.conflicting_overlap,
            first_ts_ns: d.first_ts,
        }))
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEC: i64 = 1_000_000_000;

    fn key(id: u32) -> FragKey {
        FragKey::v4(
            Ipv4Addr::new(192, 0, 2, 1),
            Ipv4Addr::new(192, 0, 2, 2),
            17,
            id as u16,
        )
    }

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    /// One fragment of a table case: (offset, more fragments, byte range of the payload).
    type Frag = (u32, bool, std::ops::Range<usize>);

    /// Feeds fragments of `data`; returns the datagram and the index of the completing fragment.
    fn run(d: &mut Defragmenter, data: &[u8], frags: &[Frag]) -> Option<(usize, Vec<u8>)> {
        let mut done = None;
        for (i, (off, mf, r)) in frags.iter().enumerate() {
            if let Some(out) = d
                .push(i as i64, key(1), *off, *mf, &data[r.clone()])
                .unwrap()
            {
                assert!(done.is_none(), "completed twice");
                done = Some((i, out.payload.to_vec()));
            }
        }
        done
    }

    #[test]
    fn table() {
        let data = payload(40);
        let cases: &[(&str, Vec<Frag>, Option<usize>, DefragStats)] = &[
            (
                "in order",
                vec![(0, true, 0..16), (16, true, 16..32), (32, false, 32..40)],
                Some(2),
                DefragStats {
                    fragments: 3,
                    reassembled: 1,
                    ..Default::default()
                },
            ),
            (
                "reversed",
                vec![(32, false, 32..40), (16, true, 16..32), (0, true, 0..16)],
                Some(2),
                DefragStats {
                    fragments: 3,
                    reassembled: 1,
                    ..Default::default()
                },
            ),
            (
                "duplicate before completion",
                vec![
                    (0, true, 0..16),
                    (0, true, 0..16),
                    (32, false, 32..40),
                    (16, true, 16..32),
                ],
                Some(3),
                DefragStats {
                    fragments: 4,
                    reassembled: 1,
                    duplicates: 1,
                    ..Default::default()
                },
            ),
            (
                "consistent overlap",
                vec![(0, true, 0..24), (16, true, 16..40 - 8), (8, false, 8..40)],
                Some(2),
                DefragStats {
                    fragments: 3,
                    reassembled: 1,
                    ..Default::default()
                },
            ),
            (
                "hole never filled",
                vec![(0, true, 0..8), (16, false, 16..40)],
                None,
                DefragStats {
                    fragments: 2,
                    ..Default::default()
                },
            ),
            (
                "unfragmented",
                vec![(0, false, 0..40)],
                Some(0),
                DefragStats {
                    fragments: 1,
                    reassembled: 1,
                    ..Default::default()
                },
            ),
        ];
        for (name, frags, completes, stats) in cases {
            let mut d = Defragmenter::default();
            let got = run(&mut d, &data, frags);
            assert_eq!(got.as_ref().map(|g| g.0), *completes, "{name}");
            if let Some((_, bytes)) = got {
                assert_eq!(bytes, data, "{name}");
                assert_eq!(d.buffered_bytes(), 0, "{name}");
                assert_eq!(d.pending_datagrams(), 0, "{name}");
            }
            assert_eq!(d.stats(), *stats, "{name}");
        }
    }

    #[test]
    fn conflicting_overlap_first_wins() {
        let mut d = Defragmenter::default();
        assert!(d.push(0, key(1), 0, true, &[1; 16]).unwrap().is_none());
        assert!(d.push(1, key(1), 8, true, &[2; 16]).unwrap().is_none());
        let out = d.push(2, key(1), 24, false, &[3; 8]).unwrap().unwrap();
        let mut want = vec![1; 16];
        want.extend([2; 8]);
        want.extend([3; 8]);
        assert_eq!(out.payload, want);
        assert!(out.conflicting_overlap);
        assert_eq!(out.fragments, 3);
        assert_eq!(d.stats().overlaps, 1);
        assert_eq!(
            d.take_events().collect::<Vec<_>>(),
            [DefragEvent::ConflictingOverlap {
                key: key(1),
                offset: 8
            }]
        );
    }

    #[test]
    fn timeout_by_packet_time() {
        let mut d = Defragmenter::default();
        d.push(0, key(1), 0, true, &[0; 8]).unwrap();
        d.push(10 * SEC, key(2), 0, true, &[0; 8]).unwrap();
        // 30 s after the first fragment the datagram is still alive; a nanosecond later it is not.
        d.expire(30 * SEC);
        assert_eq!(d.pending_datagrams(), 2);
        assert!(
            d.push(30 * SEC + 1, key(1), 8, false, &[0; 8])
                .unwrap()
                .is_none()
        );
        assert_eq!(d.stats().expired, 1);
        let ev: Vec<_> = d.take_events().collect();
        assert_eq!(
            ev,
            [DefragEvent::Expired {
                key: key(1),
                reason: DropReason::Timeout,
                buffered_bytes: 8 + PIECE_OVERHEAD
            }]
        );
        // The late last fragment started a new datagram of its own.
        assert_eq!(d.pending_datagrams(), 2);
        assert_eq!(d.buffered_bytes(), 2 * (8 + PIECE_OVERHEAD));
    }

    #[test]
    fn datagram_cap_evicts_oldest() {
        let cfg = DefragConfig {
            max_datagrams: 2,
            ..Default::default()
        };
        let mut d = Defragmenter::new(cfg);
        for id in 1..=3 {
            d.push(i64::from(id), key(id), 0, true, &[0; 8]).unwrap();
        }
        assert_eq!(d.pending_datagrams(), 2);
        assert_eq!(d.stats().evicted, 1);
        let ev: Vec<_> = d.take_events().collect();
        assert_eq!(
            ev,
            [DefragEvent::Expired {
                key: key(1),
                reason: DropReason::DatagramCap,
                buffered_bytes: 8 + PIECE_OVERHEAD
            }]
        );
        // Datagram 2 survived and still completes.
        assert!(d.push(4, key(2), 8, false, &[0; 8]).unwrap().is_some());
    }

    #[test]
    fn byte_cap_and_too_large() {
        let cfg = DefragConfig {
            max_buffered_bytes: 64,
            ..Default::default()
        };
        let mut d = Defragmenter::new(cfg);
        d.push(0, key(1), 0, true, &[0; 40]).unwrap();
        d.push(1, key(2), 0, true, &[0; 40]).unwrap();
        assert_eq!(d.buffered_bytes(), 40 + PIECE_OVERHEAD);
        assert_eq!(d.stats().evicted, 1);
        assert_eq!(
            d.push(2, key(3), 0, true, &[0; 72]).unwrap_err(),
            DefragError::OverCap {
                needed: 72 + PIECE_OVERHEAD,
                max: 64
            }
        );
        assert_eq!(d.stats().dropped_over_cap, 1);
        assert_eq!(
            d.push(3, key(2), 65_528, true, &[0; 16]).unwrap_err(),
            DefragError::TooLarge {
                offset: 65_528,
                end: 65_544,
                max: 65_535
            }
        );
        assert_eq!(d.pending_datagrams(), 0);
        assert_eq!(d.buffered_bytes(), 0);
    }

    #[test]
    fn inconsistent_end_drops_datagram() {
        let mut d = Defragmenter::default();
        d.push(0, key(1), 16, false, &[0; 8]).unwrap();
        assert_eq!(
            d.push(1, key(1), 16, true, &[0; 16]).unwrap_err(),
            DefragError::Inconsistent {
                offset: 16,
                known_end: 24
            }
        );
        d.push(2, key(1), 32, true, &[0; 8]).unwrap();
        assert_eq!(
            d.push(3, key(1), 0, false, &[0; 8]).unwrap_err(),
            DefragError::Inconsistent {
                offset: 0,
                known_end: 40
            }
        );
        assert_eq!(d.stats().inconsistent, 2);
        assert_eq!(d.buffered_bytes(), 0);
    }

    /// The most pieces a datagram can have: 8191 eight-byte fragments, every other one first,
    /// then the rest in reverse, so every insertion lands between existing pieces.
    #[test]
    fn eight_thousand_tiny_fragments() {
        let data = payload(8191 * 8);
        let frag = |i: usize| (i as u32 * 8, i < 8190, i * 8..i * 8 + 8);
        let order: Vec<usize> = (0..8191)
            .step_by(2)
            .chain((1..8191).step_by(2).rev())
            .collect();
        let frags: Vec<Frag> = order.into_iter().map(frag).collect();
        let mut d = Defragmenter::default();
        let (at, bytes) = run(&mut d, &data, &frags).unwrap();
        assert_eq!(at, 8190);
        assert_eq!(bytes, data);
    }

    /// One million fragments that never complete, each its own datagram: memory stays capped.
    #[test]
    fn million_never_completing_fragments_stay_bounded() {
        let cfg = DefragConfig {
            max_datagrams: 1000,
            max_buffered_bytes: 64 * 1024,
            ..Default::default()
        };
        let mut d = Defragmenter::new(cfg);
        let frag = [0xaa; 96];
        let mut peak = (0, 0);
        for i in 0..1_000_000u32 {
            let k = FragKey { id: i, ..key(0) };
            // All at the same packet time: only the caps, not the timeout, can free memory.
            d.push(0, k, 8, true, &frag).unwrap();
            peak = (
                peak.0.max(d.buffered_bytes()),
                peak.1.max(d.pending_datagrams()),
            );
            assert!(d.order.len() <= 2 * 1000 + 64 + 1);
            let _ = d.take_events();
        }
        assert!(peak.0 <= 64 * 1024, "buffered {}", peak.0);
        assert!(peak.1 <= 1000, "datagrams {}", peak.1);
        assert_eq!(d.stats().evicted, 1_000_000 - d.pending_datagrams() as u64);
        assert_eq!(d.stats().reassembled, 0);
    }

    proptest! {
        #[test]
        fn shuffled_duplicated_fragments_reassemble_exactly(
            len in 1usize..3000,
            cut in proptest::collection::vec(1usize..40, 1..64),
            dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
            seed in any::<u64>(),
        ) {
            let data = payload(len);
            // Cut at 8-byte multiples.
            let mut frags: Vec<Frag> = Vec::new();
            let mut at = 0;
            let mut sizes = cut.iter().cycle();
            while at < len {
                let end = (at + sizes.next().unwrap() * 8).min(len);
                frags.push((at as u32, end < len, at..end));
                at = end;
            }
            for d in &dups {
                frags.push(d.get(&frags).clone());
            }
            // Deterministic shuffle from the seed.
            let mut s = seed | 1;
            for i in (1..frags.len()).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                frags.swap(i, (s % (i as u64 + 1)) as usize);
            }
            let mut d = Defragmenter::default();
            let mut got = None;
            for (i, (off, mf, r)) in frags.iter().enumerate() {
                if let Some(out) = d.push(i as i64, key(9), *off, *mf, &data[r.clone()]).unwrap() {
                    prop_assert!(!out.conflicting_overlap);
                    got.get_or_insert(out.payload.to_vec());
                }
            }
            prop_assert_eq!(got, Some(data));
        }

        #[test]
        fn arbitrary_fragments_respect_caps(
            frags in proptest::collection::vec((0u32..4, 0u32..70_000, any::<bool>(), 0usize..3000), 0..200),
        ) {
            let cfg = DefragConfig { max_datagrams: 3, max_buffered_bytes: 8000, ..Default::default() };
            let mut d = Defragmenter::new(cfg);
            let bytes = payload(3000);
            for (i, (id, off, mf, n)) in frags.into_iter().enumerate() {
                let _ = d.push(i as i64 * SEC, key(id), off, mf, &bytes[..n]);
                prop_assert!(d.buffered_bytes() <= 8000);
                prop_assert!(d.pending_datagrams() <= 3);
            }
        }
    }
}
