//! Sequence numbers and stream offsets: the two ways a byte's position is counted.
//!
//! A [`SeqNum`] is what the wire carries, 32 bits that wrap; it is only ever compared
//! through a signed difference (RFC 1982 serial number arithmetic, as RFC 9293 §3.4 asks).
//! A [`StreamOffset`] counts bytes from the start of one direction's stream in 64 bits, so it
//! never wraps; the reassembler keeps its state in offsets and converts a segment's sequence
//! number once, relative to the next expected byte.

use std::ops::Add;

/// A TCP sequence or acknowledgement number: addition wraps at 2^32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct SeqNum(pub u32);

impl SeqNum {
    /// Signed distance from `other` to `self` modulo 2^32, in `-2^31..2^31`: positive when
    /// `self` comes after `other`.
    #[inline]
    pub(crate) fn since(self, other: SeqNum) -> i32 {
        // Reinterpreting the wrapped difference as signed is the point (RFC 1982).
        #[allow(clippy::cast_possible_wrap)]
        let d = self.0.wrapping_sub(other.0) as i32;
        d
    }
}

impl Add<u32> for SeqNum {
    type Output = SeqNum;

    /// The sequence number `n` bytes later, modulo 2^32.
    #[inline]
    fn add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }
}

/// A byte's position in one direction's stream: 0 is the first byte after the SYN (or the
/// first byte seen, for a stream picked up mid-stream). Arithmetic saturates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct StreamOffset(u64);

impl StreamOffset {
    /// The start of the stream.
    pub(crate) const ZERO: StreamOffset = StreamOffset(0);

    /// The offset as a number, for events.
    #[inline]
    pub(crate) fn get(self) -> u64 {
        self.0
    }

    /// The offset `n` bytes later.
    #[inline]
    pub(crate) fn add(self, n: u64) -> StreamOffset {
        StreamOffset(self.0.saturating_add(n))
    }

    /// The offset after `n` bytes from here.
    #[inline]
    pub(crate) fn add_len(self, n: usize) -> StreamOffset {
        self.add(len64(n))
    }

    /// Bytes from `start` to here (0 when `start` is later).
    #[inline]
    pub(crate) fn since(self, start: StreamOffset) -> u64 {
        self.0.saturating_sub(start.0)
    }

    /// The sequence number of this offset in a stream whose offset 0 is `base`.
    #[inline]
    pub(crate) fn seq(self, base: SeqNum) -> SeqNum {
        // Truncation to u32 is the point: sequence numbers are offsets modulo 2^32.
        #[allow(clippy::cast_possible_truncation)]
        let low = self.0 as u32;
        base + low
    }

    /// The offset as a signed number, for positions relative to it that may fall before
    /// the stream's start.
    #[inline]
    pub(crate) fn signed(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }

    /// The offset at a signed position; positions before the stream's start become 0.
    #[inline]
    pub(crate) fn from_signed(pos: i64) -> StreamOffset {
        StreamOffset(u64::try_from(pos).unwrap_or(0))
    }
}

/// A buffer length as a stream length.
#[inline]
pub(crate) fn len64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Bytes from `start` to `end`, as an index into a buffer holding them.
#[inline]
pub(crate) fn span(start: StreamOffset, end: StreamOffset) -> usize {
    usize::try_from(end.since(start)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_across_wraparound() {
        let near_end = SeqNum(u32::MAX - 9);
        let wrapped = near_end + 20;
        assert_eq!(wrapped, SeqNum(10));
        assert_eq!(wrapped.since(near_end), 20);
        assert_eq!(near_end.since(wrapped), -20);
        assert_eq!(SeqNum(0).since(SeqNum(1 << 31)), i32::MIN);
    }

    #[test]
    fn offsets_map_to_sequence_numbers_modulo_2_32() {
        let base = SeqNum(u32::MAX);
        assert_eq!(StreamOffset::ZERO.seq(base), base);
        assert_eq!(StreamOffset(1).seq(base), SeqNum(0));
        assert_eq!(StreamOffset(1 << 32).seq(base), base);
        let (a, b) = (StreamOffset(5), StreamOffset(9));
        assert_eq!((b.since(a), a.since(b), span(a, b)), (4, 0, 4));
        assert_eq!(a.add_len(4), b);
        assert_eq!(StreamOffset(u64::MAX).add(1).signed(), i64::MAX);
        assert_eq!(StreamOffset::from_signed(-3), StreamOffset::ZERO);
        assert_eq!(StreamOffset::from_signed(7).get(), 7);
    }
}
