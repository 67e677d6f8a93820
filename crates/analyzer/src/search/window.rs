//! The last bytes of one stream direction, and the matches found in them.

use std::collections::VecDeque;
use std::ops::Range;

use super::WINDOW;
use super::matcher::Matcher;

/// Most segment times remembered per direction (to date a match by the segment that
/// completed it); older matches get the oldest time remembered. A window the budget cut
/// remembers fewer: see [`times_for`].
pub(super) const MAX_TIMES: usize = 256;

/// `hold_from` for [`Window::scan`] when no more bytes will come: nothing is held back.
pub(super) const LAST: u64 = u64::MAX;

/// What an allocation of `n` bytes takes from glibc's malloc: 8 bytes of header, rounded up
/// to 16, at least 32. Counting this rather than `n` keeps the budget close to the memory
/// used when the allocations are small, as they are with many sessions (a 45-byte buffer
/// takes 64).
pub(super) fn heap(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        n.saturating_add(8).next_multiple_of(16).max(32)
    }
}

/// Segment times a window of `window` bytes remembers: [`MAX_TIMES`] for a full
/// [`WINDOW`], one per 256 bytes of a smaller one, at least one (the list then costs at
/// most a 16th of the window).
pub(super) fn times_for(window: usize) -> usize {
    (window / (WINDOW / MAX_TIMES)).clamp(1, MAX_TIMES)
}

/// A match found in a window: where it is in the stream and the bytes around it.
#[derive(Debug)]
pub(super) struct Found<'a> {
    /// Stream offset of the match.
    pub(super) offset: u64,
    /// Time of the segment that brought the match's last byte.
    pub(super) ts_ns: i64,
    /// Stream offset of `context[0]`.
    pub(super) context_offset: u64,
    /// The match with its context.
    pub(super) context: &'a [u8],
    /// Where the match is in `context`.
    pub(super) matched: Range<usize>,
}

/// The last bytes of one stream direction.
#[derive(Debug, Default)]
pub(super) struct Window {
    pub(super) buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    start: u64,
    /// No match to report starts before this stream offset.
    pub(super) search_from: u64,
    /// (stream offset where a segment's bytes end, its packet time), oldest first.
    pub(super) times: VecDeque<(u64, i64)>,
}

impl Window {
    pub(super) fn end(&self) -> u64 {
        self.start.saturating_add(self.buf.len() as u64)
    }

    /// Starts afresh at `offset` (after a gap).
    pub(super) fn reset(&mut self, offset: u64) {
        self.buf.clear();
        self.times.clear();
        self.start = offset;
        self.search_from = offset;
    }

    /// Bytes its buffer and time list hold (their capacities, as allocated).
    pub(super) fn cost(&self) -> usize {
        heap(self.buf.capacity()) + heap(self.times.capacity() * size_of::<(u64, i64)>())
    }

    /// Adds in-order bytes. `window` is the direction's window now, `keep` the most bytes a
    /// trim to it keeps.
    pub(super) fn push(&mut self, bytes: &[u8], ts_ns: i64, window: usize, keep: usize) {
        let need = self.buf.len().saturating_add(bytes.len());
        if need > self.buf.capacity() {
            // Doubling keeps appends amortised O(1), but it is capped at what a trim keeps
            // plus this segment: a bounded pattern's buffer holds a few bytes between
            // segments, and would otherwise end at twice the segment size.
            let doubled = self.buf.capacity().saturating_mul(2);
            let target = need.max(doubled.min(need.saturating_add(keep)));
            self.buf.reserve_exact(target - self.buf.len());
        }
        self.buf.extend_from_slice(bytes);
        // Popped before the push and grown at most to `most`, so the list never doubles past
        // it (256 times take 4 KiB, not 8).
        let most = times_for(window);
        while self.times.len() >= most {
            self.times.pop_front();
        }
        if self.times.len() == self.times.capacity() {
            // From one, not four: most directions of short sessions see a segment or two.
            let room = most.saturating_sub(self.times.len()).max(1);
            self.times
                .reserve_exact(self.times.capacity().max(1).min(room));
        }
        self.times.push_back((self.end(), ts_ns));
    }

    /// The time of the segment that brought the byte before stream offset `end`.
    fn time_of(&self, end: u64) -> i64 {
        self.times
            .iter()
            .find(|(e, _)| *e >= end)
            .or(self.times.back())
            .map_or(0, |&(_, ts)| ts)
    }

    /// Reports the matches that are complete. A match starting at stream offset `hold_from`
    /// or later is held back while it touches the end of the window or its after-context
    /// has not arrived yet; one starting before is reported as it stands. `hold_from` is
    /// [`LAST`] when no more bytes will come, and where the window will start when the
    /// budget cut it (the trim would give such a match up, though it was found).
    pub(super) fn scan(&mut self, m: &Matcher, hold_from: u64, mut emit: impl FnMut(Found<'_>)) {
        let len = self.buf.len();
        let from = self.search_from.saturating_sub(self.start);
        let mut pos = usize::try_from(from).unwrap_or(usize::MAX).min(len);
        while pos <= len {
            let Some(found) = m.regex().find_at(&self.buf, pos) else {
                break;
            };
            if found.is_empty() {
                pos = found.end() + 1;
                continue;
            }
            // Held back when the bytes to come could still change it: it touches the end,
            // its after-context is incomplete, or (for a bounded pattern) a match starting
            // earlier, or a preferred alternative starting at the same byte (`abcd` in
            // `abcd|ab`, leftmost-first), could still be completed by them.
            let earlier_possible = m
                .max_len()
                .is_some_and(|l| found.start().saturating_add(l) > len);
            let may_hold = self.start + found.start() as u64 >= hold_from;
            if may_hold && (found.end().saturating_add(m.context.max(1)) > len || earlier_possible)
            {
                self.search_from = self.start + found.start() as u64;
                return;
            }
            let ctx = found.start().saturating_sub(m.context)
                ..found.end().saturating_add(m.context).min(len);
            emit(Found {
                offset: self.start + found.start() as u64,
                ts_ns: self.time_of(self.start + found.end() as u64),
                context_offset: self.start + ctx.start as u64,
                context: self.buf.get(ctx.clone()).unwrap_or_default(),
                matched: found.start() - ctx.start..found.end() - ctx.start,
            });
            pos = found.end();
        }
        // No match starts at `pos` or later yet. One may still end in bytes to come: from
        // anywhere for an unbounded pattern, only from the last `max_len - 1` bytes otherwise.
        let mut next = self.start + pos.min(len) as u64;
        if let Some(max) = m.max_len() {
            let tail = u64::try_from(max.saturating_sub(1)).unwrap_or(u64::MAX);
            next = next.max(self.end().saturating_sub(tail));
        }
        self.search_from = next;
    }

    /// Drops the bytes no future match or context needs, and any beyond the last `window`
    /// ([`WINDOW`] unless the budget cut it). Unless `eager`, the bytes are moved only once at
    /// least half the buffer can go, so each byte is moved a bounded number of times.
    pub(super) fn trim(&mut self, m: &Matcher, window: usize, eager: bool) {
        let end = self.end();
        let window_start = end.saturating_sub(window as u64);
        // A match starting before the window is given up (documented).
        self.search_from = self.search_from.max(window_start);
        let needed = self.search_from.saturating_sub(m.context.max(1) as u64);
        let keep_from = needed.max(window_start).max(self.start);
        let drop = usize::try_from(keep_from - self.start).unwrap_or(usize::MAX);
        if drop == 0 || (!eager && drop < self.buf.len() / 2) {
            return;
        }
        self.buf.drain(..drop.min(self.buf.len()));
        self.start = keep_from;
        while self.times.front().is_some_and(|&(e, _)| e <= keep_from) {
            self.times.pop_front();
        }
    }

    /// Trims to `window` now and gives the spare capacity back, so that the direction holds
    /// no more than its share of the budget until it is fed again, which may be never.
    pub(super) fn tighten(&mut self, m: &Matcher, window: usize) {
        self.trim(m, window, true);
        self.buf.shrink_to_fit();
        let most = times_for(window);
        while self.times.len() > most {
            self.times.pop_front();
        }
        self.times.shrink_to_fit();
    }
}
