//! Less common link layers: Cisco HDLC, NFLOG, 802.11 data frames and radiotap.
//!
//! PPP itself is in [`crate::tunnel`] (it is also what PPTP's GRE and PPPoE carry).

use crate::bytes::{be16, u8_at};
use crate::error::{DecodeError, Layer, need};

/// Cisco HDLC (DLT 104): address (0x0f unicast, 0x8f broadcast), control 0, ether type.
/// Returns the ether type; the header is 4 bytes.
pub(crate) fn chdlc(data: &[u8]) -> Result<u16, DecodeError> {
    let h = need(data, CHDLC_LEN, Layer::Chdlc, 0)?;
    match u8_at(h, 0) {
        0x0f | 0x8f => Ok(be16(h, 2)),
        other => Err(DecodeError::Malformed {
            layer: Layer::Chdlc,
            field: "address",
            value: u32::from(other),
            offset: 0,
        }),
    }
}

/// Length of the Cisco HDLC header.
pub const CHDLC_LEN: usize = 4;

/// NFLOG (DLT 239): a 4-byte header (address family, version, resource id) then TLVs whose
/// length and type are in host (little-endian) order, each padded to 4 bytes. Returns the
/// address family, the payload TLV's value (type 9) and its offset.
pub(crate) fn nflog(data: &[u8]) -> Result<(u8, &[u8], usize), DecodeError> {
    const PAYLOAD: u16 = 9;
    let h = need(data, 4, Layer::Nflog, 0)?;
    let family = u8_at(h, 0);
    let mut at = 4usize;
    loop {
        let Some(tlv) = data.get(at..at.saturating_add(4)) else {
            return Err(DecodeError::Len {
                layer: Layer::Nflog,
                required: at.saturating_add(4),
                actual: data.len(),
                offset: 0,
            });
        };
        let len = usize::from(u16::from_le_bytes([u8_at(tlv, 0), u8_at(tlv, 1)]));
        let kind = u16::from_le_bytes([u8_at(tlv, 2), u8_at(tlv, 3)]);
        if len < 4 {
            return Err(DecodeError::Malformed {
                layer: Layer::Nflog,
                field: "tlv length",
                value: len as u32,
                offset: at,
            });
        }
        let end = at.saturating_add(len);
        if kind == PAYLOAD {
            let value_at = at.saturating_add(4);
            let value = data
                .get(value_at..end)
                .or_else(|| data.get(value_at..))
                .unwrap_or_default();
            return Ok((family, value, value_at));
        }
        // Padded to a multiple of 4.
        at = end.saturating_add(3) & !3;
    }
}

/// Radiotap (DLT 127): returns the header length and whether the 802.11 frame after it ends
/// with a 4-byte FCS (flags field, bit 0x10).
pub(crate) fn radiotap(data: &[u8]) -> Result<(usize, bool), DecodeError> {
    let h = need(data, 8, Layer::Radiotap, 0)?;
    if u8_at(h, 0) != 0 {
        return Err(DecodeError::Malformed {
            layer: Layer::Radiotap,
            field: "version",
            value: u32::from(u8_at(h, 0)),
            offset: 0,
        });
    }
    let len = usize::from(u16::from_le_bytes([u8_at(h, 2), u8_at(h, 3)]));
    need(data, len, Layer::Radiotap, 0)?;
    let present = |at: usize| {
        data.get(at..at.saturating_add(4))
            .map(|b| u32::from_le_bytes([u8_at(b, 0), u8_at(b, 1), u8_at(b, 2), u8_at(b, 3)]))
    };
    let first = present(4).unwrap_or(0);
    // Extended present bitmaps (bit 31) come before the fields.
    let mut at = 4usize;
    while present(at).is_some_and(|p| p & 0x8000_0000 != 0) && at < len {
        at = at.saturating_add(4);
    }
    at = at.saturating_add(4);
    let mut fcs = false;
    if first & 0x2 != 0 {
        if first & 0x1 != 0 {
            // TSFT: 8 bytes, aligned to 8.
            at = (at.saturating_add(7) & !7).saturating_add(8);
        }
        if at < len {
            fcs = u8_at(data, at) & 0x10 != 0;
        }
    }
    Ok((len, fcs))
}

/// 802.11 data frame: the header length and the LLC/SNAP ether type after it, or `None`
/// for frames that carry no data (management, control, null data) or encrypted data.
// Header lengths are sums of a few constants (at most 40): no overflow.
#[allow(clippy::arithmetic_side_effects)]
pub(crate) fn wlan(data: &[u8], offset: usize) -> Result<Option<(usize, u16)>, DecodeError> {
    const LLC_SNAP: [u8; 6] = [0xaa, 0xaa, 0x03, 0, 0, 0];
    let h = need(data, 24, Layer::Wlan, offset)?;
    let fc0 = u8_at(h, 0);
    let fc1 = u8_at(h, 1);
    let kind = (fc0 >> 2) & 0x3;
    let subtype = fc0 >> 4;
    if kind != 2 || subtype & 0x4 != 0 {
        return Ok(None);
    }
    if fc1 & 0x40 != 0 {
        return Err(DecodeError::Unsupported {
            layer: Layer::Wlan,
            value: 0x40,
        });
    }
    let mut len = 24usize;
    if fc1 & 0x03 == 0x03 {
        len += 6;
    }
    if subtype & 0x8 != 0 {
        len += 2;
        if fc1 & 0x80 != 0 {
            len += 4;
        }
    }
    let snap = need(data, len + 8, Layer::Wlan, offset)?;
    if snap.get(len..len + 6) != Some(&LLC_SNAP[..]) {
        return Err(DecodeError::Malformed {
            layer: Layer::Llc,
            field: "dsap",
            value: u32::from(u8_at(snap, len)),
            offset: offset.saturating_add(len),
        });
    }
    Ok(Some((len + 8, be16(snap, len + 6))))
}
