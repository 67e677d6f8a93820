//! Resource records: the fixed fields of a [`Record`] and its data decoded on demand as
//! [`Rdata`], plus the record type numbers and their mnemonics.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::message::Section;
use super::names::Name;
use super::{DnsError, MDNS_CACHE_FLUSH, be16, be32, slice, truncated};

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
    /// Reads the record at `pos` of `msg` and returns it with the offset just past it.
    pub(super) fn read(
        msg: &'a [u8],
        pos: usize,
        section: Section,
    ) -> Result<(Record<'a>, usize), DnsError> {
        let (name, end) = Name::parse(msg, pos)?;
        let rtype = be16(msg, end, "record type")?;
        let class = be16(msg, end.saturating_add(2), "record class")?;
        let ttl = be32(msg, end.saturating_add(4), "record ttl")?;
        let rdata_len = be16(msg, end.saturating_add(8), "record data length")?;
        let rdata_offset = end.saturating_add(10);
        slice(msg, rdata_offset, usize::from(rdata_len), "record data")?;
        let record = Record {
            msg,
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
    use crate::dns::DnsMessage;
    use crate::dns::testutil::dotted;

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
}
