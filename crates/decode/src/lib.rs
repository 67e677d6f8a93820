//! Zero-copy, never-panicking packet decoding from the link layer to TCP, UDP, ICMP and DNS.
//!
//! [`decode_packet`] takes a link type and a frame and returns a [`Decoded`] holding a view
//! per layer, all borrowing the frame, plus the error that stopped decoding, if any.
//!
//! ```
//! use pcap_capture::LinkType;
//! use pcap_decode::{build, decode_packet};
//!
//! let frame = build::ipv4_tcp(&build::TcpSpec { seq: 7, flags: 0x002, ..Default::default() }, b"");
//! let d = decode_packet(LinkType::ETHERNET, &frame);
//! let tcp = d.tcp().unwrap();
//! assert_eq!((tcp.seq(), tcp.flags().syn()), (7, true));
//! assert_eq!(tcp.flags().to_string(), "S");
//! assert!(d.stop.is_none() && !d.truncated);
//! ```
//!
//! DNS in UDP to or from a DNS port is decoded lazily by [`Decoded::dns`]. IP fragments are
//! put back together by [`defrag::Defragmenter`], fed from [`Decoded::fragment`] and
//! [`Decoded::ip_payload`]; [`decode_transport`] decodes each reassembled datagram.
//!
//! This crate hands out parsed data only: views, numbers, addresses and the raw bytes of
//! names and strings as they came off the wire. Turning them into text or JSON (and
//! escaping what came off the wire) is the caller's business; `pcap-cli`'s `render` module
//! is one such caller.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

pub mod arp;
pub mod build;
mod bytes;
pub mod community_id;
pub mod defrag;
pub mod dns;
pub mod error;
pub mod ethernet;
pub mod fcs;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod link;
pub mod null;
mod packet;
pub mod pppoe;
pub mod sll;
pub mod tcp;
pub mod tunnel;
pub mod udp;
pub mod vlan;

pub use error::{DecodeError, Layer};
pub use ethernet::MacAddr;
pub use packet::{
    Decoded, Fragment, Link, Net, Transport, decode_datagram, decode_packet, decode_packet_into,
    decode_transport, ip_proto,
};
/// The README's examples, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
