//! BSD NULL (host byte order) and OpenBSD LOOP (network byte order) loopback headers.

use crate::bytes::array;
use crate::error::{DecodeError, Layer, need};

/// Length of the address-family header.
pub const HEADER_LEN: usize = 4;

/// Address families found in loopback headers.
pub mod family {
    /// AF_INET on every BSD and Linux.
    pub const INET: u32 = 2;
    /// AF_INET6 on NetBSD/OpenBSD.
    pub const INET6_BSD: u32 = 24;
    /// AF_INET6 on FreeBSD/DragonFly.
    pub const INET6_FREEBSD: u32 = 28;
    /// AF_INET6 on macOS.
    pub const INET6_DARWIN: u32 = 30;
}

/// A decoded loopback header: the address family in the byte order it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NullHeader {
    /// The address family.
    pub family: u32,
    /// True when the header was read big-endian (swapped from the little-endian reading).
    pub big_endian: bool,
}

impl NullHeader {
    /// Parses a NULL header, whose byte order is the capturing host's. The order is guessed
    /// the way Wireshark does (address families are small numbers; a 16-bit value may sit in
    /// either half), and a value above 1500 is an ether type rather than a family (see
    /// [`NullHeader::ethertype`]).
    pub fn parse_null(data: &[u8]) -> Result<(NullHeader, &[u8]), DecodeError> {
        let raw: [u8; 4] = array(need(data, HEADER_LEN, Layer::Null, 0)?, 0);
        let mut v = u32::from_le_bytes(raw);
        let mut big_endian = false;
        if v & 0xffff_0000 != 0 {
            if v & 0xff00_0000 == 0 && v & 0x00ff_0000 < 0x0006_0000 {
                v >>= 16;
            } else {
                v = v.swap_bytes();
                big_endian = true;
            }
        } else if v & 0xff == 0 && v & 0xff00 < 0x0600 {
            // A 16-bit big-endian value in the low half.
            v = u32::from((v as u16).swap_bytes());
            big_endian = true;
        }
        let h = NullHeader {
            family: v,
            big_endian,
        };
        Ok((h, data.get(HEADER_LEN..).unwrap_or_default()))
    }

    /// Some stacks put an ether type where the family belongs: a value above 1500 is read as
    /// one (its low 16 bits), as Wireshark does.
    pub fn ethertype(&self) -> Option<u16> {
        // Truncation to the low 16 bits is the point.
        (self.family > 1500).then_some(self.family as u16)
    }

    /// Parses a LOOP header (always network byte order).
    pub fn parse_loop(data: &[u8]) -> Result<(NullHeader, &[u8]), DecodeError> {
        let raw: [u8; 4] = array(need(data, HEADER_LEN, Layer::Null, 0)?, 0);
        let h = NullHeader {
            family: u32::from_be_bytes(raw),
            big_endian: true,
        };
        Ok((h, data.get(HEADER_LEN..).unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_in_either_byte_order_and_ethertypes() {
        let fam = |b: [u8; 4]| NullHeader::parse_null(&b).unwrap().0;
        assert_eq!(
            fam([2, 0, 0, 0]),
            NullHeader {
                family: 2,
                big_endian: false
            }
        );
        assert_eq!(
            fam([0, 0, 0, 2]),
            NullHeader {
                family: 2,
                big_endian: true
            }
        );
        assert_eq!(fam([0, 0, 0, 30]).family, 30);
        assert_eq!(
            fam([0, 2, 0, 0]).family,
            2,
            "16-bit family in the high half"
        );
        // Seen in null-loopback.pcap: an ether type in the low half of a big-endian word.
        assert_eq!(fam([0x0f, 0, 0x08, 0]).ethertype(), Some(0x0800));
        assert_eq!(fam([2, 0, 0, 0]).ethertype(), None);
        let loop_h = NullHeader::parse_loop(&[0, 0, 0, 24]).unwrap().0;
        assert_eq!(loop_h.family, 24);
    }
}
