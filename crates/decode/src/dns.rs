//! DNS messages (RFC 1035) over UDP, TCP (2-byte length prefix), mDNS and LLMNR.
//!
//! [`DnsMessage`] is a view over the borrowed payload: the header is read on demand and
//! questions and records come from iterators, so decoding a message allocates nothing.
//! Names are [`Name`] views (the message plus the offset of the name) that decompress on the
//! fly when written out.
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

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

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

/// Byte layout of the header.
mod field {
    use std::ops::Range;
    pub const ID: Range<usize> = 0..2;
    pub const FLAGS: Range<usize> = 2..4;
    pub const QDCOUNT: Range<usize> = 4..6;
    pub const ANCOUNT: Range<usize> = 6..8;
    pub const NSCOUNT: Range<usize> = 8..10;
    pub const ARCOUNT: Range<usize> = 10..12;
}

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

fn range16(buf: &[u8], r: std::ops::Range<usize>) -> u16 {
    // Only called on the header, whose length `DnsMessage::parse` checked.
    be16(buf, r.start, "header").unwrap_or(0)
}

/// One step of a name walk.
enum Step<'a> {
    Label(&'a [u8]),
    End,
}

/// The bounded state machine that reads a (possibly compressed) name.
#[derive(Debug, Clone)]
struct Walker<'a> {
    msg: &'a [u8],
    start: usize,
    pos: usize,
    /// Start of the label sequence being read: a pointer must point strictly before it.
    segment: usize,
    hops: usize,
    labels: usize,
    wire_len: usize,
    /// Offset just past the name where it is stored (set at the first pointer or the root).
    end: Option<usize>,
}

impl<'a> Walker<'a> {
    fn new(msg: &'a [u8], start: usize) -> Self {
        Walker {
            msg,
            start,
            pos: start,
            segment: start,
            hops: 0,
            labels: 0,
            wire_len: 1,
            end: None,
        }
    }

    fn name_err(&self, problem: NameProblem) -> DnsError {
        DnsError::Name {
            offset: self.start,
            problem,
        }
    }

    fn step(&mut self) -> Result<Step<'a>, DnsError> {
        loop {
            let pos = self.pos;
            let len_byte = *self
                .msg
                .get(pos)
                .ok_or_else(|| truncated("name label length", self.msg.len(), pos, 1))?;
            match len_byte & 0xc0 {
                0x00 => {
                    let after = pos.saturating_add(1);
                    if len_byte == 0 {
                        self.end.get_or_insert(after);
                        return Ok(Step::End);
                    }
                    let len = usize::from(len_byte);
                    let label = slice(self.msg, after, len, "name label")?;
                    self.labels = self.labels.saturating_add(1);
                    if self.labels > MAX_LABELS {
                        return Err(self.name_err(NameProblem::TooManyLabels));
                    }
                    self.wire_len = self.wire_len.saturating_add(len).saturating_add(1);
                    if self.wire_len > MAX_NAME_LEN {
                        return Err(self.name_err(NameProblem::TooLong));
                    }
                    self.pos = after.saturating_add(len);
                    return Ok(Step::Label(label));
                }
                0xc0 => {
                    let low = *self.msg.get(pos.saturating_add(1)).ok_or_else(|| {
                        truncated("name compression pointer", self.msg.len(), pos, 2)
                    })?;
                    let target = (usize::from(len_byte & 0x3f) << 8) | usize::from(low);
                    self.end.get_or_insert(pos.saturating_add(2));
                    self.hops = self.hops.saturating_add(1);
                    if self.hops > MAX_POINTER_HOPS {
                        return Err(self.name_err(NameProblem::TooManyPointers));
                    }
                    if target >= self.segment {
                        return Err(self.name_err(NameProblem::PointerNotBackwards {
                            pointer_at: pos,
                            target,
                        }));
                    }
                    self.pos = target;
                    self.segment = target;
                }
                _ => {
                    return Err(self.name_err(NameProblem::ReservedLabelType {
                        byte: len_byte,
                        at: pos,
                    }));
                }
            }
        }
    }
}

/// A domain name inside a message: the message and the offset where the name starts.
///
/// A `Name` is only handed out after the whole name was walked and found within the limits,
/// so reading its [`labels`](Name::labels) cannot fail on the message's account. The labels
/// are raw bytes, any of the 256 values: showing them (joined by `.`, escaped for a terminal
/// or for JSON) is up to the caller.
///
/// Two names are equal when their labels are, ignoring ASCII case (RFC 4343), wherever and
/// however compressed they are stored.
#[derive(Clone, Copy)]
pub struct Name<'a> {
    msg: &'a [u8],
    offset: usize,
}

impl<'a> Name<'a> {
    /// Checks the name at `offset` of `msg` and returns it with the offset just past its
    /// stored form (after the root label or the first compression pointer).
    pub fn parse(msg: &'a [u8], offset: usize) -> Result<(Name<'a>, usize), DnsError> {
        let mut w = Walker::new(msg, offset);
        while let Step::Label(_) = w.step()? {}
        let end = w.end.unwrap_or(offset);
        Ok((Name { msg, offset }, end))
    }

    /// Offset of the name in the message.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The labels, root excluded, following compression pointers.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            walker: Walker::new(self.msg, self.offset),
            done: false,
        }
    }

    /// True for the root name (no labels).
    pub fn is_root(&self) -> bool {
        self.labels().next().is_none()
    }
}

impl PartialEq for Name<'_> {
    fn eq(&self, other: &Self) -> bool {
        let mut a = self.labels();
        let mut b = other.labels();
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
                _ => return false,
            }
        }
    }
}

impl Eq for Name<'_> {}

impl fmt::Debug for Name<'_> {
    /// `Name("www.example.com" at 12)`, label bytes outside printable ASCII escaped as
    /// `escape_ascii` does. For debugging only: how a name is shown to users is
    /// up to the caller.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Name(\"")?;
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{}", label.escape_ascii())?;
        }
        write!(f, "\" at {})", self.offset)
    }
}

/// Iterator over the labels of a [`Name`] (see [`Name::labels`]).
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    walker: Walker<'a>,
    done: bool,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.done {
            return None;
        }
        match self.walker.step() {
            Ok(Step::Label(l)) => Some(l),
            // A Name is checked when created, so errors cannot occur; stop if one does.
            Ok(Step::End) | Err(_) => {
                self.done = true;
                None
            }
        }
    }
}

/// The header flags word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags(pub u16);

impl Flags {
    /// QR: true for a response.
    pub fn response(self) -> bool {
        self.0 & 0x8000 != 0
    }
    /// OPCODE (0 query, 1 inverse query, 2 status, 4 notify, 5 update).
    pub fn opcode(self) -> u8 {
        ((self.0 >> 11) & 0x0f) as u8
    }
    /// AA: authoritative answer.
    pub fn authoritative(self) -> bool {
        self.0 & 0x0400 != 0
    }
    /// TC: the message was truncated by the sender.
    pub fn truncated(self) -> bool {
        self.0 & 0x0200 != 0
    }
    /// RD: recursion desired.
    pub fn recursion_desired(self) -> bool {
        self.0 & 0x0100 != 0
    }
    /// RA: recursion available.
    pub fn recursion_available(self) -> bool {
        self.0 & 0x0080 != 0
    }
    /// AD: authentic data (RFC 4035).
    pub fn authentic_data(self) -> bool {
        self.0 & 0x0020 != 0
    }
    /// CD: checking disabled (RFC 4035).
    pub fn checking_disabled(self) -> bool {
        self.0 & 0x0010 != 0
    }
    /// RCODE, the low 4 bits (EDNS extends it through the OPT record).
    pub fn rcode(self) -> u8 {
        (self.0 & 0x000f) as u8
    }
}

/// The record sections after the questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Section {
    /// Answer section.
    Answer,
    /// Authority section.
    Authority,
    /// Additional section.
    Additional,
}

/// A DNS message view over the borrowed UDP payload (or a TCP frame without its prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsMessage<'a> {
    buf: &'a [u8],
}

impl<'a> DnsMessage<'a> {
    /// Checks that `buf` holds the 12-byte header; questions and records are read lazily.
    pub fn parse(buf: &'a [u8]) -> Result<Self, DnsError> {
        slice(buf, 0, HEADER_LEN, "header")?;
        Ok(DnsMessage { buf })
    }

    /// The message bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    /// Transaction id.
    pub fn id(&self) -> u16 {
        range16(self.buf, field::ID)
    }
    /// Header flags.
    pub fn flags(&self) -> Flags {
        Flags(range16(self.buf, field::FLAGS))
    }
    /// QDCOUNT: number of questions announced.
    pub fn question_count(&self) -> u16 {
        range16(self.buf, field::QDCOUNT)
    }
    /// ANCOUNT: number of answer records announced.
    pub fn answer_count(&self) -> u16 {
        range16(self.buf, field::ANCOUNT)
    }
    /// NSCOUNT: number of authority records announced.
    pub fn authority_count(&self) -> u16 {
        range16(self.buf, field::NSCOUNT)
    }
    /// ARCOUNT: number of additional records announced.
    pub fn additional_count(&self) -> u16 {
        range16(self.buf, field::ARCOUNT)
    }

    /// The questions, in order. After an error the iterator ends.
    pub fn questions(&self) -> Questions<'a> {
        Questions {
            msg: self.buf,
            pos: HEADER_LEN,
            remaining: self.question_count(),
        }
    }

    /// Every record of the answer, authority and additional sections, in order, each tagged
    /// with its [`Section`]. After an error the iterator ends.
    pub fn records(&self) -> Records<'a> {
        Records {
            msg: self.buf,
            pos: None,
            remaining: [
                self.answer_count(),
                self.authority_count(),
                self.additional_count(),
            ],
            questions: self.questions(),
            only: None,
        }
    }

    /// The records of one section (the sections before it are walked, not collected).
    pub fn section(&self, section: Section) -> Records<'a> {
        Records {
            only: Some(section),
            ..self.records()
        }
    }

    /// The answer records.
    pub fn answers(&self) -> Records<'a> {
        self.section(Section::Answer)
    }
}

/// The outcome of [`parse_tcp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TcpFrame<'a> {
    /// A whole length-prefixed message is present.
    Complete {
        /// The message (without its 2-byte prefix).
        message: DnsMessage<'a>,
        /// Bytes used, prefix included.
        consumed: usize,
    },
    /// The stream does not yet hold the whole message; nothing was consumed.
    NeedMore {
        /// Total bytes needed from the start of `buf` (known once the prefix is present).
        needed: usize,
    },
}

/// Splits one DNS-over-TCP message (RFC 1035 4.2.2: a 2-byte length, then the message) off
/// the front of a reassembled TCP stream.
pub fn parse_tcp(buf: &[u8]) -> Result<TcpFrame<'_>, DnsError> {
    let Ok(len) = be16(buf, 0, "tcp length prefix") else {
        return Ok(TcpFrame::NeedMore { needed: 2 });
    };
    if usize::from(len) < HEADER_LEN {
        return Err(DnsError::TcpLength { len });
    }
    let total = usize::from(len).saturating_add(2);
    match buf.get(2..total) {
        Some(body) => Ok(TcpFrame::Complete {
            message: DnsMessage::parse(body)?,
            consumed: total,
        }),
        None => Ok(TcpFrame::NeedMore { needed: total }),
    }
}

/// A question: name, type and class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question<'a> {
    /// QNAME.
    pub name: Name<'a>,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS, with the mDNS unicast-response bit if set.
    pub qclass: u16,
}

impl Question<'_> {
    /// The class without the mDNS unicast-response bit.
    pub fn class(&self) -> u16 {
        self.qclass & !MDNS_UNICAST_RESPONSE
    }
    /// mDNS: the querier asks for a unicast response (top bit of QCLASS).
    pub fn unicast_response(&self) -> bool {
        self.qclass & MDNS_UNICAST_RESPONSE != 0
    }
}

/// Iterator over the questions of a message.
#[derive(Debug, Clone)]
pub struct Questions<'a> {
    msg: &'a [u8],
    pos: usize,
    remaining: u16,
}

impl<'a> Questions<'a> {
    /// Offset just past the questions read so far.
    fn position(&self) -> usize {
        self.pos
    }

    fn read(&mut self) -> Result<Question<'a>, DnsError> {
        let (name, end) = Name::parse(self.msg, self.pos)?;
        let qtype = be16(self.msg, end, "question type")?;
        let qclass = be16(self.msg, end.saturating_add(2), "question class")?;
        self.pos = end.saturating_add(4);
        Ok(Question {
            name,
            qtype,
            qclass,
        })
    }
}

impl<'a> Iterator for Questions<'a> {
    type Item = Result<Question<'a>, DnsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let r = self.read();
        self.remaining = if r.is_ok() {
            self.remaining.saturating_sub(1)
        } else {
            0
        };
        Some(r)
    }
}

/// A resource record. Its data is decoded on demand by [`Record::rdata`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    msg: &'a [u8],
    /// Owner name.
    pub name: Name<'a>,
    /// TYPE.
    pub rtype: u16,
    /// CLASS as on the wire (mDNS cache-flush bit included; for OPT, the UDP payload size).
    pub class: u16,
    /// TTL (for OPT, the extended RCODE, version and flags).
    pub ttl: u32,
    /// Section the record came from.
    pub section: Section,
    rdata_offset: usize,
    rdata_len: u16,
}

impl<'a> Record<'a> {
    /// The class without the mDNS cache-flush bit.
    pub fn class_code(&self) -> u16 {
        self.class & !MDNS_CACHE_FLUSH
    }
    /// mDNS: the cache-flush bit (top bit of CLASS).
    pub fn cache_flush(&self) -> bool {
        self.class & MDNS_CACHE_FLUSH != 0
    }
    /// Offset of the record data in the message.
    pub fn rdata_offset(&self) -> usize {
        self.rdata_offset
    }
    /// The raw record data.
    pub fn rdata_bytes(&self) -> &'a [u8] {
        slice(
            self.msg,
            self.rdata_offset,
            usize::from(self.rdata_len),
            "rdata",
        )
        .unwrap_or_default()
    }

    /// Decodes the record data by type; unknown types come back as [`Rdata::Other`].
    pub fn rdata(&self) -> Result<Rdata<'a>, DnsError> {
        let mut c = RdCursor {
            msg: self.msg,
            pos: self.rdata_offset,
            end: self
                .rdata_offset
                .saturating_add(usize::from(self.rdata_len)),
            rtype: self.rtype,
        };
        let data = self.rdata_bytes();
        let rd = match self.rtype {
            rtype::A => {
                let b = c.bytes(4, "A address")?;
                Rdata::A(Ipv4Addr::from(<[u8; 4]>::try_from(b).unwrap_or_default()))
            }
            rtype::AAAA => {
                let b = c.bytes(16, "AAAA address")?;
                Rdata::Aaaa(Ipv6Addr::from(<[u8; 16]>::try_from(b).unwrap_or_default()))
            }
            rtype::CNAME => Rdata::Cname(c.name("CNAME target")?),
            rtype::NS => Rdata::Ns(c.name("NS host")?),
            rtype::PTR => Rdata::Ptr(c.name("PTR target")?),
            rtype::MX => Rdata::Mx {
                preference: c.u16("MX preference")?,
                exchange: c.name("MX exchange")?,
            },
            rtype::TXT => {
                let strings = CharStrings { data };
                // Check the strings tile the data exactly, so iteration is infallible.
                let mut rest = data;
                while let Some((&len, tail)) = rest.split_first() {
                    rest = tail.get(usize::from(len)..).ok_or_else(|| {
                        truncated(
                            "TXT character-string",
                            c.end,
                            c.end.saturating_sub(tail.len()),
                            usize::from(len),
                        )
                    })?;
                }
                c.pos = c.end;
                Rdata::Txt(strings)
            }
            rtype::SOA => Rdata::Soa {
                mname: c.name("SOA mname")?,
                rname: c.name("SOA rname")?,
                serial: c.u32("SOA serial")?,
                refresh: c.u32("SOA refresh")?,
                retry: c.u32("SOA retry")?,
                expire: c.u32("SOA expire")?,
                minimum: c.u32("SOA minimum")?,
            },
            rtype::SRV => Rdata::Srv {
                priority: c.u16("SRV priority")?,
                weight: c.u16("SRV weight")?,
                port: c.u16("SRV port")?,
                target: c.name("SRV target")?,
            },
            rtype::OPT => {
                let mut rest = data;
                while !rest.is_empty() {
                    let at = c.end.saturating_sub(rest.len());
                    let len = be16(rest, 2, "OPT option header")
                        .map_err(|_| truncated("OPT option header", c.end, at, 4))?;
                    let len = usize::from(len);
                    rest = rest.get(4..).and_then(|r| r.get(len..)).ok_or_else(|| {
                        truncated("OPT option data", c.end, at.saturating_add(4), len)
                    })?;
                }
                c.pos = c.end;
                Rdata::Opt(Opt {
                    udp_payload_size: self.class,
                    extended_rcode: (self.ttl >> 24) as u8,
                    version: (self.ttl >> 16) as u8,
                    dnssec_ok: self.ttl & 0x8000 != 0,
                    options: OptOptions { data },
                })
            }
            other => {
                c.pos = c.end;
                Rdata::Other { rtype: other, data }
            }
        };
        if c.pos != c.end {
            return Err(DnsError::RdataLength {
                rtype: self.rtype,
                field: "record data",
                offset: self.rdata_offset,
                len: c.end.saturating_sub(c.pos),
            });
        }
        Ok(rd)
    }
}

/// Reads fields inside one record's data, never past its end.
struct RdCursor<'a> {
    msg: &'a [u8],
    pos: usize,
    end: usize,
    rtype: u16,
}

impl<'a> RdCursor<'a> {
    fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DnsError> {
        let within = self.msg.get(..self.end).unwrap_or_default();
        let b = slice(within, self.pos, n, field)?;
        self.pos = self.pos.saturating_add(n);
        Ok(b)
    }
    fn u16(&mut self, field: &'static str) -> Result<u16, DnsError> {
        let b = self.bytes(2, field)?;
        Ok(u16::from_be_bytes(
            <[u8; 2]>::try_from(b).unwrap_or_default(),
        ))
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, DnsError> {
        let b = self.bytes(4, field)?;
        Ok(u32::from_be_bytes(
            <[u8; 4]>::try_from(b).unwrap_or_default(),
        ))
    }
    fn name(&mut self, field: &'static str) -> Result<Name<'a>, DnsError> {
        // Pointers may reach anywhere earlier in the message; the stored part must fit the data.
        let (name, end) = Name::parse(self.msg, self.pos)?;
        if end > self.end {
            return Err(DnsError::RdataLength {
                rtype: self.rtype,
                field,
                offset: self.pos,
                len: end.saturating_sub(self.end),
            });
        }
        self.pos = end;
        Ok(name)
    }
}

/// Iterator over the records of a message (see [`DnsMessage::records`]).
#[derive(Debug, Clone)]
pub struct Records<'a> {
    msg: &'a [u8],
    /// Current offset; `None` until the questions have been skipped.
    pos: Option<usize>,
    remaining: [u16; 3],
    questions: Questions<'a>,
    only: Option<Section>,
}

impl<'a> Records<'a> {
    fn stop(&mut self) {
        self.remaining = [0; 3];
    }

    fn read(&mut self, pos: usize, section: Section) -> Result<(Record<'a>, usize), DnsError> {
        let (name, end) = Name::parse(self.msg, pos)?;
        let rtype = be16(self.msg, end, "record type")?;
        let class = be16(self.msg, end.saturating_add(2), "record class")?;
        let ttl = be32(self.msg, end.saturating_add(4), "record ttl")?;
        let rdata_len = be16(self.msg, end.saturating_add(8), "record data length")?;
        let rdata_offset = end.saturating_add(10);
        slice(
            self.msg,
            rdata_offset,
            usize::from(rdata_len),
            "record data",
        )?;
        let record = Record {
            msg: self.msg,
            name,
            rtype,
            class,
            ttl,
            section,
            rdata_offset,
            rdata_len,
        };
        Ok((record, rdata_offset.saturating_add(usize::from(rdata_len))))
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, DnsError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let pos = match self.pos {
                Some(p) => p,
                None => {
                    if self.remaining == [0; 3] {
                        return None;
                    }
                    for q in self.questions.by_ref() {
                        if let Err(e) = q {
                            self.stop();
                            return Some(Err(e));
                        }
                    }
                    let p = self.questions.position();
                    self.pos = Some(p);
                    p
                }
            };
            let (idx, section) = match self.remaining {
                [n, _, _] if n > 0 => (0, Section::Answer),
                [_, n, _] if n > 0 => (1, Section::Authority),
                [_, _, n] if n > 0 => (2, Section::Additional),
                _ => return None,
            };
            if self
                .only
                .is_some_and(|s| s != section && idx > self.only_index())
            {
                self.stop();
                return None;
            }
            match self.read(pos, section) {
                Ok((record, next)) => {
                    self.pos = Some(next);
                    if let Some(n) = self.remaining.get_mut(idx) {
                        *n = n.saturating_sub(1);
                    }
                    if self.only.is_none_or(|s| s == section) {
                        return Some(Ok(record));
                    }
                }
                Err(e) => {
                    self.stop();
                    return Some(Err(e));
                }
            }
        }
    }
}

impl Records<'_> {
    fn only_index(&self) -> usize {
        self.only.map_or(2, section_index)
    }
}

fn section_index(s: Section) -> usize {
    match s {
        Section::Answer => 0,
        Section::Authority => 1,
        Section::Additional => 2,
    }
}

/// Decoded record data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rdata<'a> {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// Canonical name.
    Cname(Name<'a>),
    /// Name server.
    Ns(Name<'a>),
    /// Pointer (reverse lookups, DNS-SD).
    Ptr(Name<'a>),
    /// Mail exchange.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// Mail server.
        exchange: Name<'a>,
    },
    /// Text: one or more character-strings.
    Txt(CharStrings<'a>),
    /// Start of authority.
    Soa {
        /// Primary name server.
        mname: Name<'a>,
        /// Responsible mailbox.
        rname: Name<'a>,
        /// Zone serial.
        serial: u32,
        /// Refresh interval, seconds.
        refresh: u32,
        /// Retry interval, seconds.
        retry: u32,
        /// Expiry, seconds.
        expire: u32,
        /// Negative-caching TTL, seconds.
        minimum: u32,
    },
    /// Service location (RFC 2782).
    Srv {
        /// Lower is preferred.
        priority: u16,
        /// Load-balancing weight.
        weight: u16,
        /// Service port.
        port: u16,
        /// Host.
        target: Name<'a>,
    },
    /// EDNS pseudo-record (RFC 6891).
    Opt(Opt<'a>),
    /// Any other type, undecoded.
    Other {
        /// TYPE.
        rtype: u16,
        /// The record data.
        data: &'a [u8],
    },
}

/// Iterator over the character-strings of a TXT record (checked by [`Record::rdata`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CharStrings<'a> {
    data: &'a [u8],
}

impl<'a> Iterator for CharStrings<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, rest) = self.data.split_first()?;
        let len = usize::from(len);
        let s = rest.get(..len);
        self.data = rest.get(len..).unwrap_or_default();
        s
    }
}

/// The EDNS OPT pseudo-record (RFC 6891 6.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opt<'a> {
    /// Largest UDP payload the sender can reassemble (the record's CLASS).
    pub udp_payload_size: u16,
    /// Upper 8 bits of the 12-bit RCODE.
    pub extended_rcode: u8,
    /// EDNS version.
    pub version: u8,
    /// DO bit: the sender understands DNSSEC.
    pub dnssec_ok: bool,
    options: OptOptions<'a>,
}

impl<'a> Opt<'a> {
    /// The options as `(code, data)` pairs.
    pub fn options(&self) -> OptOptions<'a> {
        self.options
    }
}

/// Iterator over EDNS options (checked by [`Record::rdata`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptOptions<'a> {
    data: &'a [u8],
}

impl<'a> Iterator for OptOptions<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let code = be16(self.data, 0, "option code").ok()?;
        let len = usize::from(be16(self.data, 2, "option length").ok()?);
        let value = slice(self.data, 4, len, "option data").ok()?;
        self.data = self.data.get(len.saturating_add(4)..).unwrap_or_default();
        Some((code, value))
    }
}

/// Record type numbers recognised by name.
pub mod rtype {
    /// IPv4 address.
    pub const A: u16 = 1;
    /// Name server.
    pub const NS: u16 = 2;
    /// Canonical name.
    pub const CNAME: u16 = 5;
    /// Start of authority.
    pub const SOA: u16 = 6;
    /// Pointer.
    pub const PTR: u16 = 12;
    /// Mail exchange.
    pub const MX: u16 = 15;
    /// Text.
    pub const TXT: u16 = 16;
    /// IPv6 address.
    pub const AAAA: u16 = 28;
    /// Service location.
    pub const SRV: u16 = 33;
    /// EDNS.
    pub const OPT: u16 = 41;
}

/// A record or query type that displays as tshark writes it: the mnemonic, or the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeName(pub u16);

/// The display name of a record type (`A`, `AAAA`, `ANY`, ...; the number otherwise).
pub fn type_name(rtype: u16) -> TypeName {
    TypeName(rtype)
}

impl TypeName {
    /// The mnemonic, if the type is known.
    pub fn mnemonic(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "A",
            2 => "NS",
            3 => "MD",
            4 => "MF",
            5 => "CNAME",
            6 => "SOA",
            7 => "MB",
            8 => "MG",
            9 => "MR",
            10 => "NULL",
            11 => "WKS",
            12 => "PTR",
            13 => "HINFO",
            14 => "MINFO",
            15 => "MX",
            16 => "TXT",
            17 => "RP",
            18 => "AFSDB",
            24 => "SIG",
            25 => "KEY",
            28 => "AAAA",
            29 => "LOC",
            30 => "NXT",
            33 => "SRV",
            35 => "NAPTR",
            36 => "KX",
            37 => "CERT",
            38 => "A6",
            39 => "DNAME",
            41 => "OPT",
            42 => "APL",
            43 => "DS",
            44 => "SSHFP",
            45 => "IPSECKEY",
            46 => "RRSIG",
            47 => "NSEC",
            48 => "DNSKEY",
            49 => "DHCID",
            50 => "NSEC3",
            51 => "NSEC3PARAM",
            52 => "TLSA",
            53 => "SMIMEA",
            55 => "HIP",
            59 => "CDS",
            60 => "CDNSKEY",
            61 => "OPENPGPKEY",
            62 => "CSYNC",
            63 => "ZONEMD",
            64 => "SVCB",
            65 => "HTTPS",
            99 => "SPF",
            249 => "TKEY",
            250 => "TSIG",
            251 => "IXFR",
            252 => "AXFR",
            253 => "MAILB",
            254 => "MAILA",
            255 => "ANY",
            256 => "URI",
            257 => "CAA",
            _ => return None,
        })
    }
}

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mnemonic() {
            Some(m) => f.write_str(m),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use crate::build::{
        DnsBuilder as Builder, dns_every_type_response as full_response, dns_labels as labels,
    };
    use proptest::prelude::*;

    /// A name's labels joined by `.`, bytes outside printable ASCII escaped (test output only).
    fn dotted(n: Name<'_>) -> String {
        let labels: Vec<String> = n.labels().map(|l| l.escape_ascii().to_string()).collect();
        labels.join(".")
    }

    /// A standard query for `A www.example.com`, id 0x1a2b, RD set (as dig sends it).
    static QUERY: [u8; 33] = [
        0x1a, 0x2b, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0,
        0x00, 0x01, 0x00, 0x01,
    ];

    fn name_err(bytes: &[u8]) -> DnsError {
        let msg = DnsMessage::parse(bytes).unwrap();
        msg.questions().next().unwrap().unwrap_err()
    }

    #[test]
    fn query_fixture_fields() {
        let msg = DnsMessage::parse(&QUERY).unwrap();
        assert_eq!(msg.id(), 0x1a2b);
        let f = msg.flags();
        assert!(!f.response() && f.recursion_desired() && !f.truncated() && !f.authoritative());
        assert_eq!((f.opcode(), f.rcode()), (0, 0));
        assert_eq!(
            [
                msg.question_count(),
                msg.answer_count(),
                msg.authority_count(),
                msg.additional_count()
            ],
            [1, 0, 0, 0]
        );
        let q: Vec<_> = msg.questions().collect::<Result<_, _>>().unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(dotted(q[0].name), "www.example.com");
        assert_eq!(
            (q[0].qtype, q[0].class(), q[0].unicast_response()),
            (1, 1, false)
        );
        assert_eq!(msg.records().count(), 0);
    }

    #[test]
    fn full_response_decodes_every_type() {
        let bytes = full_response();
        let msg = DnsMessage::parse(&bytes).unwrap();
        let recs: Vec<_> = msg.records().collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), 11);
        let data: Vec<Rdata<'_>> = recs.iter().map(|r| r.rdata().unwrap()).collect();
        assert!(matches!(data[0], Rdata::Cname(n) if dotted(n) == "www.example.com"));
        assert_eq!(data[1], Rdata::A(Ipv4Addr::new(93, 184, 216, 34)));
        assert_eq!(data[2], Rdata::Aaaa("2001:db8::1".parse().unwrap()));
        assert!(
            matches!(data[3], Rdata::Mx { preference: 10, exchange } if dotted(exchange) == "mail.example.com")
        );
        assert!(matches!(data[4], Rdata::Txt(_)));
        assert!(matches!(data[5],
            Rdata::Srv { priority: 1, weight: 2, port: 5060, target } if dotted(target) == "sip.example.com"));
        assert!(matches!(data[6], Rdata::Ptr(n) if dotted(n) == "example.com"));
        assert!(matches!(data[7], Rdata::Ns(n) if dotted(n) == "ns1.example.com"));
        assert_eq!(
            data[8],
            Rdata::Other {
                rtype: 99,
                data: &[0xde, 0xad]
            }
        );
        assert!(matches!(data[9], Rdata::Soa {
            mname, rname, serial: 2024, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300
        } if dotted(mname) == "ns1.example.com" && dotted(rname) == "hostmaster.example.com"));
        assert_eq!(recs[0].section, Section::Answer);
        assert_eq!(recs[9].section, Section::Authority);
        assert_eq!(recs[10].section, Section::Additional);
        assert!(recs[10].name.is_root());
        // The CNAME target was compressed against the question name.
        assert!(recs[0].rdata_bytes().len() < "www.example.com".len());
        match recs[4].rdata().unwrap() {
            Rdata::Txt(t) => assert_eq!(t.collect::<Vec<_>>(), [&b"hello"[..], b"", b"a\"b"]),
            other => panic!("{other:?}"),
        }
        match recs[10].rdata().unwrap() {
            Rdata::Opt(o) => {
                assert_eq!(
                    (o.udp_payload_size, o.version, o.dnssec_ok),
                    (1232, 0, true)
                );
                assert_eq!(
                    o.options().collect::<Vec<_>>(),
                    [(10, &[1, 2, 3, 4, 5, 6, 7, 8][..])]
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(msg.answers().count(), 9);
        assert_eq!(msg.section(Section::Authority).count(), 1);
        assert_eq!(msg.section(Section::Additional).count(), 1);
    }

    #[test]
    fn names_compare_by_labels_ignoring_case() {
        let bytes = full_response();
        let msg = DnsMessage::parse(&bytes).unwrap();
        let q = msg.questions().next().unwrap().unwrap().name;
        let ptr = msg.records().nth(6).unwrap().unwrap().rdata().unwrap();
        // The PTR target is a pointer to the question name; equal though stored elsewhere.
        assert!(matches!(ptr, Rdata::Ptr(n) if n == q && n.offset() != q.offset()));
        let mut b = Builder::new(1, 0, [2, 0, 0, 0], false);
        b.question(&labels("Example.COM"), 1, 1);
        b.question(&labels("example.org"), 1, 1);
        let m2 = DnsMessage::parse(&b.buf).unwrap();
        let qs: Vec<_> = m2.questions().map(|q| q.unwrap().name).collect();
        assert_eq!(qs[0], q);
        assert_ne!(qs[1], q);
    }

    #[test]
    fn self_pointer_is_an_error() {
        let mut m = QUERY[..12].to_vec();
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        let problem = NameProblem::PointerNotBackwards {
            pointer_at: 12,
            target: 12,
        };
        assert_eq!(
            name_err(&m),
            DnsError::Name {
                offset: 12,
                problem
            }
        );
    }

    #[test]
    fn forward_pointer_is_an_error() {
        let mut m = QUERY[..12].to_vec();
        m.extend_from_slice(&[0xc0, 14, 1, b'a', 0, 0, 1, 0, 1]);
        let problem = NameProblem::PointerNotBackwards {
            pointer_at: 12,
            target: 14,
        };
        assert_eq!(
            name_err(&m),
            DnsError::Name {
                offset: 12,
                problem
            }
        );
    }

    #[test]
    fn pointer_loop_is_an_error() {
        // "abc" then a pointer back to the start of the same name: a -> abc.abc.abc...
        let mut m = QUERY[..12].to_vec();
        m.extend_from_slice(&[3, b'a', b'b', b'c', 0xc0, 12, 0, 1, 0, 1]);
        let problem = NameProblem::PointerNotBackwards {
            pointer_at: 16,
            target: 12,
        };
        assert_eq!(
            name_err(&m),
            DnsError::Name {
                offset: 12,
                problem
            }
        );
        // Two names pointing at each other: the second is reached backwards, then the first
        // points forward again.
        let mut m = QUERY[..12].to_vec();
        m[5] = 2;
        m.extend_from_slice(&[1, b'x', 0xc0, 20, 0, 1, 0, 1, 1, b'y', 0xc0, 12, 0, 1, 0, 1]);
        let msg = DnsMessage::parse(&m).unwrap();
        let errs: Vec<_> = msg.questions().collect();
        assert!(matches!(errs[0], Err(DnsError::Name { offset: 12, .. })));
        assert_eq!(errs.len(), 1, "iteration stops after an error");
    }

    #[test]
    fn pointer_hop_limit() {
        // A root name at 12, then a chain of pointers, each to the previous one.
        let mut m = QUERY[..12].to_vec();
        m.push(0);
        let mut prev = 12u16;
        for _ in 0..=MAX_POINTER_HOPS {
            let at = m.len() as u16;
            m.extend_from_slice(&(0xc000 | prev).to_be_bytes());
            prev = at;
        }
        let ok = Name::parse(&m, usize::from(prev) - 2).unwrap().0;
        assert!(ok.is_root());
        assert_eq!(
            Name::parse(&m, usize::from(prev)).unwrap_err(),
            DnsError::Name {
                offset: usize::from(prev),
                problem: NameProblem::TooManyPointers
            }
        );
    }

    #[test]
    fn name_length_limit() {
        let label = |n: usize| vec![b'x'; n];
        // 3 * (1 + 63) + (1 + 62) + 1 = 256 > 255; one byte less is the longest legal name.
        for (last, ok) in [(61, true), (62, false)] {
            let mut b = Builder::new(1, 0, [1, 0, 0, 0], false);
            b.question(&[label(63), label(63), label(63), label(last)], 1, 1);
            let msg = DnsMessage::parse(&b.buf).unwrap();
            let q = msg.questions().next().unwrap();
            if ok {
                assert_eq!(dotted(q.unwrap().name).len(), 63 * 3 + last + 3);
            } else {
                let problem = NameProblem::TooLong;
                assert_eq!(
                    q.unwrap_err(),
                    DnsError::Name {
                        offset: 12,
                        problem
                    }
                );
            }
        }
    }

    #[test]
    fn reserved_label_type() {
        let mut m = QUERY[..12].to_vec();
        m.extend_from_slice(&[0x41, 1, 0, 0, 1, 0, 1]);
        let problem = NameProblem::ReservedLabelType { byte: 0x41, at: 12 };
        assert_eq!(
            name_err(&m),
            DnsError::Name {
                offset: 12,
                problem
            }
        );
    }

    #[test]
    fn header_truncation() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                DnsMessage::parse(&QUERY[..len]).unwrap_err(),
                DnsError::Truncated {
                    field: "header",
                    offset: 0,
                    needed: 12,
                    available: len
                }
            );
        }
    }

    /// Walks everything a consumer could ask for; returns the first error met.
    fn exercise(bytes: &[u8]) -> Option<DnsError> {
        let msg = match DnsMessage::parse(bytes) {
            Ok(m) => m,
            Err(e) => return Some(e),
        };
        let mut first = None;
        for q in msg.questions() {
            match q {
                Ok(q) => drop(q.name.labels().count()),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        for r in msg.records() {
            match r.and_then(|r| {
                let _ = r.name.labels().count();
                r.rdata()
            }) {
                Ok(d) => walk_rdata(d),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        first
    }

    /// Reads every part of record data, as a renderer would.
    fn walk_rdata(d: Rdata<'_>) {
        match d {
            Rdata::Cname(n) | Rdata::Ns(n) | Rdata::Ptr(n) => drop(n.labels().count()),
            Rdata::Mx { exchange, .. } => drop(exchange.labels().count()),
            Rdata::Srv { target, .. } => drop(target.labels().count()),
            Rdata::Soa { mname, rname, .. } => drop(mname.labels().chain(rname.labels()).count()),
            Rdata::Txt(t) => drop(t.map(<[u8]>::len).sum::<usize>()),
            Rdata::Opt(o) => drop(o.options().count()),
            Rdata::A(_) | Rdata::Aaaa(_) | Rdata::Other { .. } => {}
        }
    }

    #[test]
    fn every_prefix_fails_cleanly() {
        let bytes = full_response();
        assert_eq!(exercise(&bytes), None);
        for len in 0..bytes.len() {
            assert!(
                exercise(&bytes[..len]).is_some(),
                "prefix of {len} bytes accepted"
            );
        }
    }

    #[test]
    fn rdata_must_fill_its_length() {
        let mut b = Builder::new(1, 0x8000, [0, 1, 0, 0], false);
        b.record(&labels("a"), rtype::A, 1, 0, |b| {
            b.buf.extend_from_slice(&[1, 2, 3, 4, 5])
        });
        let msg = DnsMessage::parse(&b.buf).unwrap();
        let r = msg.answers().next().unwrap().unwrap();
        assert_eq!(
            r.rdata().unwrap_err(),
            DnsError::RdataLength {
                rtype: 1,
                field: "record data",
                offset: 25,
                len: 1
            }
        );
        let mut b = Builder::new(1, 0x8000, [0, 1, 0, 0], false);
        b.record(&labels("a"), rtype::AAAA, 1, 0, |b| {
            b.buf.extend_from_slice(&[1, 2, 3, 4])
        });
        let msg = DnsMessage::parse(&b.buf).unwrap();
        let r = msg.answers().next().unwrap().unwrap();
        assert!(matches!(
            r.rdata(),
            Err(DnsError::Truncated {
                field: "AAAA address",
                ..
            })
        ));
    }

    #[test]
    fn mdns_class_bits() {
        let mut b = Builder::new(0, 0x8400, [1, 1, 0, 0], true);
        b.question(&labels("_ipp._tcp.local"), rtype::PTR, 0x8001);
        b.record(&labels("_ipp._tcp.local"), rtype::PTR, 0x8001, 4500, |b| {
            b.name(&labels("printer._ipp._tcp.local"))
        });
        let msg = DnsMessage::parse(&b.buf).unwrap();
        let q = msg.questions().next().unwrap().unwrap();
        assert!(q.unicast_response());
        assert_eq!(q.class(), 1);
        let r = msg.answers().next().unwrap().unwrap();
        assert!(r.cache_flush());
        assert_eq!(r.class_code(), 1);
        assert!(
            matches!(r.rdata().unwrap(), Rdata::Ptr(n) if dotted(n) == "printer._ipp._tcp.local")
        );
    }

    #[test]
    fn tcp_framing() {
        let mut stream = Vec::new();
        stream.extend_from_slice(&(QUERY.len() as u16).to_be_bytes());
        stream.extend_from_slice(&QUERY);
        stream.extend_from_slice(&[0, 40, 1]);
        match parse_tcp(&stream).unwrap() {
            TcpFrame::Complete { message, consumed } => {
                assert_eq!(consumed, QUERY.len() + 2);
                assert_eq!(message.id(), 0x1a2b);
                assert_eq!(
                    parse_tcp(&stream[consumed..]).unwrap(),
                    TcpFrame::NeedMore { needed: 42 }
                );
            }
            other => panic!("{other:?}"),
        }
        for len in 0..QUERY.len() + 2 {
            let needed = if len < 2 { 2 } else { QUERY.len() + 2 };
            assert_eq!(
                parse_tcp(&stream[..len]).unwrap(),
                TcpFrame::NeedMore { needed }
            );
        }
        assert_eq!(
            parse_tcp(&[0, 5, 0, 0]).unwrap_err(),
            DnsError::TcpLength { len: 5 }
        );
    }

    #[test]
    fn type_names_as_tshark() {
        let names: Vec<String> = [1, 28, 5, 12, 33, 41, 255, 65, 65280]
            .map(|t| type_name(t).to_string())
            .to_vec();
        assert_eq!(
            names,
            [
                "A", "AAAA", "CNAME", "PTR", "SRV", "OPT", "ANY", "HTTPS", "65280"
            ]
        );
    }

    /// A record value the property test builds and expects back.
    #[derive(Debug, Clone, PartialEq)]
    enum Val {
        A([u8; 4]),
        Aaaa([u8; 16]),
        Cname(Vec<Vec<u8>>),
        Mx(u16, Vec<Vec<u8>>),
        Txt(Vec<Vec<u8>>),
        Srv(u16, u16, u16, Vec<Vec<u8>>),
        Other(u16, Vec<u8>),
    }

    fn arb_labels() -> impl Strategy<Value = Vec<Vec<u8>>> {
        // Few distinct labels, so suffixes repeat and compression kicks in.
        let label = prop_oneof![
            Just(b"com".to_vec()),
            Just(b"example".to_vec()),
            Just(b"local".to_vec()),
            proptest::collection::vec(any::<u8>(), 1..12),
        ];
        proptest::collection::vec(label, 0..5)
    }

    fn arb_val() -> impl Strategy<Value = Val> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(Val::A),
            any::<[u8; 16]>().prop_map(Val::Aaaa),
            arb_labels().prop_map(Val::Cname),
            (any::<u16>(), arb_labels()).prop_map(|(p, n)| Val::Mx(p, n)),
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 1..4)
                .prop_map(Val::Txt),
            (any::<u16>(), any::<u16>(), any::<u16>(), arb_labels())
                .prop_map(|(a, b, c, n)| Val::Srv(a, b, c, n)),
            (300u16..400, proptest::collection::vec(any::<u8>(), 0..30))
                .prop_map(|(t, d)| Val::Other(t, d)),
        ]
    }

    fn write_val(b: &mut Builder, v: &Val) -> u16 {
        match v {
            Val::A(a) => b.buf.extend_from_slice(a),
            Val::Aaaa(a) => b.buf.extend_from_slice(a),
            Val::Cname(n) => b.name(n),
            Val::Mx(p, n) => {
                b.u16(*p);
                b.name(n);
            }
            Val::Txt(ss) => {
                for s in ss {
                    b.buf.push(s.len() as u8);
                    b.buf.extend_from_slice(s);
                }
            }
            Val::Srv(p, w, port, n) => {
                b.u16(*p);
                b.u16(*w);
                b.u16(*port);
                b.name(n);
            }
            Val::Other(_, d) => b.buf.extend_from_slice(d),
        }
        match v {
            Val::A(_) => rtype::A,
            Val::Aaaa(_) => rtype::AAAA,
            Val::Cname(_) => rtype::CNAME,
            Val::Mx(..) => rtype::MX,
            Val::Txt(_) => rtype::TXT,
            Val::Srv(..) => rtype::SRV,
            Val::Other(t, _) => *t,
        }
    }

    fn owned(n: Name<'_>) -> Vec<Vec<u8>> {
        n.labels().map(<[u8]>::to_vec).collect()
    }

    fn read_val(d: Rdata<'_>) -> Val {
        match d {
            Rdata::A(a) => Val::A(a.octets()),
            Rdata::Aaaa(a) => Val::Aaaa(a.octets()),
            Rdata::Cname(n) => Val::Cname(owned(n)),
            Rdata::Mx {
                preference,
                exchange,
            } => Val::Mx(preference, owned(exchange)),
            Rdata::Txt(t) => Val::Txt(t.map(<[u8]>::to_vec).collect()),
            Rdata::Srv {
                priority,
                weight,
                port,
                target,
            } => Val::Srv(priority, weight, port, owned(target)),
            Rdata::Other { rtype, data } => Val::Other(rtype, data.to_vec()),
            other => panic!("unexpected {other:?}"),
        }
    }

    proptest! {
        #[test]
        fn built_messages_parse_back(
            id in any::<u16>(),
            compress in any::<bool>(),
            questions in proptest::collection::vec((arb_labels(), any::<u16>()), 0..4),
            records in proptest::collection::vec((arb_labels(), arb_val(), any::<u32>()), 0..8),
        ) {
            let an = records.len() as u16;
            let mut b = Builder::new(id, 0x8180, [questions.len() as u16, an, 0, 0], compress);
            for (n, t) in &questions {
                b.question(n, *t, 1);
            }
            for (n, v, ttl) in &records {
                let t = write_val(&mut Builder::default(), v);
                b.record(n, t, 1, *ttl, |b| { write_val(b, v); });
            }
            let msg = DnsMessage::parse(&b.buf).unwrap();
            prop_assert_eq!(msg.id(), id);
            let qs: Vec<_> = msg.questions().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(qs.len(), questions.len());
            for (q, (n, t)) in qs.iter().zip(&questions) {
                prop_assert_eq!(&owned(q.name), n);
                prop_assert_eq!(q.qtype, *t);
            }
            let rs: Vec<_> = msg.records().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(rs.len(), records.len());
            for (r, (n, v, ttl)) in rs.iter().zip(&records) {
                prop_assert_eq!(&owned(r.name), n);
                prop_assert_eq!(r.ttl, *ttl);
                prop_assert_eq!(&read_val(r.rdata().unwrap()), v);
            }
            prop_assert_eq!(exercise(&b.buf), None);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = exercise(&bytes);
        }

        #[test]
        fn mutated_messages_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
            let mut bytes = full_response();
            for (at, v) in flips {
                let n = bytes.len();
                bytes[at % n] = v;
            }
            let _ = exercise(&bytes);
        }
    }
}
