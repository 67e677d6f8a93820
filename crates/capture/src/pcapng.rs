//! pcapng blocks: section header, interface description, packet blocks and options.
//!
//! Block layout per draft-ietf-opsawg-pcapng: type (4), total length (4), body, total length
//! again (4). Bodies are parsed here from a slice the reader has already bounded; packet data
//! is returned as a range into the body so the reader can hand out a borrow of its buffer.

#![warn(clippy::indexing_slicing)]

use std::ops::Range;

use nom::Parser;
use nom::number::Endianness;
use nom::number::complete::{i64 as nom_i64, u16, u32};

use crate::packet::LinkType;

/// Section Header Block type (the same in both byte orders).
pub(crate) const SHB: u32 = 0x0a0d_0d0a;
/// Interface Description Block type.
pub(crate) const IDB: u32 = 1;
/// Obsolete Packet Block type.
pub(crate) const PB: u32 = 2;
/// Simple Packet Block type.
pub(crate) const SPB: u32 = 3;
/// Enhanced Packet Block type.
pub(crate) const EPB: u32 = 6;
/// Decryption Secrets Block type.
pub(crate) const DSB: u32 = 10;
/// Byte-order magic in the section header.
pub(crate) const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
/// Smallest block: type, length, length.
pub(crate) const MIN_BLOCK_LEN: u32 = 12;
/// Smallest section header: 12 + byte-order magic, versions, section length.
pub(crate) const MIN_SHB_LEN: u32 = 28;
/// Block length cap: far above any real packet, low enough to bound memory on hostile input.
pub(crate) const MAX_BLOCK_LEN: u32 = 256 << 20;
/// Cap on interface descriptions per section (pcapng interface ids are 32-bit).
pub(crate) const MAX_INTERFACES: usize = 1 << 16;

/// Option codes we read.
mod option {
    pub(super) const END: u16 = 0;
    pub(super) const COMMENT: u16 = 1;
    pub(super) const IF_NAME: u16 = 2;
    pub(super) const IF_TSRESOL: u16 = 9;
    pub(super) const IF_FCSLEN: u16 = 13;
    pub(super) const IF_TSOFFSET: u16 = 14;
}

type NomErr<'a> = nom::Err<nom::error::Error<&'a [u8]>>;

/// Secrets a pcapng file carries in a Decryption Secrets Block, for decrypting its packets
/// (Wireshark's `editcap --inject-secrets` writes them; so does `capture -w --keylog`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecryptionSecrets {
    /// The secrets type: [`DecryptionSecrets::TLS_KEY_LOG`] for an NSS key log, or another
    /// (WireGuard, ZigBee, ...) which callers may ignore.
    pub kind: u32,
    /// The secrets as stored (for a TLS key log: the key log file's text).
    pub data: Vec<u8>,
}

impl DecryptionSecrets {
    /// `TLSK`: an NSS key log (`SSLKEYLOGFILE` format).
    pub const TLS_KEY_LOG: u32 = 0x544c_534b;

    /// Secrets of type `kind`.
    pub fn new(kind: u32, data: Vec<u8>) -> DecryptionSecrets {
        DecryptionSecrets { kind, data }
    }
}

/// A Decryption Secrets Block body: secrets type, secrets length, secrets (padded), options.
pub(crate) fn parse_dsb(body: &[u8], endian: Endianness) -> Option<DecryptionSecrets> {
    let (rest, (kind, len)) = (u32::<_, nom::error::Error<&[u8]>>(endian), u32(endian))
        .parse(body)
        .ok()?;
    let data = rest.get(..usize::try_from(len).ok()?)?;
    Some(DecryptionSecrets::new(kind, data.to_vec()))
}

/// An interface described by an Interface Description Block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Interface {
    /// Link-layer type of this interface's packets.
    pub link_type: LinkType,
    /// Snapshot length (0 = unlimited).
    pub snaplen: u32,
    /// `if_tsresol`: bit 7 clear = 10^-n seconds per unit, set = 2^-n (default 6: microseconds).
    pub ts_resolution: u8,
    /// `if_tsoffset`: seconds added to every timestamp (default 0).
    pub ts_offset_s: i64,
    /// `if_fcslen`: bytes of frame check sequence at the end of each frame (default 0).
    pub fcs_len: u8,
}

impl Interface {
    /// An interface with the default microsecond resolution and no offset.
    pub fn new(link_type: LinkType, snaplen: u32) -> Interface {
        Interface {
            link_type,
            snaplen,
            ts_resolution: 6,
            ts_offset_s: 0,
            fcs_len: 0,
        }
    }

    /// Converts a timestamp in this interface's units to nanoseconds since the epoch,
    /// saturating at the range of `i64` (about 1677 to 2262).
    #[inline]
    pub fn ts_to_ns(&self, units: u64) -> i64 {
        let units = i128::from(units);
        let exp = u32::from(self.ts_resolution & 0x7f);
        let ns = if self.ts_resolution & 0x80 == 0 {
            match exp {
                0..=9 => units * 10i128.pow(9 - exp),
                10..=47 => units / 10i128.pow(exp - 9),
                _ => 0,
            }
        } else {
            (units * 1_000_000_000) >> exp
        };
        let total = ns + i128::from(self.ts_offset_s) * 1_000_000_000;
        i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
    }
}

/// Lazily iterates over the options of a block (code, value); stops at `opt_endofopt`, at
/// the end of the bytes, or at the first option whose length runs past the end.
#[derive(Debug, Clone)]
pub(crate) struct Options<'a> {
    rest: &'a [u8],
    endian: Endianness,
}

impl<'a> Options<'a> {
    pub(crate) fn new(bytes: &'a [u8], endian: Endianness) -> Options<'a> {
        Options {
            rest: bytes,
            endian,
        }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let (rest, (code, len)) = (u16(self.endian), u16(self.endian))
            .parse(self.rest)
            .map_err(|_: NomErr<'a>| ())
            .ok()?;
        let len = usize::from(len);
        let padded = len.next_multiple_of(4);
        if code == option::END || rest.len() < padded {
            self.rest = &[];
            return None;
        }
        let (value, _) = rest.split_at(len);
        self.rest = rest.get(padded..).unwrap_or_default();
        Some((code, value))
    }
}

/// The first `opt_comment` among `options`.
pub(crate) fn first_comment(options: Options<'_>) -> Option<&[u8]> {
    options
        .filter(|(code, _)| *code == option::COMMENT)
        .map(|(_, v)| v)
        .next()
}

/// A section header's byte order, from the byte-order magic read big-endian.
pub(crate) fn byte_order(magic_be: u32) -> Option<Endianness> {
    match magic_be {
        BYTE_ORDER_MAGIC => Some(Endianness::Big),
        m if m == BYTE_ORDER_MAGIC.swap_bytes() => Some(Endianness::Little),
        _ => None,
    }
}

/// Parses a section header body (after the 12 bytes of type, length and byte-order magic):
/// the major and minor version.
pub(crate) fn parse_shb_versions(body: &[u8], endian: Endianness) -> Option<(u16, u16)> {
    let (_, (major, minor, _section_len)) = (u16(endian), u16(endian), nom_i64(endian))
        .parse(body)
        .map_err(|_: NomErr<'_>| ())
        .ok()?;
    Some((major, minor))
}

/// Parses an Interface Description Block body.
pub(crate) fn parse_idb(body: &[u8], endian: Endianness) -> Option<Interface> {
    let (opts, (link_type, _reserved, snaplen)) = (u16(endian), u16(endian), u32(endian))
        .parse(body)
        .map_err(|_: NomErr<'_>| ())
        .ok()?;
    let mut iface = Interface::new(LinkType(link_type), snaplen);
    for (code, value) in Options::new(opts, endian) {
        match code {
            option::IF_TSRESOL => {
                if let Some(&r) = value.first() {
                    iface.ts_resolution = r;
                }
            }
            option::IF_FCSLEN => {
                if let Some(&n) = value.first() {
                    iface.fcs_len = n;
                }
            }
            option::IF_TSOFFSET => {
                if let Ok((_, off)) = nom_i64::<_, nom::error::Error<&[u8]>>(endian)(value) {
                    iface.ts_offset_s = off;
                }
            }
            _ => {}
        }
    }
    Some(iface)
}

/// Longest interface name kept from an IDB's `if_name` option (Linux allows 15 bytes,
/// Windows NPF names run to about 50).
pub const MAX_INTERFACE_NAME: usize = 256;

/// The `if_name` option of an Interface Description Block body, as text (invalid UTF-8
/// replaced, cut at [`MAX_INTERFACE_NAME`] bytes, trailing NULs dropped).
pub(crate) fn idb_name(body: &[u8], endian: Endianness) -> Option<String> {
    // Link type, reserved and snap length come before the options.
    const FIXED: usize = 8;
    let opts = body.get(FIXED..)?;
    let (_, value) = Options::new(opts, endian).find(|(code, _)| *code == option::IF_NAME)?;
    let value = value.get(..MAX_INTERFACE_NAME).unwrap_or(value);
    let end = value.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    Some(String::from_utf8_lossy(value.get(..end).unwrap_or_default()).into_owned())
}

/// A packet block's fields, with data and options as ranges into the block body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PacketFields {
    pub(crate) interface: u32,
    /// Timestamp in interface units, `None` for simple packet blocks (which have none).
    pub(crate) ts: Option<u64>,
    pub(crate) caplen: u32,
    pub(crate) orig_len: u32,
    pub(crate) data: Range<usize>,
    pub(crate) options: Range<usize>,
}

/// Why a packet block could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PacketBlockError {
    /// The fixed fields do not fit.
    Short,
    /// The captured length runs past the body.
    CaplenTooBig { caplen: u32, room: usize },
}

/// Parses an Enhanced Packet Block body (`obsolete` = the older Packet Block, whose interface
/// id is 16 bits followed by a 16-bit drop count).
pub(crate) fn parse_epb(
    body: &[u8],
    endian: Endianness,
    obsolete: bool,
) -> Result<PacketFields, PacketBlockError> {
    let fixed = |input| -> Result<(&[u8], u32), NomErr<'_>> {
        if obsolete {
            let (rest, (id, _drops)) = (u16(endian), u16(endian)).parse(input)?;
            Ok((rest, u32::from(id)))
        } else {
            u32(endian)(input)
        }
    };
    let (rest, interface) = fixed(body).map_err(|_| PacketBlockError::Short)?;
    let (rest, (ts_high, ts_low, caplen, orig_len)) =
        (u32(endian), u32(endian), u32(endian), u32(endian))
            .parse(rest)
            .map_err(|_: NomErr<'_>| PacketBlockError::Short)?;
    let start = body.len() - rest.len();
    let room = rest.len();
    let len = usize::try_from(caplen).unwrap_or(usize::MAX);
    if len > room {
        return Err(PacketBlockError::CaplenTooBig { caplen, room });
    }
    let opts_start = start + len.next_multiple_of(4).min(room);
    Ok(PacketFields {
        interface,
        ts: Some((u64::from(ts_high) << 32) | u64::from(ts_low)),
        caplen,
        orig_len,
        data: start..start + len,
        options: opts_start..body.len(),
    })
}

/// Parses a Simple Packet Block body: the captured length is the original length, cut to the
/// interface's snaplen and to the block.
pub(crate) fn parse_spb(
    body: &[u8],
    endian: Endianness,
    snaplen: u32,
) -> Result<PacketFields, PacketBlockError> {
    let (rest, orig_len) =
        u32::<_, nom::error::Error<&[u8]>>(endian)(body).map_err(|_| PacketBlockError::Short)?;
    let mut len = usize::try_from(orig_len)
        .unwrap_or(usize::MAX)
        .min(rest.len());
    if snaplen != 0 {
        len = len.min(usize::try_from(snaplen).unwrap_or(usize::MAX));
    }
    let start = body.len() - rest.len();
    Ok(PacketFields {
        interface: 0,
        ts: None,
        caplen: u32::try_from(len).unwrap_or(u32::MAX),
        orig_len,
        data: start..start + len,
        options: body.len()..body.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions() {
        let mut i = Interface::new(LinkType::ETHERNET, 0);
        assert_eq!(i.ts_to_ns(1_500_000), 1_500_000_000);
        i.ts_resolution = 9;
        assert_eq!(i.ts_to_ns(1_500_000_123), 1_500_000_123);
        i.ts_resolution = 0x80 | 10; // 1/1024 s
        assert_eq!(i.ts_to_ns(1536), 1_500_000_000);
        i.ts_resolution = 12; // picoseconds
        assert_eq!(i.ts_to_ns(1_000_000_000_000), 1_000_000_000);
        i.ts_offset_s = -1;
        assert_eq!(i.ts_to_ns(1_000_000_000_000), 0);
        i.ts_resolution = 0;
        assert_eq!(i.ts_to_ns(u64::MAX), i64::MAX);
    }

    #[test]
    fn options_stop_at_end_and_at_overrun() {
        // comment "hi" (padded), then end of options
        let bytes = [1, 0, 2, 0, b'h', b'i', 0, 0, 0, 0, 0, 0];
        let opts: Vec<_> = Options::new(&bytes, Endianness::Little).collect();
        assert_eq!(opts, vec![(1, &b"hi"[..])]);
        // length runs past the end: nothing
        let bad = [1, 0, 9, 0, b'h'];
        assert_eq!(Options::new(&bad, Endianness::Little).count(), 0);
    }

    #[test]
    fn epb_caplen_past_body_is_an_error() {
        let mut body = vec![0u8; 20];
        body[12] = 5; // caplen 5, no data
        assert_eq!(
            parse_epb(&body, Endianness::Little, false),
            Err(PacketBlockError::CaplenTooBig { caplen: 5, room: 0 })
        );
        assert_eq!(
            parse_epb(&body[..19], Endianness::Little, false),
            Err(PacketBlockError::Short)
        );
    }
}
