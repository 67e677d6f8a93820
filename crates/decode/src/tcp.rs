//! TCP header (RFC 9293) and its options (RFC 7323 window scale and timestamps, RFC 2018 SACK).

use std::fmt;
use std::ops::BitOr;

use crate::bytes::{be16, be32, u8_at};
use crate::error::{DecodeError, Layer, need};

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    pub const OFF_FLAGS: usize = 12;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
}

/// Length of a TCP header without options.
pub const MIN_HEADER_LEN: usize = 20;

/// TCP flags (the low 12 bits of the data-offset/flags word, reserved bits included), as a
/// bit set.
///
/// A newtype over the wire bits rather than a struct of booleans, so unknown combinations
/// pass through unchanged. The constants are sets of one flag; combine them with `|`:
/// ```
/// use pcap_decode::tcp::TcpFlags;
/// let syn_ack = TcpFlags::SYN | TcpFlags::ACK;
/// assert!(syn_ack.syn() && syn_ack.has(TcpFlags::ACK) && !syn_ack.fin());
/// assert_eq!(format!("{syn_ack} {syn_ack:?}"), "S. TcpFlags(ACK|SYN)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x001);
    /// Synchronise sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x002);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x004);
    /// Push function.
    pub const PSH: TcpFlags = TcpFlags(0x008);
    /// Acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x010);
    /// Urgent pointer is significant.
    pub const URG: TcpFlags = TcpFlags(0x020);
    /// ECN echo.
    pub const ECE: TcpFlags = TcpFlags(0x040);
    /// Congestion window reduced.
    pub const CWR: TcpFlags = TcpFlags(0x080);
    /// ECN nonce (RFC 3540, historic) / AccECN.
    pub const NS: TcpFlags = TcpFlags(0x100);

    /// Names in JSON/list order (most significant first), as tshark and tcpdump know them.
    pub const NAMES: [(TcpFlags, &'static str); 9] = [
        (Self::NS, "NS"),
        (Self::CWR, "CWR"),
        (Self::ECE, "ECE"),
        (Self::URG, "URG"),
        (Self::ACK, "ACK"),
        (Self::PSH, "PSH"),
        (Self::RST, "RST"),
        (Self::SYN, "SYN"),
        (Self::FIN, "FIN"),
    ];

    /// True when every flag of `mask` is set.
    #[inline]
    pub const fn has(self, mask: TcpFlags) -> bool {
        self.0 & mask.0 == mask.0
    }

    /// SYN set.
    #[inline]
    pub const fn syn(self) -> bool {
        self.has(Self::SYN)
    }
    /// ACK set.
    #[inline]
    pub const fn ack(self) -> bool {
        self.has(Self::ACK)
    }
    /// FIN set.
    #[inline]
    pub const fn fin(self) -> bool {
        self.has(Self::FIN)
    }
    /// RST set.
    #[inline]
    pub const fn rst(self) -> bool {
        self.has(Self::RST)
    }
    /// PSH set.
    #[inline]
    pub const fn psh(self) -> bool {
        self.has(Self::PSH)
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;

    #[inline]
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

/// Writes the set flags by name, most significant first, e.g. `TcpFlags(ACK|SYN)`; reserved
/// bits, if any, follow in hex (`TcpFlags(SYN|0x400)`).
impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TcpFlags(")?;
        let mut sep = "";
        for (bit, name) in TcpFlags::NAMES {
            if self.has(bit) {
                write!(f, "{sep}{name}")?;
                sep = "|";
            }
        }
        let known = TcpFlags::NAMES.iter().fold(0, |m, (bit, _)| m | bit.0);
        let rest = self.0 & !known;
        if rest != 0 {
            write!(f, "{sep}{rest:#x}")?;
        }
        f.write_str(")")
    }
}

/// Displays tcpdump's short form: `S`, `.` (ACK), `P`, `F`, `R`, `U`, `E`, `W`, e.g. `S.` for SYN-ACK.
impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const ORDER: [(TcpFlags, char); 8] = [
            (TcpFlags::SYN, 'S'),
            (TcpFlags::FIN, 'F'),
            (TcpFlags::PSH, 'P'),
            (TcpFlags::RST, 'R'),
            (TcpFlags::URG, 'U'),
            (TcpFlags::ECE, 'E'),
            (TcpFlags::CWR, 'W'),
            (TcpFlags::ACK, '.'),
        ];
        let mut any = false;
        for (bit, c) in ORDER {
            if self.has(bit) {
                fmt::Write::write_char(f, c)?;
                any = true;
            }
        }
        if !any {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// A checked TCP header view (options included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpView<'a> {
    header: &'a [u8],
}

impl<'a> TcpView<'a> {
    /// Checks the fixed header, the data offset and that the options were captured; returns
    /// the view and the payload (what was captured after the header).
    pub fn parse(data: &'a [u8], offset: usize) -> Result<(Self, &'a [u8]), DecodeError> {
        let fixed = need(data, MIN_HEADER_LEN, Layer::Tcp, offset)?;
        let doff = u8_at(fixed, field::OFF_FLAGS) >> 4;
        let hlen = usize::from(doff) * 4;
        if hlen < MIN_HEADER_LEN {
            return Err(DecodeError::Malformed {
                layer: Layer::Tcp,
                field: "data offset",
                value: u32::from(doff),
                offset,
            });
        }
        let header = need(data, hlen, Layer::Tcp, offset)?;
        Ok((TcpView { header }, data.get(hlen..).unwrap_or_default()))
    }

    /// Source port.
    #[inline]
    pub fn src_port(&self) -> u16 {
        be16(self.header, field::SRC_PORT)
    }

    /// Destination port.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(self.header, field::DST_PORT)
    }

    /// Raw sequence number (wraps: compare with `wrapping_sub` as `i32`).
    #[inline]
    pub fn seq(&self) -> u32 {
        be32(self.header, field::SEQ)
    }

    /// Raw acknowledgment number (meaningful when ACK is set).
    #[inline]
    pub fn ack(&self) -> u32 {
        be32(self.header, field::ACK)
    }

    /// Header length in bytes.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.header.len()
    }

    /// Flags, reserved bits included.
    #[inline]
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(be16(self.header, field::OFF_FLAGS) & 0x0fff)
    }

    /// Window field, unscaled.
    #[inline]
    pub fn window(&self) -> u16 {
        be16(self.header, field::WINDOW)
    }

    /// Checksum as written.
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.header, field::CHECKSUM)
    }

    /// Urgent pointer.
    #[inline]
    pub fn urgent(&self) -> u16 {
        be16(self.header, field::URGENT)
    }

    /// Option bytes.
    pub fn option_bytes(&self) -> &'a [u8] {
        self.header.get(MIN_HEADER_LEN..).unwrap_or_default()
    }

    /// Iterates over the options. `offset` is where this TCP header starts in the frame, so
    /// that a malformed option's error can locate it.
    pub fn options(&self, offset: usize) -> TcpOptions<'a> {
        TcpOptions {
            rest: self.option_bytes(),
            offset: offset.saturating_add(MIN_HEADER_LEN),
        }
    }

    /// The header bytes.
    pub fn header(&self) -> &'a [u8] {
        self.header
    }
}

/// TCP option kinds.
pub mod kind {
    /// End of option list.
    pub const EOL: u8 = 0;
    /// No operation (padding).
    pub const NOP: u8 = 1;
    /// Maximum segment size.
    pub const MSS: u8 = 2;
    /// Window scale.
    pub const WSCALE: u8 = 3;
    /// SACK permitted.
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK blocks.
    pub const SACK: u8 = 5;
    /// Timestamps.
    pub const TIMESTAMP: u8 = 8;
}

/// One TCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TcpOption<'a> {
    /// End of the option list; the iterator stops after it.
    Eol,
    /// Padding.
    Nop,
    /// Maximum segment size.
    Mss(u16),
    /// Window scale shift count.
    WindowScale(u8),
    /// SACK is permitted on this connection.
    SackPermitted,
    /// SACK blocks (left, right edges).
    Sack(SackBlocks<'a>),
    /// Timestamps: value and echo reply.
    Timestamp {
        /// TSval.
        val: u32,
        /// TSecr.
        ecr: u32,
    },
    /// Any other kind, skipped by its length.
    Unknown {
        /// Option kind.
        kind: u8,
        /// Option data (after kind and length).
        data: &'a [u8],
    },
}

/// The blocks of a SACK option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SackBlocks<'a>(&'a [u8]);

impl<'a> SackBlocks<'a> {
    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.0.len() / 8
    }

    /// True without blocks.
    pub fn is_empty(&self) -> bool {
        self.0.len() < 8
    }

    /// The (left edge, right edge) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + 'a {
        self.0.chunks_exact(8).map(|c| (be32(c, 0), be32(c, 4)))
    }
}

/// Iterator over TCP options; yields an error (then stops) on a malformed length.
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<TcpOption<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let kind = *self.rest.first()?;
        match kind {
            kind::EOL => {
                self.rest = &[];
                return Some(Ok(TcpOption::Eol));
            }
            kind::NOP => {
                self.rest = self.rest.get(1..).unwrap_or_default();
                self.offset = self.offset.saturating_add(1);
                return Some(Ok(TcpOption::Nop));
            }
            _ => {}
        }
        let at = self.offset;
        let len = self.rest.get(1).copied();
        let bad = |value: u32, field: &'static str| {
            Some(Err(DecodeError::Malformed {
                layer: Layer::TcpOption,
                field,
                value,
                offset: at,
            }))
        };
        let Some(len) = len else {
            self.rest = &[];
            return bad(u32::from(kind), "kind without length");
        };
        let ulen = usize::from(len);
        let Some(opt) = self.rest.get(..ulen).filter(|_| ulen >= 2) else {
            self.rest = &[];
            return bad(u32::from(len), "length");
        };
        let data = opt.get(2..).unwrap_or_default();
        let expect = |n: usize| ulen == n;
        let parsed = match kind {
            kind::MSS if expect(4) => TcpOption::Mss(be16(data, 0)),
            kind::WSCALE if expect(3) => TcpOption::WindowScale(u8_at(data, 0)),
            kind::SACK_PERMITTED if expect(2) => TcpOption::SackPermitted,
            kind::SACK if data.len() % 8 == 0 => TcpOption::Sack(SackBlocks(data)),
            kind::TIMESTAMP if expect(10) => TcpOption::Timestamp {
                val: be32(data, 0),
                ecr: be32(data, 4),
            },
            kind::MSS | kind::WSCALE | kind::SACK_PERMITTED | kind::SACK | kind::TIMESTAMP => {
                self.rest = &[];
                return bad(u32::from(len), "length");
            }
            _ => TcpOption::Unknown { kind, data },
        };
        self.rest = self.rest.get(ulen..).unwrap_or_default();
        self.offset = self.offset.saturating_add(ulen);
        Some(Ok(parsed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_display_like_tcpdump() {
        let f = |flags: TcpFlags| flags.to_string();
        assert_eq!(f(TcpFlags::SYN | TcpFlags::ACK), "S.");
        assert_eq!(f(TcpFlags::PSH | TcpFlags::ACK), "P.");
        assert_eq!(f(TcpFlags::FIN | TcpFlags::ACK), "F.");
        assert_eq!(f(TcpFlags::RST), "R");
        assert_eq!(f(TcpFlags(0)), "none");
    }

    #[test]
    fn flags_set_operations_and_debug() {
        let sa = TcpFlags::SYN | TcpFlags::ACK;
        assert!(sa.has(TcpFlags::SYN) && sa.has(TcpFlags::ACK) && sa.has(sa));
        assert!(!sa.has(TcpFlags::FIN) && !sa.has(TcpFlags::SYN | TcpFlags::FIN));
        assert_eq!(sa, TcpFlags(0x12));
        assert_eq!(format!("{sa:?}"), "TcpFlags(ACK|SYN)");
        assert_eq!(format!("{:?}", TcpFlags(0)), "TcpFlags()");
        assert_eq!(format!("{:?}", TcpFlags(0x502)), "TcpFlags(NS|SYN|0x400)");
    }

    #[test]
    fn every_prefix_of_a_header_is_an_exact_len_error() {
        let mut h = [0u8; 24];
        h[12] = 0x60; // data offset 6
        h[20..24].copy_from_slice(&[2, 4, 5, 0xb4]);
        for n in 0..h.len() {
            let required = if n < MIN_HEADER_LEN {
                MIN_HEADER_LEN
            } else {
                24
            };
            assert_eq!(
                TcpView::parse(&h[..n], 9).unwrap_err(),
                DecodeError::Len {
                    layer: Layer::Tcp,
                    required,
                    actual: n,
                    offset: 9
                }
            );
        }
        let (t, rest) = TcpView::parse(&h, 9).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            t.options(9).collect::<Vec<_>>(),
            vec![Ok(TcpOption::Mss(1460))]
        );
    }
}
