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

mod types;

use std::collections::{HashMap, VecDeque};

pub use types::{
    DefragConfig, DefragError, DefragEvent, DefragStats, DropReason, FragKey, Reassembled,
};

/// Bytes counted per stored run of fragment bytes on top of the bytes themselves: the
/// bookkeeping of one run.
pub const PIECE_OVERHEAD: usize = std::mem::size_of::<Piece>();

/// Most events kept for [`Defragmenter::take_events`]; later ones are only counted.
pub const MAX_QUEUED_EVENTS: usize = 256;

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
mod tests;
