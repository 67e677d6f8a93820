//! Bounds-checked big-endian reads: out-of-range reads give zero instead of panicking.
//!
//! Views check their length once when built, so these reads are always in range in
//! practice; the fallback only exists so that no code path can panic.

#[inline]
pub(crate) fn u8_at(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at.wrapping_add(2)) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at.wrapping_add(4)) {
        Some(&[a, c, d, e]) => u32::from_be_bytes([a, c, d, e]),
        _ => 0,
    }
}

#[inline]
pub(crate) fn array<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = b.get(at..at.wrapping_add(N)) {
        out.copy_from_slice(s);
    }
    out
}

/// The ones'-complement sum of `data` (RFC 1071), folded to 16 bits, plus `initial`.
pub(crate) fn checksum_sum(initial: u32, data: &[u8]) -> u32 {
    let mut sum = u64::from(initial);
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        if let &[x, y] = c {
            sum = sum.wrapping_add(u64::from(u16::from_be_bytes([x, y])));
        }
    }
    if let &[last] = chunks.remainder() {
        sum = sum.wrapping_add(u64::from(u16::from_be_bytes([last, 0])));
    }
    while sum > 0xffff {
        // Cannot overflow: both halves are far below u64::MAX / 2.
        sum = (sum & 0xffff).wrapping_add(sum >> 16);
    }
    // Folded to 16 bits above, so the cast is lossless.
    sum as u32
}

/// The Internet checksum of `data` starting from partial sum `initial`.
pub(crate) fn checksum(initial: u32, data: &[u8]) -> u16 {
    // checksum_sum folds to 16 bits.
    !(checksum_sum(initial, data) as u16)
}
