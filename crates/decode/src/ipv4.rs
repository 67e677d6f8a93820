//! IPv4 header (RFC 791) with options, fragment fields and header checksum check.

use std::net::Ipv4Addr;

use crate::Fragment;
use crate::bytes::{array, be16, checksum, u8_at};
use crate::error::{DecodeError, Layer, need};

mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
}

/// Length of an IPv4 header without options.
pub const MIN_HEADER_LEN: usize = 20;

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const FLAG_RESERVED: u16 = 0x8000;
const OFFSET_MASK: u16 = 0x1fff;

/// A checked IPv4 header view (fixed part and options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4View<'a> {
    header: &'a [u8],
}

impl<'a> Ipv4View<'a> {
    /// The header's bytes (options included).
    pub(crate) fn header_bytes(&self) -> &'a [u8] {
        self.header
    }
}

/// The result of parsing an IPv4 header: the view, its payload and whether it was cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Parsed<'a> {
    /// The header.
    pub view: Ipv4View<'a>,
    /// The payload, limited by the total length field (Ethernet padding removed) and by what
    /// was captured.
    pub payload: &'a [u8],
    /// True when the total length field claims more bytes than were captured.
    pub truncated: bool,
}

impl<'a> Ipv4View<'a> {
    /// Checks version, header length and total length; `offset` is where `data` starts in the frame.
    ///
    /// A total length of 0 (seen on packets captured before TCP segmentation offload split
    /// them) is taken to mean "the rest of the buffer", as Wireshark does.
    pub fn parse(data: &'a [u8], offset: usize) -> Result<Ipv4Parsed<'a>, DecodeError> {
        let fixed = need(data, MIN_HEADER_LEN, Layer::Ipv4, offset)?;
        let ver_ihl = u8_at(fixed, field::VER_IHL);
        if ver_ihl >> 4 != 4 {
            return Err(DecodeError::Malformed {
                layer: Layer::Ipv4,
                field: "version",
                value: u32::from(ver_ihl >> 4),
                offset,
            });
        }
        let ihl = usize::from(ver_ihl & 0x0f) * 4;
        if ihl < MIN_HEADER_LEN {
            return Err(DecodeError::Malformed {
                layer: Layer::Ipv4,
                field: "header length",
                value: u32::from(ver_ihl & 0x0f),
                offset,
            });
        }
        let header = need(data, ihl, Layer::Ipv4, offset)?;
        let total = usize::from(be16(fixed, field::LENGTH));
        let (end, truncated) = if total == 0 {
            (data.len(), false)
        } else if total < ihl {
            return Err(DecodeError::Malformed {
                layer: Layer::Ipv4,
                field: "total length",
                value: total as u32,
                offset,
            });
        } else {
            (total.min(data.len()), total > data.len())
        };
        let payload = data.get(ihl..end).unwrap_or_default();
        Ok(Ipv4Parsed {
            view: Ipv4View { header },
            payload,
            truncated,
        })
    }

    /// Header length in bytes, options included.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.header.len()
    }

    /// Type of service / DSCP+ECN byte.
    #[inline]
    pub fn tos(&self) -> u8 {
        u8_at(self.header, field::TOS)
    }

    /// The total length field, as written (0 for TSO captures).
    #[inline]
    pub fn total_len(&self) -> u16 {
        be16(self.header, field::LENGTH)
    }

    /// Identification.
    #[inline]
    pub fn id(&self) -> u16 {
        be16(self.header, field::IDENT)
    }

    /// Raw flags and fragment offset word.
    #[inline]
    fn flags_word(&self) -> u16 {
        be16(self.header, field::FLG_OFF)
    }

    /// Don't-fragment flag.
    #[inline]
    pub fn dont_frag(&self) -> bool {
        self.flags_word() & FLAG_DF != 0
    }

    /// More-fragments flag.
    #[inline]
    pub fn more_frags(&self) -> bool {
        self.flags_word() & FLAG_MF != 0
    }

    /// The reserved ("evil") bit.
    #[inline]
    pub fn reserved_flag(&self) -> bool {
        self.flags_word() & FLAG_RESERVED != 0
    }

    /// Fragment offset in bytes.
    #[inline]
    pub fn frag_offset(&self) -> u32 {
        u32::from(self.flags_word() & OFFSET_MASK) * 8
    }

    /// Fragment information, when this packet is a fragment (MF set or non-zero offset).
    pub fn fragment(&self) -> Option<Fragment> {
        (self.more_frags() || self.frag_offset() != 0).then(|| Fragment {
            id: u32::from(self.id()),
            offset: self.frag_offset(),
            more: self.more_frags(),
        })
    }

    /// Time to live.
    #[inline]
    pub fn ttl(&self) -> u8 {
        u8_at(self.header, field::TTL)
    }

    /// Protocol of the payload (6 TCP, 17 UDP, 1 ICMP...).
    #[inline]
    pub fn protocol(&self) -> u8 {
        u8_at(self.header, field::PROTOCOL)
    }

    /// Header checksum as written.
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.header, field::CHECKSUM)
    }

    /// Source address.
    #[inline]
    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.src_bytes())
    }

    /// Destination address.
    #[inline]
    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.dst_bytes())
    }

    /// Source address bytes.
    #[inline]
    pub fn src_bytes(&self) -> [u8; 4] {
        array(self.header, field::SRC)
    }

    /// Destination address bytes.
    #[inline]
    pub fn dst_bytes(&self) -> [u8; 4] {
        array(self.header, field::DST)
    }

    /// Option bytes (empty without options).
    pub fn options(&self) -> &'a [u8] {
        self.header.get(MIN_HEADER_LEN..).unwrap_or_default()
    }

    /// The header bytes.
    pub fn header(&self) -> &'a [u8] {
        self.header
    }

    /// True when the header checksum is right. Always true when fuzzing, so that the fuzzer
    /// explores the layers above. A bad checksum is reported, never fatal: captures taken on
    /// the sending host often carry checksums the NIC fills in later.
    pub fn checksum_valid(&self) -> bool {
        cfg!(fuzzing) || checksum(0, self.header) == 0
    }
}
