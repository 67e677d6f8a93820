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
    /// True when the family was stored big-endian.
    pub big_endian: bool,
}

impl NullHeader {
    /// Parses a NULL header, whose byte order is the capturing host's: a value that only fits
    /// in the high half is taken as the other order (address families are small numbers).
    pub fn parse_null(data: &[u8]) -> Result<(NullHeader, &[u8]), DecodeError> {
        let raw: [u8; 4] = array(need(data, HEADER_LEN, Layer::Null, 0)?, 0);
        let le = u32::from_le_bytes(raw);
        let h = if le & 0xffff_0000 != 0 && le & 0xffff == 0 {
            NullHeader {
                family: u32::from_be_bytes(raw),
                big_endian: true,
            }
        } else {
            NullHeader {
                family: le,
                big_endian: false,
            }
        };
        Ok((h, data.get(HEADER_LEN..).unwrap_or_default()))
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
