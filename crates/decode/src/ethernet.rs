//! Ethernet II and IEEE 802.3 (with 802.2 LLC and SNAP) headers.

use std::fmt;

use crate::bytes::{array, be16, u8_at};
use crate::error::{DecodeError, Layer, need};

mod field {
    pub const DST: usize = 0;
    pub const SRC: usize = 6;
    pub const ETHERTYPE: usize = 12;
}

/// Length of an Ethernet II header.
pub const HEADER_LEN: usize = 14;

/// The largest value of the type/length field that is a length (IEEE 802.3); larger values are ether types.
pub const MAX_8023_LEN: u16 = 1500;

/// Well-known ether types this crate dispatches on.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service VLAN tag (QinQ).
    pub const QINQ: u16 = 0x88a8;
    /// Pre-standard QinQ tag used by some switches.
    pub const QINQ_OLD: u16 = 0x9100;
}

/// A 48-bit MAC address; displays as `aa:bb:cc:dd:ee:ff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The 17-byte text form (`aa:bb:cc:dd:ee:ff`), built without the formatting machinery
    /// because summaries and JSON print two per packet.
    pub fn to_text(&self) -> [u8; 17] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b':'; 17];
        for (i, b) in self.0.iter().enumerate() {
            let at = i.saturating_mul(3);
            if let Some(pair) = out.get_mut(at..at.saturating_add(2)) {
                pair.copy_from_slice(&[
                    HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
                    HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'),
                ]);
            }
        }
        out
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.to_text();
        // Only ASCII hex digits and colons.
        f.write_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

/// A checked view of an Ethernet header (the 14 bytes before the first VLAN tag or payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetView<'a> {
    header: &'a [u8],
}

impl<'a> EthernetView<'a> {
    /// Checks that `data` holds a full header; returns the view and the bytes after it.
    pub fn parse(data: &'a [u8]) -> Result<(Self, &'a [u8]), DecodeError> {
        let header = need(data, HEADER_LEN, Layer::Ethernet, 0)?;
        let rest = data.get(HEADER_LEN..).unwrap_or_default();
        Ok((EthernetView { header }, rest))
    }

    /// Destination address.
    #[inline]
    pub fn dst(&self) -> MacAddr {
        MacAddr(array(self.header, field::DST))
    }

    /// Source address.
    #[inline]
    pub fn src(&self) -> MacAddr {
        MacAddr(array(self.header, field::SRC))
    }

    /// The type/length field: an ether type when above 1500, else an 802.3 length.
    #[inline]
    pub fn ethertype(&self) -> u16 {
        be16(self.header, field::ETHERTYPE)
    }

    /// The header bytes.
    pub fn header(&self) -> &'a [u8] {
        self.header
    }
}

/// Length of an 802.2 LLC header (DSAP, SSAP, control).
pub const LLC_LEN: usize = 3;
/// Length of a SNAP extension after an LLC header (OUI, ether type).
pub const SNAP_LEN: usize = 5;
/// The SAP value announcing a SNAP header.
const SAP_SNAP: u8 = 0xaa;

/// An 802.2 LLC header (after an 802.3 length field), with its SNAP extension if present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Llc {
    /// Destination service access point.
    pub dsap: u8,
    /// Source service access point.
    pub ssap: u8,
    /// Control field (first byte).
    pub control: u8,
    /// SNAP organisation code and protocol id, when DSAP and SSAP are 0xaa.
    pub snap: Option<([u8; 3], u16)>,
}

impl Llc {
    /// Parses LLC (and SNAP) at `offset` in the frame; returns the header and the rest.
    pub fn parse(data: &[u8], offset: usize) -> Result<(Llc, &[u8]), DecodeError> {
        let h = need(data, LLC_LEN, Layer::Llc, offset)?;
        let (dsap, ssap, control) = (u8_at(h, 0), u8_at(h, 1), u8_at(h, 2));
        if dsap == SAP_SNAP && ssap == SAP_SNAP {
            let full = need(data, LLC_LEN + SNAP_LEN, Layer::Llc, offset)?;
            let oui = array(full, LLC_LEN);
            let proto = be16(full, LLC_LEN + 3);
            let rest = data.get(LLC_LEN + SNAP_LEN..).unwrap_or_default();
            return Ok((
                Llc {
                    dsap,
                    ssap,
                    control,
                    snap: Some((oui, proto)),
                },
                rest,
            ));
        }
        let rest = data.get(LLC_LEN..).unwrap_or_default();
        Ok((
            Llc {
                dsap,
                ssap,
                control,
                snap: None,
            },
            rest,
        ))
    }
}
