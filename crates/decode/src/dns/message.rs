//! The message: header fields and flags, the questions, and the iterators over the answer,
//! authority and additional sections; DNS over TCP framing.

use super::names::Name;
use super::records::Record;
use super::{DnsError, HEADER_LEN, MDNS_UNICAST_RESPONSE, be16, slice};

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

fn range16(buf: &[u8], r: std::ops::Range<usize>) -> u16 {
    // Only called on the header, whose length `DnsMessage::parse` checked.
    be16(buf, r.start, "header").unwrap_or(0)
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
        Record::read(self.msg, pos, section)
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

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use crate::build::{DnsBuilder as Builder, dns_every_type_response as full_response};
    use crate::dns::testutil::{QUERY, dotted, exercise};
    use crate::dns::{Rdata, rtype};
    use proptest::prelude::*;

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
