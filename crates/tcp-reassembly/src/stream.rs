//! One direction of a session: sequence numbers in, an ordered byte stream out.
//!
//! Sequence numbers are mapped to 64-bit stream offsets through a signed 32-bit
//! difference from the next expected sequence number (see [`crate::seq`]), so wraparound
//! at 2^32 needs no special case. In-order bytes are passed on borrowed from the segment;
//! only bytes ahead of a hole are copied, into a sorted list of non-overlapping chunks.

use std::collections::VecDeque;

use crate::seq::{SeqNum, StreamOffset, len64, span};
use crate::{Overlap, OverlapPolicy};

/// What a stream reports; the reassembler adds session, time and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report<'a> {
    Data {
        offset: StreamOffset,
        bytes: &'a [u8],
    },
    Gap {
        offset: StreamOffset,
        len: u64,
        cap: bool,
    },
    OutOfOrder {
        offset: StreamOffset,
        len: u64,
    },
    Retransmission {
        offset: StreamOffset,
        len: u64,
        overlap: Overlap,
    },
    OverlapConflict {
        offset: StreamOffset,
        len: u64,
        replaced: bool,
    },
    KeepAlive,
    ZeroWindowProbe,
    Fin {
        offset: StreamOffset,
    },
    Dropped {
        len: u64,
    },
}

/// One segment's share of a stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incoming<'a> {
    /// Sequence number of the first payload byte (after the SYN, if any).
    pub seq: SeqNum,
    /// Captured payload.
    pub data: &'a [u8],
    /// Payload length on the wire (>= `data.len()` when the capture cut it short).
    pub wire_len: usize,
    /// The segment carries a FIN.
    pub fin: bool,
    /// The receiver's last advertised window was zero.
    pub peer_window_zero: bool,
}

/// The limits a stream works under for one call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Bytes this stream may hold after the call (per-direction cap, lowered by the global cap).
    pub max_bytes: usize,
    /// Chunks this stream may hold.
    pub max_chunks: usize,
    /// Furthest a segment may start beyond the next expected byte.
    pub max_ahead: u32,
    /// Whether a peer ACK beyond a hole turns it into a gap.
    pub gap_on_ack: bool,
    /// Which copy wins a conflicting overlap with held bytes.
    pub policy: OverlapPolicy,
}

#[derive(Debug)]
struct Chunk {
    off: StreamOffset,
    data: Vec<u8>,
    /// Extent (start, end) of the segment that brought these bytes, for the target-based
    /// overlap policies; chunks of different segments are then not merged.
    seg: (i64, i64),
}

impl Chunk {
    fn end(&self) -> StreamOffset {
        self.off.add_len(self.data.len())
    }
}

/// Bits of [`HalfStream::flags`].
mod flag {
    /// The stream has a start (its offset 0 is known).
    pub const STARTED: u8 = 1;
    /// The FIN was reached: no more bytes.
    pub const FIN_DONE: u8 = 1 << 1;
    /// The last window this side advertised came on a SYN (never scaled).
    pub const WINDOW_ON_SYN: u8 = 1 << 2;
    /// This side's SYN was seen.
    pub const SYN_SEEN: u8 = 1 << 3;
    /// That SYN offered a window scale (the shift is in `syn_shift`).
    pub const SYN_WSCALE: u8 = 1 << 4;
    /// This side advertised a window (`window` holds the last one).
    pub const WINDOW_SEEN: u8 = 1 << 5;
}

/// One direction's byte stream. Booleans are bits of one byte, so that a live session's
/// two streams take 160 bytes.
#[derive(Debug, Default)]
pub(crate) struct HalfStream {
    /// [`flag`] bits.
    flags: u8,
    /// The window scale shift this side's SYN offered (with `flag::SYN_WSCALE`).
    syn_shift: u8,
    /// The last window this side advertised, unscaled.
    window: u16,
    /// Sequence number of stream offset 0.
    base: SeqNum,
    /// Next stream offset expected (everything below was delivered or reported as a gap).
    offset: StreamOffset,
    /// Stream offset of the FIN, once seen.
    fin: Option<StreamOffset>,
    /// Highest offset the peer acknowledged.
    acked: StreamOffset,
    chunks: VecDeque<Chunk>,
    buffered: usize,
}

impl HalfStream {
    fn has(&self, bit: u8) -> bool {
        self.flags & bit != 0
    }

    fn set(&mut self, bit: u8, on: bool) {
        if on {
            self.flags |= bit;
        } else {
            self.flags &= !bit;
        }
    }

    pub(crate) fn started(&self) -> bool {
        self.has(flag::STARTED)
    }

    pub(crate) fn fin_done(&self) -> bool {
        self.has(flag::FIN_DONE)
    }

    /// The last window this side advertised, unscaled, and whether it came on a SYN.
    pub(crate) fn window(&self) -> (u16, bool) {
        (self.window, self.has(flag::WINDOW_ON_SYN))
    }

    /// The last window this side advertised was zero.
    pub(crate) fn window_zero(&self) -> bool {
        self.has(flag::WINDOW_SEEN) && self.window == 0
    }

    /// Records the window of a segment this side sent.
    pub(crate) fn set_window(&mut self, window: u16, on_syn: bool) {
        self.window = window;
        self.set(flag::WINDOW_ON_SYN, on_syn);
        self.set(flag::WINDOW_SEEN, true);
    }

    /// Whether this side's SYN was seen, and with it the window scale shift it offered.
    pub(crate) fn syn_wscale(&self) -> Option<Option<u8>> {
        self.has(flag::SYN_SEEN)
            .then(|| self.has(flag::SYN_WSCALE).then_some(self.syn_shift))
    }

    /// Records this side's SYN and the window scale shift it offered.
    pub(crate) fn set_syn_wscale(&mut self, shift: Option<u8>) {
        self.set(flag::SYN_SEEN, true);
        self.set(flag::SYN_WSCALE, shift.is_some());
        self.syn_shift = shift.unwrap_or(0);
    }

    pub(crate) fn buffered(&self) -> usize {
        self.buffered
    }

    /// The receiver's next expected sequence number as far as the capture tells: the next
    /// byte not yet delivered, or one past the FIN once the FIN was reached.
    pub(crate) fn rcv_nxt(&self) -> SeqNum {
        let next = self.offset.seq(self.base);
        if self.fin_done() { next + 1 } else { next }
    }

    /// The sequence number of the highest offset the receiver acknowledged, when that is
    /// beyond the next expected byte (the receiver got bytes the capture missed).
    pub(crate) fn acked_beyond(&self) -> Option<SeqNum> {
        (self.acked > self.offset).then(|| self.acked.seq(self.base))
    }

    /// Starts the stream: `seq` is the sequence number of stream offset 0.
    pub(crate) fn start(&mut self, seq: SeqNum) {
        self.set(flag::STARTED, true);
        self.base = seq;
        self.offset = StreamOffset::ZERO;
    }

    /// Stream offset of `seq`, found from its distance to the next expected byte's
    /// sequence number; signed, as bytes before the start of a stream picked up
    /// mid-stream fall below 0.
    fn off_of(&self, seq: SeqNum) -> i64 {
        let next = self.offset.seq(self.base);
        self.offset
            .signed()
            .saturating_add(i64::from(seq.since(next)))
    }

    /// Handles one segment's payload (`seq` = sequence number of its first payload byte;
    /// `wire_len` >= `data.len()` when the capture cut the payload short).
    pub(crate) fn segment(
        &mut self,
        seg: Incoming<'_>,
        lim: Limits,
        out: &mut impl FnMut(Report<'_>),
    ) {
        let Incoming {
            seq,
            data,
            wire_len,
            fin,
            peer_window_zero,
        } = seg;
        // Signed positions: the segment may start before the stream does.
        let so = self.off_of(seq);
        let mut cur = self.offset.signed();
        let wl = i64::try_from(wire_len).unwrap_or(i64::MAX);
        if so.saturating_sub(cur) > i64::from(lim.max_ahead) {
            if wire_len > 0 {
                out(Report::Dropped {
                    len: len64(wire_len),
                });
            }
            return;
        }
        let end = so.saturating_add(wl);
        let new_fin = fin && !self.fin_done() && self.fin.is_none() && end >= cur;
        if end < cur || (end == cur && !new_fin) {
            // Nothing new: a pure ACK, a keep-alive or a retransmission.
            let from = so.max(0);
            if cur > 0 && so == cur.saturating_sub(1) && wire_len <= 1 && !fin {
                out(Report::KeepAlive);
            } else if end > from {
                out(Report::Retransmission {
                    offset: StreamOffset::from_signed(from),
                    len: u64::try_from(end.saturating_sub(from)).unwrap_or(0),
                    overlap: Overlap::Unchecked,
                });
            }
            return;
        }
        if self.fin_done() {
            out(Report::Dropped {
                len: u64::try_from(end.saturating_sub(so.max(cur))).unwrap_or(0),
            });
            return;
        }
        if new_fin {
            // `end >= cur >= 0`.
            self.fin = Some(StreamOffset::from_signed(end));
        }
        if so == cur && wire_len == 1 && peer_window_zero {
            out(Report::ZeroWindowProbe);
        }
        if so > cur && lim.gap_on_ack && self.acked.signed() >= so {
            // The peer acknowledged past the hole before this segment: it reached the peer
            // but not the capture, and no retransmission will fill it.
            let start = StreamOffset::from_signed(so);
            while self.offset < start && !self.fin_done() {
                let before = self.offset;
                self.skip_hole(Some(start), false, out);
                if self.offset == before {
                    break;
                }
            }
            cur = self.offset.signed();
            if self.fin_done() {
                return;
            }
        }
        if so > cur {
            self.ahead(
                StreamOffset::from_signed(so),
                data,
                (so, end),
                lim.policy,
                out,
            );
        } else {
            let old = usize::try_from(cur.saturating_sub(so)).unwrap_or(usize::MAX);
            let from = so.max(0);
            if cur > from {
                out(Report::Retransmission {
                    offset: StreamOffset::from_signed(from),
                    len: u64::try_from(cur.saturating_sub(from)).unwrap_or(0),
                    overlap: Overlap::Unchecked,
                });
            }
            let rest = data.get(old..).unwrap_or(&[]);
            self.in_order(
                rest,
                wire_len.saturating_sub(old),
                (so, end),
                lim.policy,
                out,
            );
        }
        self.enforce(lim, out);
    }

    /// Delivers bytes that start exactly at `self.offset`.
    fn in_order(
        &mut self,
        data: &[u8],
        wire_len: usize,
        seg: (i64, i64),
        policy: OverlapPolicy,
        out: &mut impl FnMut(Report<'_>),
    ) {
        let start = self.offset;
        let end = start.add_len(wire_len);
        let mut limit = end;
        if let Some(f) = self.fin {
            limit = limit.min(f);
        }
        if let Some(c) = self.chunks.front() {
            limit = limit.min(c.off);
        }
        let cap_end = start.add_len(data.len()).min(limit);
        if cap_end > start {
            let bytes = data.get(..span(start, cap_end)).unwrap_or(&[]);
            out(Report::Data {
                offset: start,
                bytes,
            });
            self.offset = cap_end;
        }
        if limit > self.offset {
            // The snapshot length cut these bytes off: they will never be seen.
            out(Report::Gap {
                offset: self.offset,
                len: limit.since(self.offset),
                cap: false,
            });
            self.offset = limit;
        }
        if end > self.offset {
            let beyond_fin = self.fin.is_some_and(|f| self.offset >= f);
            if beyond_fin {
                out(Report::Dropped {
                    len: end.since(self.offset),
                });
            } else {
                // The segment runs into buffered data: the policy decides where they
                // overlap, and the segment's bytes fill any holes between chunks.
                let skip = span(start, self.offset);
                if let Some(tail) = data.get(skip..) {
                    let at = self.offset;
                    self.insert(at, tail, seg, policy, out);
                }
            }
        }
        self.drain(out);
    }

    /// Buffers a segment starting beyond the next expected byte.
    fn ahead(
        &mut self,
        so: StreamOffset,
        data: &[u8],
        seg: (i64, i64),
        policy: OverlapPolicy,
        out: &mut impl FnMut(Report<'_>),
    ) {
        if data.is_empty() {
            return;
        }
        if self.fin.is_some_and(|f| so >= f) {
            out(Report::Dropped {
                len: len64(data.len()),
            });
            return;
        }
        out(Report::OutOfOrder {
            offset: so,
            len: len64(data.len()),
        });
        self.insert(so, data, seg, policy, out);
    }

    /// Copies `data` at stream offset `at` into the chunk list. Where it overlaps bytes
    /// already buffered, `policy` decides which copy stays (`seg` is the extent of the
    /// segment `data` comes from); each overlapped chunk with different bytes is reported,
    /// then the overlap as a whole.
    fn insert(
        &mut self,
        at: StreamOffset,
        data: &[u8],
        seg: (i64, i64),
        policy: OverlapPolicy,
        out: &mut impl FnMut(Report<'_>),
    ) {
        let end = at.add_len(data.len());
        let mut pos = at.max(self.offset);
        let mut i = self.chunks.partition_point(|c| c.end() <= pos);
        let mut same = 0u64;
        let mut first_overlap = None;
        let mut differ = false;
        let merge_any = !policy.target_based();
        while pos < end {
            let piece = data.get(span(at, pos)..span(at, end)).unwrap_or(&[]);
            match self.chunks.get_mut(i) {
                Some(c) if c.off <= pos => {
                    let ov_end = end.min(c.end());
                    let ours = piece.get(..span(pos, ov_end)).unwrap_or(&[]);
                    let theirs = c
                        .data
                        .get_mut(span(c.off, pos)..span(c.off, ov_end))
                        .unwrap_or_default();
                    if ours != theirs {
                        differ = true;
                        let replaced = policy.new_wins(seg, c.seg);
                        if replaced && ours.len() == theirs.len() {
                            theirs.copy_from_slice(ours);
                        }
                        out(Report::OverlapConflict {
                            offset: pos,
                            len: ov_end.since(pos),
                            replaced,
                        });
                    }
                    first_overlap.get_or_insert(pos);
                    same = same.saturating_add(ov_end.since(pos));
                    pos = ov_end;
                    i = i.saturating_add(1);
                }
                next => {
                    let piece_end = next.map_or(end, |c| end.min(c.off));
                    let bytes = piece.get(..span(pos, piece_end)).unwrap_or(&[]);
                    let extend = i
                        .checked_sub(1)
                        .and_then(|p| self.chunks.get_mut(p))
                        .filter(|prev| prev.end() == pos && (merge_any || prev.seg == seg));
                    match extend {
                        Some(prev) => prev.data.extend_from_slice(bytes),
                        None => {
                            self.chunks.insert(
                                i,
                                Chunk {
                                    off: pos,
                                    data: bytes.to_vec(),
                                    seg,
                                },
                            );
                            i = i.saturating_add(1);
                        }
                    }
                    self.buffered = self.buffered.saturating_add(bytes.len());
                    pos = piece_end;
                }
            }
        }
        if let Some(first) = first_overlap {
            out(Report::Retransmission {
                offset: first,
                len: same,
                overlap: if differ {
                    Overlap::Different
                } else {
                    Overlap::Same
                },
            });
        }
    }

    /// Delivers buffered chunks that have become contiguous with the delivered stream.
    fn drain(&mut self, out: &mut impl FnMut(Report<'_>)) {
        while self.chunks.front().is_some_and(|c| c.off <= self.offset) {
            let Some(c) = self.chunks.pop_front() else {
                break;
            };
            self.buffered = self.buffered.saturating_sub(c.data.len());
            let limit = self.fin.map_or(c.end(), |f| f.min(c.end()));
            if limit > self.offset {
                let bytes = c
                    .data
                    .get(span(c.off, self.offset)..span(c.off, limit))
                    .unwrap_or(&[]);
                out(Report::Data {
                    offset: self.offset,
                    bytes,
                });
                self.offset = limit;
            }
        }
        self.check_fin(out);
    }

    fn check_fin(&mut self, out: &mut impl FnMut(Report<'_>)) {
        if !self.fin_done() && self.fin == Some(self.offset) {
            self.set(flag::FIN_DONE, true);
            let dropped: usize = self.chunks.iter().map(|c| c.data.len()).sum();
            self.chunks.clear();
            self.buffered = 0;
            if dropped > 0 {
                out(Report::Dropped {
                    len: len64(dropped),
                });
            }
            out(Report::Fin {
                offset: self.offset,
            });
        }
    }

    /// Gives up on the first hole: reports it as a gap up to the first buffered chunk (or
    /// `upto`, whichever is first), then delivers what became contiguous.
    fn skip_hole(
        &mut self,
        upto: Option<StreamOffset>,
        cap: bool,
        out: &mut impl FnMut(Report<'_>),
    ) {
        let first_chunk = self.chunks.front().map(|c| c.off);
        let target = [first_chunk, upto, self.fin].into_iter().flatten().min();
        let Some(target) = target.filter(|&t| t > self.offset) else {
            self.drain(out);
            return;
        };
        out(Report::Gap {
            offset: self.offset,
            len: target.since(self.offset),
            cap,
        });
        self.offset = target;
        self.drain(out);
    }

    /// Skips holes until the buffer is within the limits.
    fn enforce(&mut self, lim: Limits, out: &mut impl FnMut(Report<'_>)) {
        while !self.chunks.is_empty()
            && (self.buffered > lim.max_bytes || self.chunks.len() > lim.max_chunks)
        {
            let before = (self.offset, self.chunks.len());
            self.skip_hole(None, true, out);
            if before == (self.offset, self.chunks.len()) {
                break;
            }
        }
    }

    /// The peer acknowledged up to `ack`: a hole entirely below it will never be filled.
    pub(crate) fn peer_ack(&mut self, ack: SeqNum, lim: Limits, out: &mut impl FnMut(Report<'_>)) {
        if !self.started() || self.fin_done() {
            return;
        }
        let a = self.off_of(ack);
        let cur = self.offset.signed();
        if a <= cur || a.saturating_sub(cur) > i64::from(lim.max_ahead) {
            return;
        }
        self.acked = self.acked.max(StreamOffset::from_signed(a));
        if !lim.gap_on_ack {
            return;
        }
        while self.chunks.front().is_some_and(|c| c.off <= self.acked) {
            let before = (self.offset, self.chunks.len());
            self.skip_hole(None, false, out);
            if before == (self.offset, self.chunks.len()) {
                break;
            }
        }
        // An ACK covering the FIN (FIN offset + 1) with bytes missing before it.
        if self.chunks.is_empty() && self.fin.is_some_and(|f| f < self.acked && f > self.offset) {
            self.skip_hole(None, false, out);
        }
    }

    /// End of the stream's life (end of input, timeout, eviction, RST): every hole becomes a
    /// gap, every buffered byte is delivered, and a FIN beyond a hole is reached.
    pub(crate) fn flush(&mut self, out: &mut impl FnMut(Report<'_>)) {
        if self.fin_done() {
            return;
        }
        while !self.chunks.is_empty() {
            let before = (self.offset, self.chunks.len());
            self.skip_hole(None, false, out);
            if before == (self.offset, self.chunks.len()) {
                break;
            }
        }
        if self.fin.is_some_and(|f| f > self.offset) {
            self.skip_hole(None, false, out);
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// A live session's two streams stay within 160 bytes: with 262 144 sessions at the cap,
    /// every byte here is 256 KiB of peak memory.
    #[test]
    fn two_streams_fit_160_bytes() {
        assert!(std::mem::size_of::<crate::PerDir<HalfStream>>() <= 160);
    }

    #[test]
    fn flags_are_independent() {
        let mut st = HalfStream::default();
        assert!(!st.window_zero() && st.syn_wscale().is_none());
        st.set_window(0, true);
        st.set_syn_wscale(Some(7));
        st.start(SeqNum(5));
        assert!(st.window_zero() && st.started() && !st.fin_done());
        assert_eq!((st.window(), st.syn_wscale()), ((0, true), Some(Some(7))));
        st.set_window(512, false);
        st.set_syn_wscale(None);
        assert!(!st.window_zero() && st.started());
        assert_eq!((st.window(), st.syn_wscale()), ((512, false), Some(None)));
    }
}
