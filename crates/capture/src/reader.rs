//! Reading pcap and pcapng files from a path or any `Read`, through one reusable buffer.
//!
//! The reader fills a large buffer with big reads and hands out packets that borrow it, so
//! reading costs no allocation and no copy per packet. The buffer only grows when a single
//! record does not fit, and only as far as bytes actually arrive, so a hostile length field
//! cannot make it allocate more than about twice the input it has seen.

#![warn(clippy::indexing_slicing)]

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::Path;

use nom::number::Endianness;

use crate::error::{CaptureError, Malformation, Part, Position};
#[cfg(feature = "libpcap")]
use crate::filter::Filter;
use crate::packet::{LinkType, Packet};
use crate::pcap;
use crate::pcapng::{self, DecryptionSecrets, Interface, Options, PacketBlockError};

/// Size of the reusable read buffer (and of each read from the input).
pub const READ_BUFFER_SIZE: usize = 1 << 20;

/// Which kind of file a [`FileReader`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileFormat {
    /// Classic pcap.
    Pcap {
        /// Nanosecond timestamps (magic 0xa1b23c4d) rather than microseconds.
        nanos: bool,
        /// The file is big-endian.
        big_endian: bool,
        /// Snapshot length from the file header.
        snaplen: u32,
    },
    /// pcapng (each section has its own byte order).
    PcapNg,
}

/// Per-format reading state.
#[derive(Debug)]
enum State {
    Pcap {
        endian: Endianness,
        nanos: bool,
        /// Record header length (16, or 24 in the "modified" format).
        record_len: usize,
        link_type: LinkType,
        fcs_len: u8,
        caplen_limit: u32,
    },
    PcapNg {
        endian: Endianness,
        interfaces: Vec<Interface>,
        /// Each interface's `if_name`, when its IDB has one.
        names: Vec<Option<String>>,
    },
}

/// A packet located in the buffer, not yet borrowed (lets the filter loop run without
/// holding a borrow of the reader).
#[derive(Debug, Clone)]
struct Located {
    ts_ns: i64,
    caplen: u32,
    orig_len: u32,
    link_type: LinkType,
    interface: u32,
    data: Range<usize>,
}

/// A pcap or pcapng file reader (format detected from the magic number).
///
/// ```no_run
/// # fn main() -> Result<(), pcap_capture::CaptureError> {
/// let mut reader = pcap_capture::FileReader::open("capture.pcapng")?;
/// while let Some(packet) = reader.next_packet()? {
///     println!("{} {} bytes", packet.ts_ns, packet.caplen);
/// }
/// # Ok(()) }
/// ```
pub struct FileReader {
    input: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// File offset of `buf[start]`.
    offset: u64,
    packets: u64,
    format: FileFormat,
    state: State,
    comment: Option<Range<usize>>,
    /// Decryption Secrets Blocks read and not yet taken.
    secrets: Vec<DecryptionSecrets>,
    #[cfg(feature = "libpcap")]
    filter: Option<Filter>,
    /// Set after an error or the end: later calls return `Ok(None)`.
    done: bool,
}

impl std::fmt::Debug for FileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileReader")
            .field("format", &self.format)
            .field("offset", &self.offset)
            .field("packets", &self.packets)
            .finish_non_exhaustive()
    }
}

impl FileReader {
    /// Opens a capture file; `-` reads standard input.
    pub fn open(path: impl AsRef<Path>) -> Result<FileReader, CaptureError> {
        let path = path.as_ref();
        if path == Path::new("-") {
            return FileReader::from_reader(io::stdin());
        }
        FileReader::from_reader(File::open(path)?)
    }

    /// Reads a capture from any byte stream (a pipe, standard input, a slice).
    pub fn from_reader(input: impl Read + Send + 'static) -> Result<FileReader, CaptureError> {
        let mut reader = FileReader {
            input: Box::new(input),
            buf: vec![0; READ_BUFFER_SIZE],
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
            packets: 0,
            format: FileFormat::PcapNg,
            state: State::PcapNg {
                endian: Endianness::Little,
                interfaces: Vec::new(),
                names: Vec::new(),
            },
            comment: None,
            secrets: Vec::new(),
            #[cfg(feature = "libpcap")]
            filter: None,
            done: false,
        };
        reader.read_file_header()?;
        Ok(reader)
    }

    /// The file's format, byte order and (for pcap) snapshot length.
    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// The link type of the file when it has a single one: the pcap header's, or for pcapng
    /// the one shared by every interface described so far (`None` if they differ or if none
    /// is described yet).
    pub fn link_type(&self) -> Option<LinkType> {
        match &self.state {
            State::Pcap { link_type, .. } => Some(*link_type),
            State::PcapNg { interfaces, .. } => {
                let first = interfaces.first()?.link_type;
                interfaces
                    .iter()
                    .all(|i| i.link_type == first)
                    .then_some(first)
            }
        }
    }

    /// The name (`if_name`) of interface `id` of the current pcapng section, when its
    /// Interface Description Block gives one.
    pub fn interface_name(&self, id: u32) -> Option<&str> {
        match &self.state {
            State::PcapNg { names, .. } => names.get(usize::try_from(id).ok()?)?.as_deref(),
            _ => None,
        }
    }

    /// The interfaces of the current pcapng section (empty for classic pcap).
    pub fn interfaces(&self) -> &[Interface] {
        match &self.state {
            State::Pcap { .. } => &[],
            State::PcapNg { interfaces, .. } => interfaces,
        }
    }

    /// Packets read so far (including those a filter rejected).
    pub fn packets_read(&self) -> u64 {
        self.packets
    }

    /// The Decryption Secrets Blocks read since the last call, in file order (pcapng only).
    /// A block comes before the packets it decrypts, so taking them after each packet
    /// gives every session its keys in time.
    pub fn take_secrets(&mut self) -> Vec<DecryptionSecrets> {
        std::mem::take(&mut self.secrets)
    }

    /// Whether Decryption Secrets Blocks are waiting for [`FileReader::take_secrets`]; a
    /// cheap check for once per packet.
    pub fn has_secrets(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// The first comment (`opt_comment`) of the packet last returned, if it had one that is
    /// valid UTF-8. Kept until the next call to [`FileReader::next_packet`].
    pub fn packet_comment(&self) -> Option<&str> {
        let range = self.comment.clone()?;
        std::str::from_utf8(self.buf.get(range)?).ok()
    }

    /// Keeps only packets matching a BPF filter expression (compiled per link type; a bad
    /// expression is reported here, for the file's first link type).
    ///
    /// Filters are compiled by libpcap: built without the `libpcap` feature, every
    /// expression is refused with [`CaptureError::BadFilter`].
    pub fn set_filter(&mut self, expr: &str) -> Result<(), CaptureError> {
        let link_type = self.link_type().unwrap_or(LinkType::ETHERNET);
        #[cfg(feature = "libpcap")]
        {
            let mut filter = Filter::new(expr);
            filter.check(link_type)?;
            self.filter = Some(filter);
            Ok(())
        }
        #[cfg(not(feature = "libpcap"))]
        Err(CaptureError::BadFilter {
            expr: expr.to_owned(),
            link_type,
            message: "BPF filters need pcap-capture's `libpcap` feature".to_owned(),
        })
    }

    /// The next packet, `Ok(None)` at the end of the input.
    ///
    /// On damaged input every complete packet is returned first, then the error; after an
    /// error the reader returns `Ok(None)`.
    #[inline]
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        Ok(self.advance()?.map(|l| self.packet_at(l)))
    }

    /// Like [`FileReader::next_packet`], with the packet's first comment (see
    /// [`FileReader::packet_comment`]) for callers that need both at once, such as a copy
    /// to a pcapng file.
    pub fn next_packet_with_comment(
        &mut self,
    ) -> Result<Option<(Packet<'_>, Option<&str>)>, CaptureError> {
        Ok(self
            .advance()?
            .map(|l| (self.packet_at(l), self.packet_comment())))
    }

    /// Finds the next packet that passes the filter.
    fn advance(&mut self) -> Result<Option<Located>, CaptureError> {
        loop {
            let Some(located) = self.locate_or_finish()? else {
                return Ok(None);
            };
            if self.passes(&located)? {
                return Ok(Some(located));
            }
        }
    }

    /// The next packet in the file, whatever the filter says; the reader is done after
    /// the last one or an error.
    fn locate_or_finish(&mut self) -> Result<Option<Located>, CaptureError> {
        let located = self.locate_next();
        if !matches!(located, Ok(Some(_))) {
            self.done = true;
        }
        located
    }

    /// Whether the packet passes the BPF filter (always, without one).
    #[cfg(feature = "libpcap")]
    fn passes(&mut self, located: &Located) -> Result<bool, CaptureError> {
        match &mut self.filter {
            Some(filter) => {
                let data = self.buf.get(located.data.clone()).unwrap_or_default();
                filter.matches(located.link_type, data)
            }
            None => Ok(true),
        }
    }

    /// Whether the packet passes the BPF filter: always, since filters need libpcap.
    #[cfg(not(feature = "libpcap"))]
    fn passes(&mut self, _located: &Located) -> Result<bool, CaptureError> {
        Ok(true)
    }

    #[inline]
    fn packet_at(&self, located: Located) -> Packet<'_> {
        Packet {
            ts_ns: located.ts_ns,
            caplen: located.caplen,
            orig_len: located.orig_len,
            link_type: located.link_type,
            interface: located.interface,
            fcs_len: self.fcs_len(located.interface),
            data: self.buf.get(located.data).unwrap_or_default(),
        }
    }

    /// Bytes of FCS that packets of `interface` end with (pcap: the file header's; pcapng:
    /// the interface's `if_fcslen`). Looked up here rather than carried with each located
    /// packet, which costs the common case nothing.
    #[inline]
    fn fcs_len(&self, interface: u32) -> u8 {
        match &self.state {
            State::Pcap { fcs_len, .. } => *fcs_len,
            State::PcapNg { interfaces, .. } => usize::try_from(interface)
                .ok()
                .and_then(|i| interfaces.get(i))
                .map_or(0, |i| i.fcs_len),
        }
    }

    fn position(&self) -> Position {
        Position {
            after_packet: self.packets,
            offset: self.offset,
        }
    }

    /// Bytes buffered and not yet consumed.
    fn available(&self) -> usize {
        self.end - self.start
    }

    /// Makes at least `n` bytes available unless the input ends first; returns how many are.
    fn fill(&mut self, n: usize) -> io::Result<usize> {
        while self.available() < n && !self.eof {
            if self.end == self.buf.len() {
                if self.start > 0 {
                    self.buf.copy_within(self.start..self.end, 0);
                    self.end -= self.start;
                    self.start = 0;
                }
                if self.end == self.buf.len() {
                    let len = self.buf.len();
                    let grown = len.saturating_mul(2).min(n.max(len + 1));
                    self.buf.resize(grown, 0);
                }
            }
            let spare = self.buf.get_mut(self.end..).unwrap_or_default();
            match self.input.read(spare) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.available())
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    fn read_file_header(&mut self) -> Result<(), CaptureError> {
        let avail = self.fill(pcap::FILE_HEADER_LEN)?;
        let head = self.buf.get(self.start..self.end).unwrap_or_default();
        let Some(magic) = head.first_chunk::<4>().map(|m| u32::from_be_bytes(*m)) else {
            return Err(CaptureError::TruncatedFileHeader {
                needed: 4,
                available: avail,
            });
        };
        if magic == pcapng::SHB {
            self.format = FileFormat::PcapNg;
            self.prime_pcapng()
        } else if pcap::classify_magic(magic).is_some() {
            let header =
                pcap::parse_file_header(head).ok_or(CaptureError::TruncatedFileHeader {
                    needed: pcap::FILE_HEADER_LEN,
                    available: avail,
                })?;
            self.format = FileFormat::Pcap {
                nanos: header.nanos,
                big_endian: header.endian == Endianness::Big,
                snaplen: header.snaplen,
            };
            self.state = State::Pcap {
                endian: header.endian,
                nanos: header.nanos,
                record_len: header.record_len,
                link_type: header.link_type,
                fcs_len: header.fcs_len,
                caplen_limit: header
                    .snaplen
                    .clamp(pcap::MIN_CAPLEN_LIMIT, pcapng::MAX_BLOCK_LEN),
            };
            self.consume(pcap::FILE_HEADER_LEN);
            Ok(())
        } else {
            Err(CaptureError::BadMagic { magic })
        }
    }

    /// Reads the first section header and the interface descriptions right after it, so
    /// that [`FileReader::link_type`] is known before the first packet.
    fn prime_pcapng(&mut self) -> Result<(), CaptureError> {
        let avail = self.fill(pcapng::MIN_SHB_LEN as usize)?;
        if avail < pcapng::MIN_SHB_LEN as usize {
            return Err(CaptureError::TruncatedFileHeader {
                needed: pcapng::MIN_SHB_LEN as usize,
                available: avail,
            });
        }
        let mut seen_section = false;
        loop {
            match self.peek_block_type()? {
                Some(pcapng::SHB) if !seen_section => seen_section = true,
                Some(pcapng::IDB) => {}
                _ => return Ok(()),
            }
            self.next_block()?;
        }
    }

    /// The type of the next pcapng block, if 4 bytes remain.
    fn peek_block_type(&mut self) -> Result<Option<u32>, CaptureError> {
        if self.fill(4)? < 4 {
            return Ok(None);
        }
        let State::PcapNg { endian, .. } = &self.state else {
            return Ok(None);
        };
        let bytes = self.buf.get(self.start..self.end).unwrap_or_default();
        Ok(bytes.first_chunk::<4>().map(|b| read_u32(*b, *endian)))
    }

    fn locate_next(&mut self) -> Result<Option<Located>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        self.comment = None;
        match self.state {
            State::Pcap { .. } => self.next_record(),
            State::PcapNg { .. } => loop {
                match self.next_block()? {
                    Some(l) => return Ok(Some(l)),
                    None if self.available() == 0 && self.eof => return Ok(None),
                    None => {}
                }
            },
        }
    }

    /// Reads one classic pcap record.
    #[inline]
    fn next_record(&mut self) -> Result<Option<Located>, CaptureError> {
        let State::Pcap {
            endian,
            nanos,
            record_len,
            link_type,
            caplen_limit,
            ..
        } = self.state
        else {
            return Ok(None);
        };
        let avail = self.fill(record_len)?;
        if avail == 0 {
            return Ok(None);
        }
        let header = self
            .buf
            .get(self.start..self.end)
            .filter(|b| b.len() >= record_len)
            .and_then(|b| pcap::parse_record_header(b, endian))
            .ok_or(CaptureError::Truncated {
                part: Part::RecordHeader,
                at: self.position(),
                needed: record_len as u64,
                available: avail as u64,
            })?;
        if header.caplen > caplen_limit {
            return Err(CaptureError::TooLong {
                part: Part::RecordData,
                at: self.position(),
                len: header.caplen.into(),
                limit: caplen_limit.into(),
            });
        }
        let caplen = header.caplen as usize;
        let total = record_len + caplen;
        let avail = self.fill(total)?;
        if avail < total {
            return Err(CaptureError::Truncated {
                part: Part::RecordData,
                at: self.position(),
                needed: caplen as u64,
                available: (avail - record_len) as u64,
            });
        }
        let frac_ns = if nanos {
            i64::from(header.ts_frac)
        } else {
            i64::from(header.ts_frac) * 1000
        };
        let data_start = self.start + record_len;
        let located = Located {
            ts_ns: i64::from(header.ts_sec) * 1_000_000_000 + frac_ns,
            caplen: header.caplen,
            orig_len: header.orig_len,
            link_type,
            interface: 0,
            data: data_start..data_start + caplen,
        };
        self.consume(total);
        self.packets += 1;
        Ok(Some(located))
    }

    /// Reads one pcapng block; returns the packet if it is a packet block.
    fn next_block(&mut self) -> Result<Option<Located>, CaptureError> {
        let avail = self.fill(12)?;
        if avail == 0 {
            return Ok(None);
        }
        let at = self.position();
        let truncated_header = |needed: u64| CaptureError::Truncated {
            part: Part::BlockHeader,
            at,
            needed,
            available: avail as u64,
        };
        let head = self.buf.get(self.start..self.end).unwrap_or_default();
        let Some(raw) = head.first_chunk::<8>() else {
            return Err(truncated_header(8));
        };
        let is_shb = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) == pcapng::SHB;
        let endian = if is_shb {
            let Some(bom) = head.get(8..12).and_then(|b| b.first_chunk::<4>()) else {
                return Err(truncated_header(12));
            };
            let bom = u32::from_be_bytes(*bom);
            pcapng::byte_order(bom).ok_or(CaptureError::Malformed {
                part: Part::Block,
                at,
                what: Malformation::BadByteOrderMagic(bom),
            })?
        } else {
            match &self.state {
                State::PcapNg { endian, .. } => *endian,
                State::Pcap { .. } => return Ok(None),
            }
        };
        let block_type = read_u32([raw[0], raw[1], raw[2], raw[3]], endian);
        let block_len = read_u32([raw[4], raw[5], raw[6], raw[7]], endian);
        let min_len = if is_shb {
            pcapng::MIN_SHB_LEN
        } else {
            pcapng::MIN_BLOCK_LEN
        };
        if block_len > pcapng::MAX_BLOCK_LEN {
            return Err(CaptureError::TooLong {
                part: Part::Block,
                at,
                len: block_len.into(),
                limit: pcapng::MAX_BLOCK_LEN.into(),
            });
        }
        if block_len % 4 != 0 || block_len < min_len {
            return Err(CaptureError::Malformed {
                part: Part::Block,
                at,
                what: Malformation::BadBlockLength(block_len),
            });
        }
        let len = block_len as usize;
        let avail = self.fill(len)?;
        if avail < len {
            return Err(CaptureError::Truncated {
                part: Part::Block,
                at,
                needed: len as u64,
                available: avail as u64,
            });
        }
        let block = self
            .buf
            .get(self.start..self.start + len)
            .unwrap_or_default();
        let trailer = block
            .last_chunk::<4>()
            .map(|t| read_u32(*t, endian))
            .unwrap_or_default();
        if trailer != block_len {
            return Err(CaptureError::Malformed {
                part: Part::Block,
                at,
                what: Malformation::TrailerMismatch {
                    header: block_len,
                    trailer,
                },
            });
        }
        let body_start = self.start + 8;
        let body = block.get(8..len - 4).unwrap_or_default();
        let malformed = |what| CaptureError::Malformed {
            part: Part::Block,
            at,
            what,
        };
        let mut located = None;
        match block_type {
            pcapng::SHB => {
                let versions = body
                    .get(4..)
                    .and_then(|b| pcapng::parse_shb_versions(b, endian));
                match versions {
                    Some((1, _)) => {}
                    Some((major, minor)) => {
                        return Err(malformed(Malformation::UnsupportedVersion(major, minor)));
                    }
                    None => return Err(malformed(Malformation::BadBlockLength(block_len))),
                }
                self.state = State::PcapNg {
                    endian,
                    interfaces: Vec::new(),
                    names: Vec::new(),
                };
            }
            pcapng::IDB => {
                let iface = pcapng::parse_idb(body, endian)
                    .ok_or(malformed(Malformation::BadBlockLength(block_len)))?;
                let State::PcapNg {
                    interfaces, names, ..
                } = &mut self.state
                else {
                    return Err(malformed(Malformation::NoSection));
                };
                if interfaces.len() >= pcapng::MAX_INTERFACES {
                    return Err(malformed(Malformation::TooManyInterfaces(
                        pcapng::MAX_INTERFACES,
                    )));
                }
                interfaces.push(iface);
                names.push(pcapng::idb_name(body, endian));
            }
            pcapng::EPB | pcapng::PB | pcapng::SPB => {
                let State::PcapNg { interfaces, .. } = &self.state else {
                    return Err(malformed(Malformation::NoSection));
                };
                let fields = if block_type == pcapng::SPB {
                    let snaplen = interfaces.first().map(|i| i.snaplen).unwrap_or(0);
                    pcapng::parse_spb(body, endian, snaplen)
                } else {
                    pcapng::parse_epb(body, endian, block_type == pcapng::PB)
                };
                let fields = fields.map_err(|e| match e {
                    PacketBlockError::Short => malformed(Malformation::BadBlockLength(block_len)),
                    PacketBlockError::CaplenTooBig { caplen, room } => {
                        malformed(Malformation::CaptureLengthExceedsBlock { caplen, room })
                    }
                })?;
                let iface = usize::try_from(fields.interface)
                    .ok()
                    .and_then(|i| interfaces.get(i))
                    .ok_or(malformed(Malformation::UnknownInterface {
                        interface: fields.interface,
                        defined: interfaces.len(),
                    }))?;
                if let Some(comment) = body
                    .get(fields.options.clone())
                    .and_then(|o| pcapng::first_comment(Options::new(o, endian)))
                {
                    let offset = comment.as_ptr() as usize - body.as_ptr() as usize;
                    let start = body_start + offset;
                    self.comment = Some(start..start + comment.len());
                }
                located = Some(Located {
                    ts_ns: fields.ts.map(|t| iface.ts_to_ns(t)).unwrap_or(0),
                    caplen: fields.caplen,
                    orig_len: fields.orig_len,
                    link_type: iface.link_type,
                    interface: fields.interface,
                    data: body_start + fields.data.start..body_start + fields.data.end,
                });
                self.packets += 1;
            }
            pcapng::DSB => {
                let secrets = pcapng::parse_dsb(body, endian)
                    .ok_or(malformed(Malformation::BadBlockLength(block_len)))?;
                self.secrets.push(secrets);
            }
            _ => {}
        }
        self.consume(len);
        Ok(located)
    }
}

fn read_u32(bytes: [u8; 4], endian: Endianness) -> u32 {
    match endian {
        Endianness::Big => u32::from_be_bytes(bytes),
        _ => u32::from_le_bytes(bytes),
    }
}
