//! ICMP (RFC 792) and ICMPv6 (RFC 4443, neighbour discovery RFC 4861) headers.

use std::net::{IpAddr, Ipv6Addr};

use crate::bytes::{array, be16, u8_at};
use crate::error::{DecodeError, Layer, need};
use crate::ipv4::Ipv4View;
use crate::ipv6::Ipv6View;
use crate::packet::ip_proto;

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const ECHO_ID: usize = 4;
    pub const ECHO_SEQ: usize = 6;
    pub const ND_TARGET: usize = 8;
}

/// Length of the type, code and checksum fields every ICMP message has.
pub const MIN_LEN: usize = 4;
/// Length of the full ICMP header (with the 4 type-specific bytes).
pub const HEADER_LEN: usize = 8;
const ND_LEN: usize = 24;

/// ICMP (v4) message types this crate gives meaning to.
pub mod icmpv4 {
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const UNREACHABLE: u8 = 3;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 8;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
}

/// ICMPv6 message types this crate gives meaning to.
pub mod icmpv6 {
    /// Destination unreachable.
    pub const UNREACHABLE: u8 = 1;
    /// Packet too big.
    pub const PACKET_TOO_BIG: u8 = 2;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 129;
    /// Router solicitation.
    pub const ROUTER_SOLICIT: u8 = 133;
    /// Router advertisement.
    pub const ROUTER_ADVERT: u8 = 134;
    /// Neighbour solicitation.
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    /// Neighbour advertisement.
    pub const NEIGHBOR_ADVERT: u8 = 136;
    /// Redirect.
    pub const REDIRECT: u8 = 137;
}

/// What an ICMP error message says about the packet that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted {
    /// Source address of the quoted packet (usually ours).
    pub src: IpAddr,
    /// Destination address of the quoted packet.
    pub dst: IpAddr,
    /// Its IP protocol.
    pub protocol: u8,
    /// Its TCP or UDP ports (source, destination), when quoted.
    pub ports: Option<(u16, u16)>,
}

/// A checked ICMP or ICMPv6 message (at least type, code and checksum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpView<'a> {
    msg: &'a [u8],
    v6: bool,
}

impl<'a> IcmpView<'a> {
    /// Parses an ICMP (v4) message; `offset` locates errors.
    pub fn parse_v4(data: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        need(data, MIN_LEN, Layer::Icmp, offset)?;
        Ok(IcmpView {
            msg: data,
            v6: false,
        })
    }

    /// Parses an ICMPv6 message; `offset` locates errors.
    pub fn parse_v6(data: &'a [u8], offset: usize) -> Result<Self, DecodeError> {
        need(data, MIN_LEN, Layer::Icmpv6, offset)?;
        Ok(IcmpView {
            msg: data,
            v6: true,
        })
    }

    /// True for ICMPv6.
    pub fn is_v6(&self) -> bool {
        self.v6
    }

    /// Message type.
    #[inline]
    pub fn icmp_type(&self) -> u8 {
        u8_at(self.msg, field::TYPE)
    }

    /// Message code.
    #[inline]
    pub fn code(&self) -> u8 {
        u8_at(self.msg, field::CODE)
    }

    /// Checksum as written.
    pub fn checksum(&self) -> u16 {
        be16(self.msg, field::CHECKSUM)
    }

    /// True for an echo request or reply.
    pub fn is_echo(&self) -> bool {
        let t = self.icmp_type();
        if self.v6 {
            t == icmpv6::ECHO_REQUEST || t == icmpv6::ECHO_REPLY
        } else {
            t == icmpv4::ECHO_REQUEST || t == icmpv4::ECHO_REPLY
        }
    }

    /// True for error messages that quote the packet that caused them.
    pub fn is_error(&self) -> bool {
        let t = self.icmp_type();
        if self.v6 {
            t < 128
        } else {
            matches!(t, icmpv4::UNREACHABLE | 4 | 5 | icmpv4::TIME_EXCEEDED | 12)
        }
    }

    /// Echo identifier and sequence number, for a complete echo header.
    pub fn echo(&self) -> Option<(u16, u16)> {
        (self.is_echo() && self.msg.len() >= HEADER_LEN).then(|| {
            (
                be16(self.msg, field::ECHO_ID),
                be16(self.msg, field::ECHO_SEQ),
            )
        })
    }

    /// The target address of a neighbour solicitation/advertisement or redirect (ICMPv6).
    pub fn nd_target(&self) -> Option<Ipv6Addr> {
        let t = self.icmp_type();
        let nd = matches!(
            t,
            icmpv6::NEIGHBOR_SOLICIT | icmpv6::NEIGHBOR_ADVERT | icmpv6::REDIRECT
        );
        (self.v6 && nd && self.msg.len() >= ND_LEN)
            .then(|| Ipv6Addr::from(array::<16>(self.msg, field::ND_TARGET)))
    }

    /// For error messages, the quoted start of the offending packet (its IP header first).
    pub fn quoted(&self) -> Option<&'a [u8]> {
        if self.is_error() {
            self.msg.get(HEADER_LEN..)
        } else {
            None
        }
    }

    /// The addresses, protocol and ports of the packet an error message quotes, when its IP
    /// header is there (the quote is usually cut after 8 bytes of transport header, which is
    /// where both ports sit).
    pub fn quoted_packet(&self) -> Option<Quoted> {
        let q = self.quoted()?;
        let (src, dst, protocol, rest) = match q.first().map(|b| b >> 4) {
            Some(4) => {
                let p = Ipv4View::parse(q, 0).ok()?;
                let v = p.view;
                (
                    IpAddr::V4(v.src()),
                    IpAddr::V4(v.dst()),
                    v.protocol(),
                    p.payload,
                )
            }
            Some(6) => {
                let p = Ipv6View::parse(q, 0).ok()?;
                let v = &p.view;
                (
                    IpAddr::V6(v.src()),
                    IpAddr::V6(v.dst()),
                    v.upper_protocol(),
                    p.payload,
                )
            }
            _ => return None,
        };
        let ports = match protocol {
            ip_proto::TCP | ip_proto::UDP if rest.len() >= 4 => {
                Some((be16(rest, 0), be16(rest, 2)))
            }
            _ => None,
        };
        Some(Quoted {
            src,
            dst,
            protocol,
            ports,
        })
    }

    /// The data after the 8-byte header (empty when shorter).
    pub fn payload(&self) -> &'a [u8] {
        self.msg.get(HEADER_LEN..).unwrap_or_default()
    }
}
