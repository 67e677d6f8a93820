//! The frame check sequence some captures keep at the end of each frame (pcap's link-type FCS
//! bits, pcapng's `if_fcslen`, radiotap's FCS flag): splitting it off, so that it never reads
//! as payload, and checking Ethernet's CRC-32 (IEEE 802.3 clause 3.2.9).

/// Length of an Ethernet (and 802.11) FCS.
pub const LEN: usize = 4;

/// The CRC-32 table of the reflected IEEE polynomial 0xEDB88320, built at compile time.
// Evaluated by the compiler: an index out of bounds would fail the build, not a run.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// The CRC-32 of `data` (IEEE 802.3, as zlib computes it): what an Ethernet FCS holds,
/// least significant byte first.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = u32::MAX;
    for &b in data {
        // The index is 8 bits: always within the 256-entry table.
        let i = usize::from((c as u8) ^ b);
        c = TABLE.get(i).copied().unwrap_or(0) ^ (c >> 8);
    }
    !c
}

/// Splits a frame captured with `fcs_len` bytes of FCS into the frame and its FCS. A frame
/// shorter than that gives the frame back and no FCS; so does `fcs_len` 0.
pub fn split(frame: &[u8], fcs_len: usize) -> (&[u8], &[u8]) {
    match frame.len().checked_sub(fcs_len) {
        Some(at) if fcs_len > 0 => frame.split_at(at),
        _ => (frame, &[]),
    }
}

/// Whether `fcs` is the Ethernet FCS of `frame`; `None` when `fcs` is not 4 bytes long (an
/// FCS of another length is not Ethernet's CRC-32, and is only split off).
pub fn ethernet_ok(frame: &[u8], fcs: &[u8]) -> Option<bool> {
    let fcs: [u8; LEN] = fcs.try_into().ok()?;
    Some(u32::from_le_bytes(fcs) == crc32(frame))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        // The CRC catalogue's check value for CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn fcs_of_a_minimal_frame() {
        // A minimum-size frame of zeros; the CRC from Python's zlib.crc32(bytes(60)).
        let frame = [0u8; 60];
        assert_eq!(crc32(&frame), 0x0412_8908);
        let fcs = crc32(&frame).to_le_bytes();
        assert_eq!(ethernet_ok(&frame, &fcs), Some(true));
        let mut bad = fcs;
        bad[0] ^= 1;
        assert_eq!(ethernet_ok(&frame, &bad), Some(false));
        assert_eq!(ethernet_ok(&frame, &fcs[..2]), None);
    }

    #[test]
    fn split_keeps_short_frames_whole() {
        assert_eq!(split(b"abcdefgh", 4), (&b"abcd"[..], &b"efgh"[..]));
        assert_eq!(split(b"abc", 4), (&b"abc"[..], &b""[..]));
        assert_eq!(split(b"abc", 0), (&b"abc"[..], &b""[..]));
    }
}
