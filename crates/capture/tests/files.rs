//! Hand-built pcap and pcapng files for every format variant, truncation sweeps, arbitrary
//! bytes, and writer -> reader round trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;

use pcap_capture::{
    CaptureError, DecryptionSecrets, FileFormat, FileReader, LinkType, Malformation, Part,
    PcapNgWriter, PcapWriter, Position, TsPrecision,
};
use proptest::prelude::*;

/// An owned copy of a packet, for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owned {
    ts_ns: i64,
    caplen: u32,
    orig_len: u32,
    link_type: LinkType,
    interface: u32,
    data: Vec<u8>,
    comment: Option<String>,
}

fn owned(ts_ns: i64, orig_len: u32, link_type: LinkType, interface: u32, data: &[u8]) -> Owned {
    Owned {
        ts_ns,
        caplen: data.len() as u32,
        orig_len,
        link_type,
        interface,
        data: data.to_vec(),
        comment: None,
    }
}

/// Reads everything: the packets, then the error if any.
fn read_all(bytes: &[u8]) -> (Vec<Owned>, Option<CaptureError>) {
    let mut reader = match FileReader::from_reader(Cursor::new(bytes.to_vec())) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut out = Vec::new();
    loop {
        match reader.next_packet() {
            Ok(Some(p)) => {
                let mut o = owned(p.ts_ns, p.orig_len, p.link_type, p.interface, p.data);
                o.caplen = p.caplen;
                out.push(o);
                let c = reader.packet_comment().map(str::to_owned);
                out.last_mut().unwrap().comment = c;
            }
            Ok(None) => return (out, None),
            Err(e) => {
                // After an error the reader is finished.
                assert!(matches!(reader.next_packet(), Ok(None)));
                return (out, Some(e));
            }
        }
    }
}

// ---------------------------------------------------------------- classic pcap

#[derive(Clone, Copy)]
struct PcapSpec {
    big_endian: bool,
    nanos: bool,
    link_type: u16,
    snaplen: u32,
}

fn put32(out: &mut Vec<u8>, v: u32, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}
fn put16(out: &mut Vec<u8>, v: u16, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// A pcap file: records are (seconds, fraction, orig_len, data).
fn pcap_file(spec: PcapSpec, records: &[(u32, u32, u32, &[u8])]) -> Vec<u8> {
    let be = spec.big_endian;
    let mut out = Vec::new();
    put32(
        &mut out,
        if spec.nanos { 0xa1b23c4d } else { 0xa1b2c3d4 },
        be,
    );
    put16(&mut out, 2, be);
    put16(&mut out, 4, be);
    put32(&mut out, 0, be);
    put32(&mut out, 0, be);
    put32(&mut out, spec.snaplen, be);
    put32(&mut out, spec.link_type.into(), be);
    for (sec, frac, orig, data) in records {
        put32(&mut out, *sec, be);
        put32(&mut out, *frac, be);
        put32(&mut out, data.len() as u32, be);
        put32(&mut out, *orig, be);
        out.extend_from_slice(data);
    }
    out
}

const P1: &[u8] = b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x08\x00hello";
const P2: &[u8] = b"second packet, longer than the first";
const P3: &[u8] = b"3";

#[test]
fn pcap_all_byte_orders_and_precisions() {
    for big_endian in [false, true] {
        for nanos in [false, true] {
            let spec = PcapSpec {
                big_endian,
                nanos,
                link_type: 113,
                snaplen: 96,
            };
            let file = pcap_file(
                spec,
                &[
                    (1_700_000_000, 123_456, 60, P1),
                    (1_700_000_001, 999_999, 36, P2),
                ],
            );
            let reader = FileReader::from_reader(Cursor::new(file.clone())).unwrap();
            assert_eq!(
                reader.format(),
                FileFormat::Pcap {
                    nanos,
                    big_endian,
                    snaplen: 96
                }
            );
            assert_eq!(reader.link_type(), Some(LinkType::LINUX_SLL));
            let scale = if nanos { 1 } else { 1000 };
            let (packets, err) = read_all(&file);
            assert!(err.is_none(), "{err:?}");
            assert_eq!(
                packets,
                vec![
                    owned(
                        1_700_000_000_000_000_000 + 123_456 * scale,
                        60,
                        LinkType::LINUX_SLL,
                        0,
                        P1
                    ),
                    owned(
                        1_700_000_001_000_000_000 + 999_999 * scale,
                        36,
                        LinkType::LINUX_SLL,
                        0,
                        P2
                    ),
                ]
            );
        }
    }
}

/// The "modified" libpcap format (magic 0xa1b2cd34): 24-byte records (interface index,
/// protocol, packet type and a pad byte after the usual 16), in both byte orders.
#[test]
fn pcap_modified_format_has_24_byte_records() {
    for be in [false, true] {
        let mut f = Vec::new();
        put32(&mut f, 0xa1b2_cd34, be);
        put16(&mut f, 2, be);
        put16(&mut f, 4, be);
        put32(&mut f, 0, be);
        put32(&mut f, 0, be);
        put32(&mut f, 65535, be);
        put32(&mut f, 1, be);
        for (sec, data) in [(5u32, &b"first"[..]), (6, &b"second!"[..])] {
            put32(&mut f, sec, be);
            put32(&mut f, 7, be);
            put32(&mut f, data.len() as u32, be);
            put32(&mut f, data.len() as u32 + 1, be);
            put32(&mut f, 3, be); // interface index
            put16(&mut f, 0x0800, be); // protocol
            f.extend_from_slice(&[0, 0]); // packet type, pad
            f.extend_from_slice(data);
        }
        let (packets, err) = read_all(&f);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(packets.len(), 2);
        assert_eq!(packets[0].data, b"first");
        assert_eq!(packets[1].data, b"second!");
        assert_eq!(packets[1].ts_ns, 6_000_007_000);
        assert_eq!(packets[1].orig_len, 8);
        // Cut inside the second record's extra header fields: a typed truncation.
        let (packets, err) = read_all(&f[..24 + 24 + 5 + 20]);
        assert_eq!(packets.len(), 1);
        assert!(
            matches!(err, Some(CaptureError::Truncated { .. })),
            "{err:?}"
        );
    }
}

#[test]
fn pcap_unknown_link_type_passes_through() {
    let spec = PcapSpec {
        big_endian: false,
        nanos: false,
        link_type: 4242,
        snaplen: 65535,
    };
    let (packets, err) = read_all(&pcap_file(spec, &[(1, 2, 1, P3)]));
    assert!(err.is_none());
    assert_eq!(packets[0].link_type, LinkType(4242));
    assert_eq!(LinkType(4242).to_string(), "LINKTYPE_4242");
}

/// The FCS length each packet of `file` declares.
fn fcs_lens(file: Vec<u8>) -> Vec<u8> {
    let mut reader = FileReader::from_reader(Cursor::new(file)).unwrap();
    let mut lens = Vec::new();
    while let Some(p) = reader.next_packet().unwrap() {
        lens.push(p.fcs_len);
    }
    lens
}

#[test]
fn pcap_link_type_fcs_bits_give_the_fcs_length() {
    let spec = PcapSpec {
        big_endian: false,
        nanos: false,
        link_type: 1,
        snaplen: 65535,
    };
    let mut file = pcap_file(spec, &[(1, 2, P1.len() as u32, P1)]);
    assert_eq!(fcs_lens(file.clone()), [0]);
    // libpcap's LT_FCS_DATALINK_EXT(2): 2 words (4 bytes) of FCS, P bit set, Ethernet.
    file[20..24].copy_from_slice(&0x2400_0001u32.to_le_bytes());
    assert_eq!(fcs_lens(file.clone()), [4]);
    let (packets, err) = read_all(&file);
    assert!(err.is_none());
    assert_eq!(packets[0].link_type, LinkType::ETHERNET);
    // Without the P bit the top bits mean nothing.
    file[20..24].copy_from_slice(&0x2000_0001u32.to_le_bytes());
    assert_eq!(fcs_lens(file), [0]);
}

#[test]
fn pcapng_if_fcslen_gives_the_fcs_length() {
    for be in [false, true] {
        let mut ng = Ng::new(be);
        ng.shb();
        let mut idb = Vec::new();
        put16(&mut idb, 1, be);
        put16(&mut idb, 0, be);
        put32(&mut idb, 65535, be);
        ng.opt(&mut idb, 13, &[4]); // if_fcslen
        put32(&mut idb, 0, be);
        ng.block(1, &idb).idb(1, 65535, None, None);
        ng.epb(0, 1, P1.len() as u32, P1, None)
            .epb(1, 2, P1.len() as u32, P1, None);
        assert_eq!(fcs_lens(ng.out.clone()), [4, 0], "big endian: {be}");
    }
}

#[test]
fn pcap_truncated_record_says_after_which_packet() {
    let spec = PcapSpec {
        big_endian: false,
        nanos: false,
        link_type: 1,
        snaplen: 65535,
    };
    let file = pcap_file(spec, &[(1, 0, 19, P1), (2, 0, 36, P2)]);
    let cut = file.len() - 10;
    let (packets, err) = read_all(&file[..cut]);
    assert_eq!(packets.len(), 1);
    let err = err.unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "truncated packet record after packet 1 (offset {}): needed 36 bytes, 26 available",
            24 + 16 + P1.len()
        )
    );
}

#[test]
fn pcap_absurd_caplen_is_refused_without_allocating() {
    let spec = PcapSpec {
        big_endian: true,
        nanos: false,
        link_type: 1,
        snaplen: 65535,
    };
    let mut file = pcap_file(spec, &[(1, 0, 19, P1)]);
    file.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]);
    let (packets, err) = read_all(&file);
    assert_eq!(packets.len(), 1);
    match err {
        Some(CaptureError::TooLong {
            part: Part::RecordData,
            at: Position {
                after_packet: 1, ..
            },
            len: 0xffff_ffff,
            limit: 262_144,
        }) => {}
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn bad_magic_and_short_header() {
    let (_, err) = read_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        err.unwrap().to_string(),
        "not a pcap or pcapng file: unknown magic number 0x47455420"
    );
    let (_, err) = read_all(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    assert_eq!(
        err.unwrap().to_string(),
        "truncated file header: needed 24 bytes, 8 available"
    );
    let (_, err) = read_all(&[]);
    assert!(matches!(
        err,
        Some(CaptureError::TruncatedFileHeader { available: 0, .. })
    ));
}

// ---------------------------------------------------------------- pcapng

/// Builds pcapng blocks in one byte order.
struct Ng {
    be: bool,
    out: Vec<u8>,
}

impl Ng {
    fn new(be: bool) -> Ng {
        Ng {
            be,
            out: Vec::new(),
        }
    }
    fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Ng {
        let len = 12 + body.len().next_multiple_of(4);
        put32(&mut self.out, block_type, self.be);
        put32(&mut self.out, len as u32, self.be);
        self.out.extend_from_slice(body);
        self.out.resize(
            self.out.len() + body.len().next_multiple_of(4) - body.len(),
            0,
        );
        put32(&mut self.out, len as u32, self.be);
        self
    }
    fn opt(&self, body: &mut Vec<u8>, code: u16, value: &[u8]) {
        put16(body, code, self.be);
        put16(body, value.len() as u16, self.be);
        body.extend_from_slice(value);
        body.resize(body.len().next_multiple_of(4), 0);
    }
    fn shb(&mut self) -> &mut Ng {
        let mut body = Vec::new();
        put32(&mut body, 0x1a2b3c4d, self.be);
        put16(&mut body, 1, self.be);
        put16(&mut body, 0, self.be);
        body.extend_from_slice(&[0xff; 8]);
        self.opt(&mut body, 1, b"section comment");
        put32(&mut body, 0, self.be);
        self.block(0x0a0d0d0a, &body)
    }
    fn idb(
        &mut self,
        link_type: u16,
        snaplen: u32,
        tsresol: Option<u8>,
        tsoffset: Option<i64>,
    ) -> &mut Ng {
        let mut body = Vec::new();
        put16(&mut body, link_type, self.be);
        put16(&mut body, 0, self.be);
        put32(&mut body, snaplen, self.be);
        self.opt(&mut body, 2, b"eth0");
        if let Some(r) = tsresol {
            self.opt(&mut body, 9, &[r]);
        }
        if let Some(o) = tsoffset {
            let bytes = if self.be {
                o.to_be_bytes()
            } else {
                o.to_le_bytes()
            };
            self.opt(&mut body, 14, &bytes);
        }
        put32(&mut body, 0, self.be);
        self.block(1, &body)
    }
    fn epb(
        &mut self,
        iface: u32,
        ts: u64,
        orig: u32,
        data: &[u8],
        comment: Option<&str>,
    ) -> &mut Ng {
        let mut body = Vec::new();
        put32(&mut body, iface, self.be);
        put32(&mut body, (ts >> 32) as u32, self.be);
        put32(&mut body, ts as u32, self.be);
        put32(&mut body, data.len() as u32, self.be);
        put32(&mut body, orig, self.be);
        body.extend_from_slice(data);
        body.resize(body.len().next_multiple_of(4), 0);
        if let Some(c) = comment {
            self.opt(&mut body, 2988, b"custom"); // an option we do not know, skipped
            self.opt(&mut body, 1, c.as_bytes());
            put32(&mut body, 0, self.be);
        }
        self.block(6, &body)
    }
    fn pb(&mut self, iface: u16, ts: u64, orig: u32, data: &[u8]) -> &mut Ng {
        let mut body = Vec::new();
        put16(&mut body, iface, self.be);
        put16(&mut body, 0, self.be);
        put32(&mut body, (ts >> 32) as u32, self.be);
        put32(&mut body, ts as u32, self.be);
        put32(&mut body, data.len() as u32, self.be);
        put32(&mut body, orig, self.be);
        body.extend_from_slice(data);
        self.block(2, &body)
    }
    fn spb(&mut self, orig: u32, data: &[u8]) -> &mut Ng {
        let mut body = Vec::new();
        put32(&mut body, orig, self.be);
        body.extend_from_slice(data);
        self.block(3, &body)
    }
}

const T0: u64 = 1_700_000_000;

/// Two sections; the first with two interfaces (Ethernet in microseconds with an offset,
/// raw IP in nanoseconds), the second with one interface in 2^-10 s, plus statistics and
/// unknown blocks, a comment, an obsolete packet block and a simple packet block.
fn two_sections(be: bool) -> (Vec<u8>, Vec<Owned>) {
    let mut ng = Ng::new(be);
    ng.shb()
        .idb(1, 65535, None, Some(10))
        .idb(101, 0, Some(9), None)
        .epb(0, T0 * 1_000_000 + 1, 60, P1, Some("first packet"))
        .block(5, &[0; 20]) // interface statistics: skipped
        .epb(1, T0 * 1_000_000_000 + 2, 36, P2, None)
        .block(0x4242_4242, b"unknown block body!!") // unknown: skipped
        .pb(0, T0 * 1_000_000 + 3, 1, P3)
        .shb()
        .idb(228, 4, Some(0x80 | 10), None)
        .epb(0, T0 * 1024 + 512, 19, P1, None)
        .spb(19, P1);
    let mut first = owned(
        (T0 as i64 + 10) * 1_000_000_000 + 1000,
        60,
        LinkType::ETHERNET,
        0,
        P1,
    );
    first.comment = Some("first packet".into());
    let expected = vec![
        first,
        owned(T0 as i64 * 1_000_000_000 + 2, 36, LinkType::RAW, 1, P2),
        owned(
            (T0 as i64 + 10) * 1_000_000_000 + 3000,
            1,
            LinkType::ETHERNET,
            0,
            P3,
        ),
        owned(
            T0 as i64 * 1_000_000_000 + 500_000_000,
            19,
            LinkType::IPV4,
            0,
            P1,
        ),
        // snaplen 4 cuts the simple packet block's data
        owned(0, 19, LinkType::IPV4, 0, &P1[..4]),
    ];
    (ng.out, expected)
}

#[test]
fn pcapng_two_sections_both_byte_orders() {
    for be in [false, true] {
        let (file, expected) = two_sections(be);
        let reader = FileReader::from_reader(Cursor::new(file.clone())).unwrap();
        assert_eq!(reader.format(), FileFormat::PcapNg);
        assert_eq!(reader.interfaces().len(), 2, "interfaces primed at open");
        assert_eq!(
            reader.link_type(),
            None,
            "two link types in the first section"
        );
        let (packets, err) = read_all(&file);
        assert!(err.is_none(), "be={be}: {err:?}");
        assert_eq!(packets, expected, "be={be}");
    }
}

#[test]
fn pcapng_mixed_byte_order_sections() {
    let (mut file, mut expected) = two_sections(false);
    let (be_file, be_expected) = two_sections(true);
    file.extend_from_slice(&be_file);
    expected.extend(be_expected);
    let (packets, err) = read_all(&file);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(packets, expected);
}

#[test]
fn pcapng_single_link_type_is_reported() {
    let mut ng = Ng::new(false);
    ng.shb()
        .idb(1, 0, None, None)
        .idb(1, 0, None, None)
        .epb(1, 5, 1, P3, None);
    let reader = FileReader::from_reader(Cursor::new(ng.out.clone())).unwrap();
    assert_eq!(reader.link_type(), Some(LinkType::ETHERNET));
}

#[test]
fn pcapng_errors_are_typed() {
    // packet on an undescribed interface
    let mut ng = Ng::new(false);
    ng.shb()
        .idb(1, 0, None, None)
        .epb(0, 1, 1, P3, None)
        .epb(3, 1, 1, P3, None);
    let (packets, err) = read_all(&ng.out);
    assert_eq!(packets.len(), 1);
    let err = err.unwrap();
    assert!(matches!(
        err,
        CaptureError::Malformed {
            what: Malformation::UnknownInterface {
                interface: 3,
                defined: 1
            },
            at: Position {
                after_packet: 1,
                ..
            },
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "malformed pcapng block after packet 1 (offset 120): packet on interface 3 but the section describes 1 interface(s)"
    );

    // trailer mismatch
    let mut ng = Ng::new(false);
    ng.shb().idb(1, 0, None, None).epb(0, 1, 1, P3, None);
    let last = ng.out.len() - 4;
    ng.out[last] ^= 4;
    let (_, err) = read_all(&ng.out);
    assert!(matches!(
        err,
        Some(CaptureError::Malformed {
            what: Malformation::TrailerMismatch { .. },
            ..
        })
    ));

    // absurd block length
    let mut ng = Ng::new(true);
    ng.shb();
    ng.out
        .extend_from_slice(&[0, 0, 0, 6, 0xff, 0xff, 0xff, 0xfc]);
    let (_, err) = read_all(&ng.out);
    assert!(
        matches!(
            err,
            Some(CaptureError::TooLong {
                part: Part::Block,
                ..
            })
        ),
        "{err:?}"
    );

    // unsupported version
    let mut ng = Ng::new(false);
    ng.shb();
    ng.out[12] = 2;
    let (_, err) = read_all(&ng.out);
    assert!(matches!(
        err,
        Some(CaptureError::Malformed {
            what: Malformation::UnsupportedVersion(2, 0),
            ..
        })
    ));
}

// ---------------------------------------------------------------- truncation sweeps

/// Every prefix: the packets read are a prefix of the full list, and the reader ends with an
/// error unless the cut falls exactly between records.
fn sweep(file: &[u8], boundaries: &[usize]) {
    let (all, err) = read_all(file);
    assert!(err.is_none());
    for cut in 0..file.len() {
        let (packets, err) = read_all(&file[..cut]);
        assert!(packets.len() <= all.len());
        assert_eq!(packets[..], all[..packets.len()], "cut {cut}");
        if boundaries.contains(&cut) {
            assert!(err.is_none(), "cut {cut} at a boundary: {err:?}");
        } else {
            let err = err.unwrap_or_else(|| panic!("cut {cut}: no error"));
            let text = err.to_string();
            assert!(text.starts_with("truncated "), "cut {cut}: {text}");
            assert!(!text.contains('\n'));
            if let CaptureError::Truncated { at, .. } = err {
                assert_eq!(at.after_packet, packets.len() as u64, "cut {cut}");
            }
        }
    }
}

#[test]
fn pcap_truncation_sweep() {
    for big_endian in [false, true] {
        let spec = PcapSpec {
            big_endian,
            nanos: true,
            link_type: 1,
            snaplen: 65535,
        };
        let file = pcap_file(spec, &[(1, 0, 19, P1), (2, 0, 36, P2), (3, 0, 1, P3)]);
        let b1 = 24 + 16 + P1.len();
        let b2 = b1 + 16 + P2.len();
        sweep(&file, &[24, b1, b2]);
    }
}

#[test]
fn pcapng_truncation_sweep() {
    for be in [false, true] {
        let (file, _) = two_sections(be);
        // Boundaries: the end of every block after the first section header's interfaces.
        let mut boundaries = Vec::new();
        let mut at = 0;
        while at < file.len() {
            let len_bytes: [u8; 4] = file[at + 4..at + 8].try_into().unwrap();
            let len = if be {
                u32::from_be_bytes(len_bytes)
            } else {
                u32::from_le_bytes(len_bytes)
            } as usize;
            at += len;
            boundaries.push(at);
        }
        // Cuts before the first packet block fail at open (no complete section yet), except
        // exactly at the end of a priming block, which is a valid (empty) file.
        sweep(&file, &boundaries);
    }
}

// ---------------------------------------------------------------- writers

fn sample_packets() -> Vec<Owned> {
    vec![
        owned(1_700_000_000_123_456_789, 60, LinkType::ETHERNET, 0, P1),
        owned(1_700_000_001_000_000_001, 1500, LinkType::ETHERNET, 0, P2),
        owned(0, 1, LinkType::ETHERNET, 0, P3),
        owned(1_700_000_002_000_000_000, 0, LinkType::ETHERNET, 0, b""),
    ]
}

fn as_packet(o: &Owned) -> pcap_capture::Packet<'_> {
    pcap_capture::Packet {
        ts_ns: o.ts_ns,
        caplen: o.caplen,
        orig_len: o.orig_len,
        link_type: o.link_type,
        interface: o.interface,
        fcs_len: 0,
        data: &o.data,
    }
}

#[test]
fn pcap_writer_round_trip() {
    let packets = sample_packets();
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
    for p in &packets {
        w.write_packet(&as_packet(p)).unwrap();
    }
    let (read, err) = read_all(&w.into_inner().unwrap());
    assert!(err.is_none());
    assert_eq!(read, packets);

    // microseconds drop the sub-microsecond digits
    let mut w =
        PcapWriter::with_precision(Vec::new(), LinkType::ETHERNET, 65535, TsPrecision::Micro)
            .unwrap();
    w.write_packet(&as_packet(&packets[0])).unwrap();
    let (read, _) = read_all(&w.into_inner().unwrap());
    assert_eq!(read[0].ts_ns, 1_700_000_000_123_456_000);

    // wrong link type and unrepresentable time are typed errors
    let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, 65535).unwrap();
    assert!(matches!(
        w.write_packet(&as_packet(&packets[0])),
        Err(CaptureError::LinkTypeMismatch { .. })
    ));
    let mut early = packets[0].clone();
    early.link_type = LinkType::RAW;
    early.ts_ns = -1;
    assert!(matches!(
        w.write_packet(&as_packet(&early)),
        Err(CaptureError::TimestampOutOfRange { ts_ns: -1 })
    ));
}

#[test]
fn pcapng_writer_round_trip_with_interfaces_and_comments() {
    let (file, expected) = two_sections(false);
    let mut w = PcapNgWriter::new(Vec::new(), 0).unwrap();
    let mut reader = FileReader::from_reader(Cursor::new(file)).unwrap();
    while let Some((p, comment)) = reader.next_packet_with_comment().unwrap() {
        w.write_packet_with_comment(&p, comment).unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let (read, err) = read_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    // Interfaces are renumbered per (source interface, link type) met, in order.
    let ids: Vec<u32> = read.iter().map(|p| p.interface).collect();
    assert_eq!(ids, vec![0, 1, 0, 2, 2]);
    assert_eq!(read[0].comment.as_deref(), Some("first packet"));
    for (r, e) in read.iter().zip(&expected) {
        assert_eq!(
            (r.ts_ns, r.caplen, r.orig_len, r.link_type, &r.data),
            (e.ts_ns, e.caplen, e.orig_len, e.link_type, &e.data)
        );
    }
}

#[test]
fn pcapng_writer_comments() {
    let packets = sample_packets();
    let mut w = PcapNgWriter::new(Vec::new(), 65535).unwrap();
    w.write_packet_with_comment(&as_packet(&packets[0]), Some("hello, 世界"))
        .unwrap();
    w.write_packet(&as_packet(&packets[1])).unwrap();
    let (read, err) = read_all(&w.into_inner().unwrap());
    assert!(err.is_none());
    assert_eq!(read[0].comment.as_deref(), Some("hello, 世界"));
    assert_eq!(read[1].comment, None);
    assert_eq!(read[1].data, P2);
}

#[test]
fn pcapng_decryption_secrets_round_trip() {
    let packets = sample_packets();
    let keys = b"CLIENT_RANDOM 00 11\n".to_vec(); // 20 bytes: padded to 20; odd lengths below
    let mut w = PcapNgWriter::new(Vec::new(), 65535).unwrap();
    w.write_secrets(&DecryptionSecrets::new(
        DecryptionSecrets::TLS_KEY_LOG,
        keys.clone(),
    ))
    .unwrap();
    w.write_packet(&as_packet(&packets[0])).unwrap();
    w.write_secrets(&DecryptionSecrets::new(7, b"abc".to_vec()))
        .unwrap();
    w.write_packet(&as_packet(&packets[1])).unwrap();
    let bytes = w.into_inner().unwrap();

    let mut reader = FileReader::from_reader(Cursor::new(bytes)).unwrap();
    let mut seen = Vec::new();
    while let Some(p) = reader.next_packet().unwrap() {
        let len = p.data.len();
        let secrets = reader.take_secrets();
        assert!(!reader.has_secrets());
        seen.push((len, secrets));
    }
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].1.len(), 1, "the block before the first packet");
    assert_eq!(seen[0].1[0].kind, DecryptionSecrets::TLS_KEY_LOG);
    assert_eq!(seen[0].1[0].data, keys);
    assert_eq!(seen[1].1.len(), 1, "the block between the packets");
    assert_eq!(seen[1].1[0].kind, 7);
    assert_eq!(
        seen[1].1[0].data, b"abc",
        "padding is not part of the secrets"
    );
}

#[test]
fn pcapng_decryption_secrets_longer_than_block_is_malformed() {
    let packets = sample_packets();
    let mut w = PcapNgWriter::new(Vec::new(), 65535).unwrap();
    w.write_packet(&as_packet(&packets[0])).unwrap();
    w.write_secrets(&DecryptionSecrets::new(
        DecryptionSecrets::TLS_KEY_LOG,
        vec![b'x'; 8],
    ))
    .unwrap();
    let mut bytes = w.into_inner().unwrap();
    // The secrets length field claims more bytes than the block holds.
    let at = bytes.len() - 28 + 12;
    bytes[at..at + 4].copy_from_slice(&64u32.to_le_bytes());
    let (read, err) = read_all(&bytes);
    assert_eq!(read.len(), 1, "the packet before the damaged block is kept");
    assert!(
        matches!(
            err,
            Some(CaptureError::Malformed {
                what: Malformation::BadBlockLength(28),
                ..
            })
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------- filters

#[test]
fn filter_applies_to_files_per_link_type() {
    // An Ethernet ARP frame and an Ethernet IPv4/UDP frame, plus a raw-IP UDP packet.
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&[0, 1, 2, 3, 4, 5, 0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    let udp_ip: Vec<u8> = [
        &[
            0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ][..],
        &[0x30, 0x39, 0x00, 0x35, 0, 9, 0, 0, b'x'][..],
    ]
    .concat();
    let mut eth_udp = vec![0xff; 6];
    eth_udp.extend_from_slice(&[0, 1, 2, 3, 4, 5, 0x08, 0x00]);
    eth_udp.extend_from_slice(&udp_ip);
    let mut ng = Ng::new(false);
    ng.shb()
        .idb(1, 0, None, None)
        .idb(101, 0, None, None)
        .epb(0, 1, arp.len() as u32, &arp, None)
        .epb(0, 2, eth_udp.len() as u32, &eth_udp, None)
        .epb(1, 3, udp_ip.len() as u32, &udp_ip, None);
    let mut reader = FileReader::from_reader(Cursor::new(ng.out)).unwrap();
    reader.set_filter("udp port 53").unwrap();
    let mut seen = Vec::new();
    while let Some(p) = reader.next_packet().unwrap() {
        seen.push((p.link_type, p.ts_ns));
    }
    assert_eq!(
        seen,
        vec![(LinkType::ETHERNET, 2000), (LinkType::RAW, 3000)]
    );
    assert_eq!(reader.packets_read(), 3);
}

#[test]
fn bad_filter_is_a_typed_error() {
    let spec = PcapSpec {
        big_endian: false,
        nanos: false,
        link_type: 1,
        snaplen: 65535,
    };
    let mut reader = FileReader::from_reader(Cursor::new(pcap_file(spec, &[]))).unwrap();
    let err = reader.set_filter("tcp port banana").unwrap_err();
    assert!(matches!(err, CaptureError::BadFilter { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("bad filter expression \"tcp port banana\" for link type EN10MB: "),
        "{text}"
    );
    assert!(!text.contains('\n'));
}

// ---------------------------------------------------------------- hostile input

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_all(&bytes);
    }

    #[test]
    fn arbitrary_bodies_after_a_valid_pcapng_start_never_panic(
        be in any::<bool>(),
        tail in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut ng = Ng::new(be);
        ng.shb().idb(1, 0, Some(9), None);
        ng.out.extend_from_slice(&tail);
        let _ = read_all(&ng.out);
    }

    #[test]
    fn arbitrary_records_after_a_valid_pcap_header_never_panic(
        be in any::<bool>(),
        tail in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let spec = PcapSpec { big_endian: be, nanos: false, link_type: 1, snaplen: 65535 };
        let mut file = pcap_file(spec, &[]);
        file.extend_from_slice(&tail);
        let _ = read_all(&file);
    }

    #[test]
    fn pcap_writer_then_reader_is_identity(
        packets in proptest::collection::vec(
            (0i64..4_000_000_000_000_000_000, proptest::collection::vec(any::<u8>(), 0..200), any::<u32>()),
            0..20,
        ),
        nano in any::<bool>(),
    ) {
        let packets: Vec<Owned> = packets
            .into_iter()
            .map(|(ts, data, orig)| {
                let ts = if nano { ts } else { ts / 1000 * 1000 };
                owned(ts, orig, LinkType::RAW, 0, &data)
            })
            .collect();
        let precision = if nano { TsPrecision::Nano } else { TsPrecision::Micro };
        let mut w = PcapWriter::with_precision(Vec::new(), LinkType::RAW, 262_144, precision).unwrap();
        let mut ng = PcapNgWriter::new(Vec::new(), 0).unwrap();
        for p in &packets {
            w.write_packet(&as_packet(p)).unwrap();
            ng.write_packet(&as_packet(p)).unwrap();
        }
        let (read, err) = read_all(&w.into_inner().unwrap());
        prop_assert!(err.is_none());
        prop_assert_eq!(&read, &packets);
        let (read, err) = read_all(&ng.into_inner().unwrap());
        prop_assert!(err.is_none());
        prop_assert_eq!(&read, &packets);
    }
}

// ---------------------------------------------------------------- buffering

/// A reader that hands out at most `step` bytes per call, like a slow pipe.
struct Trickle {
    bytes: Vec<u8>,
    at: usize,
    step: usize,
}

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len() - self.at);
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn read_trickled(bytes: &[u8], step: usize) -> (Vec<Owned>, Option<String>) {
    let input = Trickle {
        bytes: bytes.to_vec(),
        at: 0,
        step,
    };
    let mut reader = match FileReader::from_reader(input) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some(e.to_string())),
    };
    let mut out = Vec::new();
    loop {
        match reader.next_packet_with_comment() {
            Ok(Some((p, c))) => {
                let mut o = owned(p.ts_ns, p.orig_len, p.link_type, p.interface, p.data);
                o.comment = c.map(str::to_owned);
                out.push(o);
            }
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e.to_string())),
        }
    }
}

#[test]
fn short_reads_give_the_same_packets() {
    let (ng, expected) = two_sections(true);
    let spec = PcapSpec {
        big_endian: false,
        nanos: false,
        link_type: 1,
        snaplen: 65535,
    };
    let pcap = pcap_file(spec, &[(1, 0, 19, P1), (2, 0, 36, P2), (3, 0, 1, P3)]);
    let (pcap_expected, _) = read_all(&pcap);
    for step in [1, 2, 3, 7, 16, 4096] {
        assert_eq!(
            read_trickled(&ng, step),
            (expected.clone(), None),
            "step {step}"
        );
        assert_eq!(
            read_trickled(&pcap, step),
            (pcap_expected.clone(), None),
            "step {step}"
        );
        let cut = &pcap[..pcap.len() - 1];
        let (packets, err) = read_trickled(cut, step);
        assert_eq!(packets.len(), 2);
        assert!(
            err.unwrap()
                .starts_with("truncated packet record after packet 2")
        );
    }
}

#[test]
fn packets_larger_than_the_read_buffer() {
    let big: Vec<u8> = (0..3 * pcap_capture::READ_BUFFER_SIZE + 5)
        .map(|i| i as u8)
        .collect();
    let spec = PcapSpec {
        big_endian: false,
        nanos: true,
        link_type: 1,
        snaplen: 16 << 20,
    };
    let file = pcap_file(
        spec,
        &[
            (1, 0, 19, P1),
            (2, 0, big.len() as u32, &big),
            (3, 0, 1, P3),
        ],
    );
    let (packets, err) = read_all(&file);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(packets.len(), 3);
    assert_eq!(packets[1].data, big);
    assert_eq!(packets[2].data, P3);
    let (trickled, err) = read_trickled(&file, 65536);
    assert!(err.is_none());
    assert_eq!(trickled, packets);

    let mut ng = Ng::new(false);
    ng.shb()
        .idb(1, 0, Some(9), None)
        .epb(0, 7, big.len() as u32, &big, Some("big"))
        .epb(0, 8, 1, P3, None);
    let (packets, err) = read_all(&ng.out);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(packets[0].data, big);
    assert_eq!(packets[0].comment.as_deref(), Some("big"));
    assert_eq!(packets[1].data, P3);
}

// ---------------------------------------------------------------- Source over a real file

/// Counts from `tcpdump -nr tests/data/sample-http-ws.pcap [filter] | wc -l` (tcpdump 4.99.3).
#[test]
fn source_filters_the_sample_capture_like_tcpdump() {
    let path = pcap_testkit::test_data("sample-http-ws.pcap");
    for (filter, want) in [
        (None, 181),
        (Some("ip6"), 89),
        (Some("tcp[tcpflags] & tcp-syn != 0"), 8),
    ] {
        let mut source = pcap_capture::Source::open_file(&path).unwrap();
        assert_eq!(source.link_type(), Some(LinkType::ETHERNET));
        assert!(source.stats().is_none());
        if let Some(f) = filter {
            source.set_filter(f).unwrap();
        }
        let mut n = 0;
        while let Some(p) = source.next_packet().unwrap() {
            assert_eq!(p.caplen as usize, p.data.len());
            n += 1;
        }
        assert_eq!(n, want, "filter {filter:?}");
    }
}
