//! UDP header (RFC 768).

use crate::bytes::be16;
use crate::error::{DecodeError, Layer, need};

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const LENGTH: usize = 4;
    pub const CHECKSUM: usize = 6;
}

/// Length of a UDP header.
pub const HEADER_LEN: usize = 8;

/// A checked UDP header view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpView<'a> {
    header: &'a [u8],
}

impl<'a> UdpView<'a> {
    /// Checks the header and its length field; returns the view and the payload, limited by the
    /// length field and by what was captured. A length of 0 (jumbogram) means the rest.
    pub fn parse(data: &'a [u8], offset: usize) -> Result<(Self, &'a [u8]), DecodeError> {
        let header = need(data, HEADER_LEN, Layer::Udp, offset)?;
        let len = usize::from(be16(header, field::LENGTH));
        let rest = data.get(HEADER_LEN..).unwrap_or_default();
        let payload = match len {
            0 => rest,
            1..HEADER_LEN => {
                return Err(DecodeError::Malformed {
                    layer: Layer::Udp,
                    field: "length",
                    value: len as u32,
                    offset,
                });
            }
            _ => rest.get(..len.saturating_sub(HEADER_LEN)).unwrap_or(rest),
        };
        Ok((UdpView { header }, payload))
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

    /// Length field (header plus payload).
    #[inline]
    pub fn length(&self) -> u16 {
        be16(self.header, field::LENGTH)
    }

    /// Checksum as written (0 = none, over IPv4).
    pub fn checksum(&self) -> u16 {
        be16(self.header, field::CHECKSUM)
    }
}
