//! IPv6 header (RFC 8200) and the walk over its extension headers to the upper protocol.

use std::net::Ipv6Addr;

use arrayvec::ArrayVec;

use crate::Fragment;
use crate::bytes::{array, be16, be32, u8_at};
use crate::error::{DecodeError, Layer, need};

mod field {
    pub const VER_TC_FLOW: usize = 0;
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
    /// In every extension header: next header, then length.
    pub const EXT_NEXT: usize = 0;
    pub const EXT_LEN: usize = 1;
    /// In the fragment header.
    pub const FRAG_OFF: usize = 2;
    pub const FRAG_ID: usize = 4;
}

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = 40;

/// How many extension headers are walked before giving up with a
/// [`DecodeError::Malformed`] (`field: "extension count"`).
pub const MAX_EXTENSIONS: usize = 8;

/// IPv6 next-header values for the extension headers that are walked.
pub mod next_header {
    /// Hop-by-hop options.
    pub const HOP_BY_HOP: u8 = 0;
    /// Routing header.
    pub const ROUTING: u8 = 43;
    /// Fragment header.
    pub const FRAGMENT: u8 = 44;
    /// Authentication header.
    pub const AUTH: u8 = 51;
    /// No next header.
    pub const NONE: u8 = 59;
    /// Destination options.
    pub const DEST_OPTS: u8 = 60;
}

const FRAG_HEADER_LEN: usize = 8;

/// A checked IPv6 header with its extension headers walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6View<'a> {
    header: &'a [u8],
    upper: u8,
    ext_len: usize,
    extensions: ArrayVec<u8, MAX_EXTENSIONS>,
    fragment: Option<Fragment>,
}

impl<'a> Ipv6View<'a> {
    /// The fixed header's bytes.
    pub(crate) fn header_bytes(&self) -> &'a [u8] {
        self.header
    }
}

/// The result of parsing an IPv6 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Parsed<'a> {
    /// The header (and what the extension walk found).
    pub view: Ipv6View<'a>,
    /// The upper-layer payload after the extension headers, limited by the payload length
    /// field and by what was captured.
    pub payload: &'a [u8],
    /// True when the payload length claims more bytes than were captured.
    pub truncated: bool,
    /// Set when the extension-header walk stopped early (truncated or too many headers);
    /// the view then reports the header type it stopped at as [`Ipv6View::upper_protocol`].
    pub stop: Option<DecodeError>,
}

impl<'a> Ipv6View<'a> {
    /// Checks the fixed header and walks the extension headers; `offset` locates errors.
    ///
    /// A payload length of 0 (jumbogram, or TSO capture) means "the rest of the buffer".
    pub fn parse(data: &'a [u8], offset: usize) -> Result<Ipv6Parsed<'a>, DecodeError> {
        let header = need(data, HEADER_LEN, Layer::Ipv6, offset)?;
        let version = u8_at(header, field::VER_TC_FLOW) >> 4;
        if version != 6 {
            return Err(DecodeError::Malformed {
                layer: Layer::Ipv6,
                field: "version",
                value: u32::from(version),
                offset,
            });
        }
        let body = data.get(HEADER_LEN..).unwrap_or_default();
        let plen = usize::from(be16(header, field::PAYLOAD_LEN));
        let (body, truncated) = if plen == 0 {
            (body, false)
        } else {
            (body.get(..plen).unwrap_or(body), plen > body.len())
        };
        let mut view = Ipv6View {
            header,
            upper: u8_at(header, field::NEXT_HEADER),
            ext_len: 0,
            extensions: ArrayVec::new(),
            fragment: None,
        };
        let stop = view.walk(body, offset.saturating_add(HEADER_LEN)).err();
        let payload = if stop.is_some() {
            &[]
        } else {
            body.get(view.ext_len..).unwrap_or_default()
        };
        Ok(Ipv6Parsed {
            view,
            payload,
            truncated,
            stop,
        })
    }

    /// Follows extension headers from `self.upper` through `body`.
    fn walk(&mut self, body: &'a [u8], base: usize) -> Result<(), DecodeError> {
        loop {
            let nh = self.upper;
            let len = match nh {
                next_header::HOP_BY_HOP | next_header::ROUTING | next_header::DEST_OPTS => {
                    let at = body.get(self.ext_len..).unwrap_or_default();
                    let h = need(at, 2, Layer::Ipv6Ext, base.saturating_add(self.ext_len))?;
                    (usize::from(u8_at(h, field::EXT_LEN)).saturating_add(1)).saturating_mul(8)
                }
                next_header::AUTH => {
                    let at = body.get(self.ext_len..).unwrap_or_default();
                    let h = need(at, 2, Layer::Ipv6Ext, base.saturating_add(self.ext_len))?;
                    (usize::from(u8_at(h, field::EXT_LEN)).saturating_add(2)).saturating_mul(4)
                }
                next_header::FRAGMENT => FRAG_HEADER_LEN,
                _ => return Ok(()),
            };
            let at = body.get(self.ext_len..).unwrap_or_default();
            let ext = need(at, len, Layer::Ipv6Ext, base.saturating_add(self.ext_len))?;
            if self.extensions.try_push(nh).is_err() {
                return Err(DecodeError::Malformed {
                    layer: Layer::Ipv6Ext,
                    field: "extension count",
                    value: MAX_EXTENSIONS.saturating_add(1) as u32,
                    offset: base.saturating_add(self.ext_len),
                });
            }
            if nh == next_header::FRAGMENT {
                let off = be16(ext, field::FRAG_OFF);
                self.fragment = Some(Fragment {
                    id: be32(ext, field::FRAG_ID),
                    offset: u32::from(off >> 3) * 8,
                    more: off & 1 != 0,
                });
            }
            self.upper = u8_at(ext, field::EXT_NEXT);
            self.ext_len = self.ext_len.saturating_add(len);
        }
    }

    /// Traffic class.
    pub fn traffic_class(&self) -> u8 {
        // 8 bits after the version nibble.
        ((be16(self.header, field::VER_TC_FLOW) >> 4) & 0xff) as u8
    }

    /// Flow label.
    pub fn flow_label(&self) -> u32 {
        be32(self.header, field::VER_TC_FLOW) & 0x000f_ffff
    }

    /// Payload length field (extension headers included).
    pub fn payload_len(&self) -> u16 {
        be16(self.header, field::PAYLOAD_LEN)
    }

    /// The next-header field of the fixed header (the first extension header, if any).
    #[inline]
    pub fn next_header(&self) -> u8 {
        u8_at(self.header, field::NEXT_HEADER)
    }

    /// The protocol after the extension headers (6 TCP, 17 UDP, 58 ICMPv6...).
    #[inline]
    pub fn upper_protocol(&self) -> u8 {
        self.upper
    }

    /// Hop limit.
    #[inline]
    pub fn hop_limit(&self) -> u8 {
        u8_at(self.header, field::HOP_LIMIT)
    }

    /// Source address.
    #[inline]
    pub fn src(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.src_bytes())
    }

    /// Destination address.
    #[inline]
    pub fn dst(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.dst_bytes())
    }

    /// Source address bytes.
    #[inline]
    pub fn src_bytes(&self) -> [u8; 16] {
        array(self.header, field::SRC)
    }

    /// Destination address bytes.
    #[inline]
    pub fn dst_bytes(&self) -> [u8; 16] {
        array(self.header, field::DST)
    }

    /// The extension header types walked, in order.
    pub fn extensions(&self) -> &[u8] {
        &self.extensions
    }

    /// Total length of the extension headers.
    pub fn extensions_len(&self) -> usize {
        self.ext_len
    }

    /// Fragment information from a fragment header, if there is one.
    pub fn fragment(&self) -> Option<Fragment> {
        self.fragment
    }

    /// The fixed header bytes.
    pub fn header(&self) -> &'a [u8] {
        self.header
    }
}
