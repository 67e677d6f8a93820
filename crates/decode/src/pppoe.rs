//! PPPoE session stage (RFC 2516) carrying PPP-framed IPv4/IPv6, as seen on DSL uplinks.

use crate::bytes::{be16, u8_at};
use crate::error::{DecodeError, Layer, need};

mod field {
    pub const VER_TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const SESSION: usize = 2;
    pub const LENGTH: usize = 4;
    pub const PPP_PROTOCOL: usize = 6;
}

/// Length of the PPPoE header plus the 2-byte PPP protocol field.
pub const HEADER_LEN: usize = 8;

/// The ether type of the PPPoE session stage.
pub const ETHERTYPE_SESSION: u16 = 0x8864;

/// PPP protocol numbers for the network layers decoded.
pub mod ppp_proto {
    /// IPv4.
    pub const IPV4: u16 = 0x0021;
    /// IPv6.
    pub const IPV6: u16 = 0x0057;
}

/// A PPPoE session header and the PPP protocol it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PppoeSession {
    /// Version and type nibbles (0x11).
    pub ver_type: u8,
    /// Code (0 for session data).
    pub code: u8,
    /// Session id.
    pub session_id: u16,
    /// Payload length (PPP protocol field included).
    pub length: u16,
    /// PPP protocol of the payload.
    pub protocol: u16,
}

impl PppoeSession {
    /// Parses the header at `offset` in the frame; returns it and the PPP payload, limited by
    /// the length field (Ethernet padding removed).
    pub fn parse(data: &[u8], offset: usize) -> Result<(PppoeSession, &[u8]), DecodeError> {
        let h = need(data, HEADER_LEN, Layer::Pppoe, offset)?;
        let s = PppoeSession {
            ver_type: u8_at(h, field::VER_TYPE),
            code: u8_at(h, field::CODE),
            session_id: be16(h, field::SESSION),
            length: be16(h, field::LENGTH),
            protocol: be16(h, field::PPP_PROTOCOL),
        };
        let mut s = s;
        let mut at = HEADER_LEN;
        if s.protocol >> 8 & 0x01 != 0 {
            // Protocol field compression (RFC 1661): a 1-byte protocol, odd.
            s.protocol >>= 8;
            at = HEADER_LEN - 1;
        }
        let rest = data.get(at..).unwrap_or_default();
        // The length counts the PPP protocol field, already consumed.
        let body = usize::from(s.length).saturating_sub(at.saturating_sub(6));
        Ok((s, rest.get(..body).unwrap_or(rest)))
    }

    /// Length of the PPPoE header plus the PPP protocol field (1 byte when compressed).
    pub fn header_len(&self) -> usize {
        if self.protocol <= 0xff && self.protocol & 0x01 != 0 {
            HEADER_LEN - 1
        } else {
            HEADER_LEN
        }
    }
}
