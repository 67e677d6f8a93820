//! Classic pcap: the 24-byte file header and the 16-byte record header.
//!
//! Layout per draft-ietf-opsawg-pcap: magic, version, reserved zone and sigfigs, snaplen,
//! link type (the low 16 bits; the upper bits carry FCS information we do not use).

#![warn(clippy::indexing_slicing)]

use nom::Parser;
use nom::number::Endianness;
use nom::number::complete::{u16, u32};

use crate::packet::LinkType;

/// Length of the file header.
pub(crate) const FILE_HEADER_LEN: usize = 24;
/// Length of a record header.
pub(crate) const RECORD_HEADER_LEN: usize = 16;
/// Record header length in the "modified" (Alexey Kuznetsov's patched libpcap) format: the
/// 16 bytes plus interface index (4), protocol (2), packet type (1) and padding (1).
pub(crate) const MODIFIED_RECORD_HEADER_LEN: usize = 24;
/// Magic of the "modified" format (microsecond timestamps), as written in the file's own
/// byte order.
pub(crate) const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;
/// Magic of microsecond files, as written in the file's own byte order.
pub(crate) const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// Magic of nanosecond files, as written in the file's own byte order.
pub(crate) const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// Version this crate writes (and the only one in use).
pub(crate) const VERSION: (u16, u16) = (2, 4);
/// Captured lengths up to this are accepted whatever the snaplen says (libpcap's and
/// Wireshark's maximum for ordinary link types).
pub(crate) const MIN_CAPLEN_LIMIT: u32 = 262_144;

/// What the file header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileHeader {
    pub(crate) endian: Endianness,
    pub(crate) nanos: bool,
    /// Bytes of each record header: 16, or 24 in the "modified" format.
    pub(crate) record_len: usize,
    pub(crate) snaplen: u32,
    pub(crate) link_type: LinkType,
    /// Bytes of FCS at the end of each frame (the link-type field's upper bits).
    pub(crate) fcs_len: u8,
}

/// The link-type field's flag saying its top 4 bits give the FCS length (libpcap's
/// `LT_FCS_LENGTH_PRESENT`; draft-ietf-opsawg-pcap section 4, bit P).
const FCS_LENGTH_PRESENT: u32 = 0x0400_0000;

/// Bytes of FCS a pcap link-type field declares: its top 4 bits count 16-bit words, when
/// the P bit says they are present.
pub(crate) fn fcs_len(network: u32) -> u8 {
    if network & FCS_LENGTH_PRESENT == 0 {
        return 0;
    }
    // At most 15 words: 30 bytes.
    ((network >> 28) as u8) * 2
}

/// Tells the byte order and precision from the first four bytes, read big-endian.
pub(crate) fn classify_magic(magic_be: u32) -> Option<(Endianness, bool)> {
    match magic_be {
        MAGIC_MICROS => Some((Endianness::Big, false)),
        MAGIC_NANOS => Some((Endianness::Big, true)),
        m if m == MAGIC_MICROS.swap_bytes() => Some((Endianness::Little, false)),
        m if m == MAGIC_NANOS.swap_bytes() => Some((Endianness::Little, true)),
        MAGIC_MODIFIED => Some((Endianness::Big, false)),
        m if m == MAGIC_MODIFIED.swap_bytes() => Some((Endianness::Little, false)),
        _ => None,
    }
}

/// Parses the 24-byte file header; `None` if too short or the magic is not a pcap one.
pub(crate) fn parse_file_header(input: &[u8]) -> Option<FileHeader> {
    let (rest, magic) = u32::<_, nom::error::Error<&[u8]>>(Endianness::Big)(input).ok()?;
    let (endian, nanos) = classify_magic(magic)?;
    let (_, (_major, _minor, _zone, _sigfigs, snaplen, network)) = (
        u16(endian),
        u16(endian),
        u32(endian),
        u32(endian),
        u32(endian),
        u32(endian),
    )
        .parse(rest)
        .map_err(|_: nom::Err<nom::error::Error<&[u8]>>| ())
        .ok()?;
    let modified = magic == MAGIC_MODIFIED || magic == MAGIC_MODIFIED.swap_bytes();
    Some(FileHeader {
        endian,
        nanos,
        record_len: if modified {
            MODIFIED_RECORD_HEADER_LEN
        } else {
            RECORD_HEADER_LEN
        },
        snaplen,
        link_type: LinkType((network & 0xffff) as u16),
        fcs_len: fcs_len(network),
    })
}

/// A record header: timestamp (seconds and fraction), captured and original length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    pub(crate) ts_sec: u32,
    pub(crate) ts_frac: u32,
    pub(crate) caplen: u32,
    pub(crate) orig_len: u32,
}

/// Parses a 16-byte record header; `None` if fewer than 16 bytes are given.
#[inline]
pub(crate) fn parse_record_header(input: &[u8], endian: Endianness) -> Option<RecordHeader> {
    let (_, (ts_sec, ts_frac, caplen, orig_len)) =
        (u32(endian), u32(endian), u32(endian), u32(endian))
            .parse(input)
            .map_err(|_: nom::Err<nom::error::Error<&[u8]>>| ())
            .ok()?;
    Some(RecordHeader {
        ts_sec,
        ts_frac,
        caplen,
        orig_len,
    })
}

/// Writes a file header in little-endian order.
pub(crate) fn file_header_bytes(nanos: bool, snaplen: u32, link_type: LinkType) -> [u8; 24] {
    let mut out = [0u8; FILE_HEADER_LEN];
    let magic = if nanos { MAGIC_NANOS } else { MAGIC_MICROS };
    let fields: [&[u8]; 7] = [
        &magic.to_le_bytes(),
        &VERSION.0.to_le_bytes(),
        &VERSION.1.to_le_bytes(),
        &0u32.to_le_bytes(),
        &0u32.to_le_bytes(),
        &snaplen.to_le_bytes(),
        &u32::from(link_type.0).to_le_bytes(),
    ];
    let mut at = 0;
    for f in fields {
        if let Some(dst) = out.get_mut(at..at + f.len()) {
            dst.copy_from_slice(f);
        }
        at += f.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_in_both_orders_and_precisions() {
        assert_eq!(classify_magic(0xa1b2c3d4), Some((Endianness::Big, false)));
        assert_eq!(
            classify_magic(0xd4c3b2a1),
            Some((Endianness::Little, false))
        );
        assert_eq!(classify_magic(0xa1b23c4d), Some((Endianness::Big, true)));
        assert_eq!(classify_magic(0x4d3cb2a1), Some((Endianness::Little, true)));
        assert_eq!(classify_magic(0x0a0d0d0a), None);
    }

    #[test]
    fn header_written_reads_back() {
        let bytes = file_header_bytes(true, 65535, LinkType::LINUX_SLL);
        let h = parse_file_header(&bytes);
        assert_eq!(
            h,
            Some(FileHeader {
                endian: Endianness::Little,
                nanos: true,
                record_len: RECORD_HEADER_LEN,
                snaplen: 65535,
                link_type: LinkType::LINUX_SLL,
                fcs_len: 0,
            })
        );
        assert_eq!(parse_file_header(&bytes[..23]), None);
    }
}
