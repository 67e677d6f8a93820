//! Linux "cooked" capture headers, versions 1 (LINKTYPE_LINUX_SLL) and 2 (LINKTYPE_LINUX_SLL2).

use crate::bytes::{be16, be32, u8_at};
use crate::error::{DecodeError, Layer, need};

/// Length of an SLL (v1) header.
pub const SLL_LEN: usize = 16;
/// Length of an SLL2 header.
pub const SLL2_LEN: usize = 20;

mod field {
    pub const V1_PKTTYPE: usize = 0;
    pub const V1_HATYPE: usize = 2;
    pub const V1_ADDR_LEN: usize = 4;
    pub const V1_ADDR: usize = 6;
    pub const V1_PROTOCOL: usize = 14;
    pub const V2_PROTOCOL: usize = 0;
    pub const V2_IFINDEX: usize = 4;
    pub const V2_HATYPE: usize = 8;
    pub const V2_PKTTYPE: usize = 10;
    pub const V2_ADDR_LEN: usize = 11;
    pub const V2_ADDR: usize = 12;
    pub const ADDR_MAX: usize = 8;
}

/// A cooked header of either version, reduced to the fields both carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SllView<'a> {
    header: &'a [u8],
    v2: bool,
}

impl<'a> SllView<'a> {
    /// Parses an SLL (v1) header.
    pub fn parse_v1(data: &'a [u8]) -> Result<(Self, &'a [u8]), DecodeError> {
        let header = need(data, SLL_LEN, Layer::Sll, 0)?;
        Ok((
            SllView { header, v2: false },
            data.get(SLL_LEN..).unwrap_or_default(),
        ))
    }

    /// Parses an SLL2 header.
    pub fn parse_v2(data: &'a [u8]) -> Result<(Self, &'a [u8]), DecodeError> {
        let header = need(data, SLL2_LEN, Layer::Sll2, 0)?;
        Ok((
            SllView { header, v2: true },
            data.get(SLL2_LEN..).unwrap_or_default(),
        ))
    }

    /// True for an SLL2 header.
    pub fn is_v2(&self) -> bool {
        self.v2
    }

    /// Packet type: 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us.
    pub fn packet_type(&self) -> u16 {
        if self.v2 {
            u16::from(u8_at(self.header, field::V2_PKTTYPE))
        } else {
            be16(self.header, field::V1_PKTTYPE)
        }
    }

    /// ARPHRD_ type of the interface (1 = Ethernet, 772 = loopback).
    pub fn hatype(&self) -> u16 {
        be16(
            self.header,
            if self.v2 {
                field::V2_HATYPE
            } else {
                field::V1_HATYPE
            },
        )
    }

    /// Protocol of the payload: an ether type (or a small Linux value for non-Ethernet payloads).
    pub fn protocol(&self) -> u16 {
        be16(
            self.header,
            if self.v2 {
                field::V2_PROTOCOL
            } else {
                field::V1_PROTOCOL
            },
        )
    }

    /// Interface index (SLL2 only).
    pub fn ifindex(&self) -> Option<u32> {
        self.v2.then(|| be32(self.header, field::V2_IFINDEX))
    }

    /// The link-layer source address (at most 8 bytes, as the header stores).
    pub fn addr(&self) -> &'a [u8] {
        let (len_at, addr_at) = if self.v2 {
            (field::V2_ADDR_LEN, field::V2_ADDR)
        } else {
            (field::V1_ADDR_LEN, field::V1_ADDR)
        };
        let len = if self.v2 {
            usize::from(u8_at(self.header, len_at))
        } else {
            usize::from(be16(self.header, len_at))
        };
        let len = len.min(field::ADDR_MAX);
        self.header
            .get(addr_at..addr_at.saturating_add(len))
            .unwrap_or_default()
    }
}
