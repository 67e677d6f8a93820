//! DNS messages (RFC 1035) over UDP, TCP (2-byte length prefix), mDNS and LLMNR.
//!
//! In three parts: [`Name`] and its bounded decompression (`names.rs`), the header,
//! questions and section iterators of a [`DnsMessage`] (`message.rs`), and records with
//! their decoded data, [`Rdata`] (`records.rs`).
//!
//! [`DnsMessage`] is a view over the borrowed payload: the header is read on demand and
//! questions and records come from iterators, so decoding a message allocates nothing.
//! Names are [`Name`] views (the message plus the offset of the name) that decompress on the
//! fly as their labels are read.
//!
//! Hostile input is bounded: every name is walked once when its question or record is
//! produced, and the walk refuses a compression pointer that does not point strictly before
//! the label sequence it interrupts (so a pointer loop, a self pointer and a forward pointer
//! are all errors), more than [`MAX_POINTER_HOPS`] pointers, more than [`MAX_LABELS`] labels
//! and more than [`MAX_NAME_LEN`] bytes of uncompressed name. Every failure is a
//! [`DnsError`] naming the field and the offset in the message; nothing panics or loops.
//!
//! ```
//! use pcap_decode::dns::{self, DnsMessage, Rdata};
//! // A response to "A example.com" with one answer, the name compressed to offset 12.
//! let bytes = [
//!     0x1a, 0x2b, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, // header
//!     7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0, 1, 0, 1,
//!     0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34,
//! ];
//! let msg = DnsMessage::parse(&bytes)?;
//! assert_eq!(msg.id(), 0x1a2b);
//! let answer = msg.answers().next().unwrap()?;
//! assert_eq!(answer.name.labels().collect::<Vec<_>>(), [&b"example"[..], b"com"]);
//! assert_eq!(dns::type_name(answer.rtype).to_string(), "A");
//! assert!(matches!(answer.rdata()?, Rdata::A(a) if a.octets() == [93, 184, 216, 34]));
//! # Ok::<(), pcap_decode::dns::DnsError>(())
//! ```
#![warn(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod message;
mod names;
mod records;
#[cfg(test)]
mod testutil;

pub use message::{DnsMessage, Flags, Question, Questions, Records, Section, TcpFrame, parse_tcp};
pub use names::{Labels, Name};
pub use records::{CharStrings, Opt, OptOptions, Rdata, Record, TypeName, rtype, type_name};

/// Length of the fixed DNS header.
pub const HEADER_LEN: usize = 12;
/// Most compression pointers followed while reading one name.
pub const MAX_POINTER_HOPS: usize = 128;
/// Most labels in one name (a 255-byte name has at most 127 non-empty labels).
pub const MAX_LABELS: usize = 255;
/// Most bytes of one uncompressed name in wire form, length bytes and root included (RFC 1035 2.3.4).
pub const MAX_NAME_LEN: usize = 255;

/// Well-known UDP ports that carry DNS-format messages: DNS, mDNS and LLMNR.
pub const PORTS: [u16; 3] = [53, 5353, 5355];

/// Top bit of a question's class in mDNS: the querier accepts a unicast response (RFC 6762 5.4).
pub const MDNS_UNICAST_RESPONSE: u16 = 0x8000;
/// Top bit of a record's class in mDNS: the record replaces cached ones (RFC 6762 10.2).
pub const MDNS_CACHE_FLUSH: u16 = 0x8000;

/// Why a DNS message, or part of it, could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// The message ends inside `field`.
    #[error(
        "dns: {field} truncated at offset {offset}: need {needed} bytes, {available} available"
    )]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Offset of the field in the message.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the message (or in the record data) at that offset.
        available: usize,
    },
    /// A name breaks one of the limits that keep name decompression bounded.
    #[error("dns: name at offset {offset}: {problem}")]
    Name {
        /// Offset where the name starts.
        offset: usize,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// Record data does not have the layout its type requires.
    #[error("dns: {field} of type {rtype} record at offset {offset}: {len} bytes left over")]
    RdataLength {
        /// The record type.
        rtype: u16,
        /// The field after which bytes were left over.
        field: &'static str,
        /// Offset of the record data.
        offset: usize,
        /// Bytes of record data not covered by the fields.
        len: usize,
    },
    /// A TCP length prefix announces a message shorter than the DNS header.
    #[error("dns over tcp: length prefix {len} is shorter than the 12-byte header")]
    TcpLength {
        /// The announced length.
        len: u16,
    },
}

/// The limit a name broke (see [`DnsError::Name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameProblem {
    /// A compression pointer does not point strictly before the labels it interrupts: a
    /// forward pointer, a pointer to itself, or a loop.
    #[error(
        "compression pointer at offset {pointer_at} to offset {target} does not point backwards"
    )]
    PointerNotBackwards {
        /// Offset of the pointer.
        pointer_at: usize,
        /// Where it points.
        target: usize,
    },
    /// More than [`MAX_POINTER_HOPS`] compression pointers.
    #[error("more than {MAX_POINTER_HOPS} compression pointers")]
    TooManyPointers,
    /// More than [`MAX_LABELS`] labels.
    #[error("more than {MAX_LABELS} labels")]
    TooManyLabels,
    /// More than [`MAX_NAME_LEN`] bytes once uncompressed.
    #[error("longer than {MAX_NAME_LEN} bytes")]
    TooLong,
    /// A label length byte with the reserved top bits `01` or `10` (RFC 6891 retired extended labels).
    #[error("label type {byte:#04x} at offset {at} is reserved")]
    ReservedLabelType {
        /// The length byte.
        byte: u8,
        /// Its offset.
        at: usize,
    },
}

fn truncated(field: &'static str, msg_len: usize, offset: usize, needed: usize) -> DnsError {
    DnsError::Truncated {
        field,
        offset,
        needed,
        available: msg_len.saturating_sub(offset),
    }
}

fn slice<'a>(
    buf: &'a [u8],
    offset: usize,
    len: usize,
    field: &'static str,
) -> Result<&'a [u8], DnsError> {
    offset
        .checked_add(len)
        .and_then(|end| buf.get(offset..end))
        .ok_or_else(|| truncated(field, buf.len(), offset, len))
}

fn be16(buf: &[u8], offset: usize, field: &'static str) -> Result<u16, DnsError> {
    let b = slice(buf, offset, 2, field)?;
    Ok(u16::from_be_bytes([
        b.first().copied().unwrap_or(0),
        b.get(1).copied().unwrap_or(0),
    ]))
}

fn be32(buf: &[u8], offset: usize, field: &'static str) -> Result<u32, DnsError> {
    let hi = be16(buf, offset, field)?;
    let lo = be16(buf, offset.saturating_add(2), field)?;
    Ok((u32::from(hi) << 16) | u32::from(lo))
}
