//! IEEE 802.1Q / 802.1ad VLAN tags.

use crate::bytes::be16;
use crate::error::{DecodeError, Layer, need};

/// Length of one tag after the TPID (TCI + inner ether type).
pub const TAG_LEN: usize = 4;

/// How many stacked tags [`crate::decode_packet`] accepts before giving up with a
/// [`DecodeError::Malformed`] (`field: "depth"`); real networks use one or two.
pub const MAX_VLANS: usize = 8;

/// One VLAN tag: its TPID (0x8100, 0x88a8 or 0x9100), the TCI and the ether type after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlanTag {
    /// Tag protocol identifier (the ether type that announced this tag).
    pub tpid: u16,
    /// Tag control information: priority (3 bits), drop eligible (1), VLAN id (12).
    pub tci: u16,
    /// Ether type of what follows the tag.
    pub ethertype: u16,
}

impl VlanTag {
    /// Parses the 4 bytes after a TPID at `offset` in the frame.
    pub fn parse(tpid: u16, data: &[u8], offset: usize) -> Result<(VlanTag, &[u8]), DecodeError> {
        let h = need(data, TAG_LEN, Layer::Vlan, offset)?;
        let tag = VlanTag {
            tpid,
            tci: be16(h, 0),
            ethertype: be16(h, 2),
        };
        Ok((tag, data.get(TAG_LEN..).unwrap_or_default()))
    }

    /// The 12-bit VLAN identifier.
    #[inline]
    pub fn id(&self) -> u16 {
        self.tci & 0x0fff
    }

    /// The 3-bit priority code point.
    #[inline]
    pub fn priority(&self) -> u8 {
        // Shifted down to 3 bits: lossless.
        (self.tci >> 13) as u8
    }

    /// The drop-eligible indicator.
    #[inline]
    pub fn drop_eligible(&self) -> bool {
        self.tci & 0x1000 != 0
    }
}
