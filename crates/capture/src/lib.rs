//! Packet capture: pcap and pcapng files (pure Rust) and live devices (libpcap).
//!
//! Every packet, wherever it comes from, is a [`Packet`]: a nanosecond timestamp, the
//! captured and original lengths, the link type, the interface index and the bytes, borrowed
//! from the reader. Files are read through one reusable buffer with no allocation or copy per
//! packet; damaged files yield every complete packet, then a typed [`CaptureError`].
//!
//! ```
//! use pcap_capture::{FileReader, LinkType, Packet, PcapWriter};
//!
//! # fn main() -> Result<(), pcap_capture::CaptureError> {
//! // Write two packets to an in-memory pcap file, then read them back.
//! let mut writer = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535)?;
//! for (i, data) in [&b"first"[..], &b"second"[..]].into_iter().enumerate() {
//!     let ts_ns = 1_700_000_000_000_000_000 + i as i64;
//!     let len = data.len() as u32;
//!     writer.write_packet(&Packet {
//!         ts_ns, caplen: len, orig_len: len, link_type: LinkType::ETHERNET, interface: 0, fcs_len: 0, data,
//!     })?;
//! }
//! let bytes = writer.into_inner()?;
//!
//! let mut reader = FileReader::from_reader(std::io::Cursor::new(bytes))?;
//! let mut seen = Vec::new();
//! while let Some(packet) = reader.next_packet()? {
//!     seen.push((packet.ts_ns % 10, packet.data.to_vec()));
//! }
//! assert_eq!(seen, vec![(0, b"first".to_vec()), (1, b"second".to_vec())]);
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
#[cfg(feature = "libpcap")]
mod filter;
#[cfg(feature = "libpcap")]
pub mod live;
pub mod merge;
mod packet;
mod pcap;
mod pcapng;
mod reader;
mod source;
mod writer;

pub use error::{CaptureError, Malformation, Part, Position};
pub use merge::{Damage, FileHead, MergedFiles};
pub use packet::{LinkType, Packet};
pub use pcapng::{DecryptionSecrets, Interface};
pub use reader::{FileFormat, FileReader, READ_BUFFER_SIZE};
pub use source::Source;
pub use writer::{PcapNgWriter, PcapWriter, TsPrecision};

/// The README's examples, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
