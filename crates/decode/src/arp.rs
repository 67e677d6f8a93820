//! ARP (RFC 826), with typed accessors for the Ethernet/IPv4 form.

use std::net::Ipv4Addr;

use crate::bytes::{array, be16, u8_at};
use crate::error::{DecodeError, Layer, need};
use crate::ethernet::MacAddr;

mod field {
    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: usize = 6;
    pub const ADDRS: usize = 8;
}

/// Length of the fixed part of an ARP packet, before the addresses.
pub const FIXED_LEN: usize = field::ADDRS;

/// ARP operation: request.
pub const OP_REQUEST: u16 = 1;
/// ARP operation: reply.
pub const OP_REPLY: u16 = 2;

/// A checked ARP packet: the fixed part and all four addresses are present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpView<'a> {
    packet: &'a [u8],
}

impl<'a> ArpView<'a> {
    /// Checks the fixed part and the four addresses it announces; `offset` locates errors.
    pub fn parse(data: &'a [u8], offset: usize) -> Result<(Self, &'a [u8]), DecodeError> {
        let fixed = need(data, FIXED_LEN, Layer::Arp, offset)?;
        let hlen = usize::from(u8_at(fixed, field::HLEN));
        let plen = usize::from(u8_at(fixed, field::PLEN));
        // hlen, plen <= 255: at most 8 + 1020.
        let total = FIXED_LEN.saturating_add(hlen.saturating_add(plen).saturating_mul(2));
        let packet = need(data, total, Layer::Arp, offset)?;
        Ok((ArpView { packet }, data.get(total..).unwrap_or_default()))
    }

    /// Hardware type (1 = Ethernet).
    pub fn htype(&self) -> u16 {
        be16(self.packet, field::HTYPE)
    }

    /// Protocol type (0x0800 = IPv4).
    pub fn ptype(&self) -> u16 {
        be16(self.packet, field::PTYPE)
    }

    /// Operation: 1 request, 2 reply (others exist: RARP, InARP).
    pub fn op(&self) -> u16 {
        be16(self.packet, field::OPER)
    }

    fn hlen(&self) -> usize {
        usize::from(u8_at(self.packet, field::HLEN))
    }

    fn plen(&self) -> usize {
        usize::from(u8_at(self.packet, field::PLEN))
    }

    /// True for the Ethernet/IPv4 form, where the typed accessors below return `Some`.
    pub fn is_ethernet_ipv4(&self) -> bool {
        self.hlen() == 6 && self.plen() == 4
    }

    fn mac_at(&self, at: usize) -> Option<MacAddr> {
        (self.hlen() == 6).then(|| MacAddr(array(self.packet, at)))
    }

    fn ip_at(&self, at: usize) -> Option<Ipv4Addr> {
        (self.plen() == 4).then(|| Ipv4Addr::from(array::<4>(self.packet, at)))
    }

    /// Sender hardware address (Ethernet only).
    pub fn sender_mac(&self) -> Option<MacAddr> {
        self.mac_at(field::ADDRS)
    }

    /// Sender protocol address (IPv4 only).
    pub fn sender_ip(&self) -> Option<Ipv4Addr> {
        self.ip_at(field::ADDRS.saturating_add(self.hlen()))
    }

    /// Target hardware address (Ethernet only).
    pub fn target_mac(&self) -> Option<MacAddr> {
        self.mac_at(
            field::ADDRS
                .saturating_add(self.hlen())
                .saturating_add(self.plen()),
        )
    }

    /// Target protocol address (IPv4 only).
    pub fn target_ip(&self) -> Option<Ipv4Addr> {
        self.ip_at(
            field::ADDRS
                .saturating_add(self.hlen().saturating_mul(2))
                .saturating_add(self.plen()),
        )
    }
}
