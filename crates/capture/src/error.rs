//! The one error type of the crate: what went wrong, in which part of the input, and where.

use std::fmt;

use crate::packet::LinkType;

/// The part of a capture file an error is about, named in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The 24-byte classic pcap file header.
    FileHeader,
    /// The 16-byte header of a classic pcap packet record.
    RecordHeader,
    /// The captured bytes of a classic pcap packet record.
    RecordData,
    /// The 8-byte type and length that open every pcapng block (12 with the byte-order magic).
    BlockHeader,
    /// A whole pcapng block (body and trailing length).
    Block,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::FileHeader => "pcap file header",
            Part::RecordHeader => "packet record header",
            Part::RecordData => "packet record",
            Part::BlockHeader => "pcapng block header",
            Part::Block => "pcapng block",
        })
    }
}

/// Where in a capture file an error was found: after how many complete packets, and at
/// which byte offset the offending header or block starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Packets read successfully before the error (the error is "after packet N").
    pub after_packet: u64,
    /// Byte offset in the file of the start of the header or block at fault.
    pub offset: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "after packet {} (offset {})",
            self.after_packet, self.offset
        )
    }
}

/// Why a pcapng block or pcap record is malformed (as opposed to cut short or too long).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformation {
    /// A block length that is not a multiple of 4 or is below the minimum for its type.
    BadBlockLength(u32),
    /// The length repeated at the end of a block differs from the one at its start.
    TrailerMismatch {
        /// Length at the start of the block.
        header: u32,
        /// Length at the end of the block.
        trailer: u32,
    },
    /// A section header whose byte-order magic is neither 0x1a2b3c4d nor its swap.
    BadByteOrderMagic(u32),
    /// A section header with a major version other than 1.
    UnsupportedVersion(u16, u16),
    /// A packet block before any section header.
    NoSection,
    /// A packet block whose captured length does not fit in the block.
    CaptureLengthExceedsBlock {
        /// Captured length the block claims.
        caplen: u32,
        /// Bytes of packet data the block can hold.
        room: usize,
    },
    /// A packet block naming an interface the section has not described.
    UnknownInterface {
        /// Interface id in the packet block.
        interface: u32,
        /// Number of interfaces described so far in the section.
        defined: usize,
    },
    /// More interface descriptions in one section than the reader accepts.
    TooManyInterfaces(usize),
}

impl fmt::Display for Malformation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Malformation::BadBlockLength(len) => write!(f, "invalid block length {len}"),
            Malformation::TrailerMismatch { header, trailer } => write!(
                f,
                "block length {header} at the start but {trailer} at the end"
            ),
            Malformation::BadByteOrderMagic(m) => write!(f, "bad byte-order magic 0x{m:08x}"),
            Malformation::UnsupportedVersion(major, minor) => {
                write!(f, "unsupported pcapng version {major}.{minor}")
            }
            Malformation::NoSection => f.write_str("block before any section header"),
            Malformation::CaptureLengthExceedsBlock { caplen, room } => write!(
                f,
                "captured length {caplen} exceeds the {room} bytes the block holds"
            ),
            Malformation::UnknownInterface { interface, defined } => write!(
                f,
                "packet on interface {interface} but the section describes {defined} interface(s)"
            ),
            Malformation::TooManyInterfaces(limit) => {
                write!(f, "more than {limit} interfaces in one section")
            }
        }
    }
}

/// Everything that can go wrong reading, filtering, writing or capturing packets.
///
/// `Display` is one lowercase line that says what is wrong and where, so a command-line tool
/// can print it as is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The underlying reader or writer failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The input ended inside the 24-byte pcap header or the first pcapng block header.
    #[error("truncated file header: needed {needed} bytes, {available} available")]
    TruncatedFileHeader {
        /// Bytes the header needs.
        needed: usize,
        /// Bytes the input had.
        available: usize,
    },
    /// The first four bytes are neither a pcap nor a pcapng magic number.
    #[error("not a pcap or pcapng file: unknown magic number 0x{magic:08x}")]
    BadMagic {
        /// The first four bytes, read as a big-endian number.
        magic: u32,
    },
    /// The input ended in the middle of a packet header, a packet or a block.
    #[error("truncated {part} {at}: needed {needed} bytes, {available} available")]
    Truncated {
        /// What was cut.
        part: Part,
        /// Where it starts.
        at: Position,
        /// Bytes the part needs.
        needed: u64,
        /// Bytes that were left in the input.
        available: u64,
    },
    /// A header claims a length above the reader's cap (which bounds memory on hostile input).
    #[error("{part} {at} is too long: {len} bytes, limit {limit}")]
    TooLong {
        /// What claims the length.
        part: Part,
        /// Where it starts.
        at: Position,
        /// The claimed length.
        len: u64,
        /// The cap it exceeds.
        limit: u64,
    },
    /// A structurally invalid block or record.
    #[error("malformed {part} {at}: {what}")]
    Malformed {
        /// What is malformed.
        part: Part,
        /// Where it starts.
        at: Position,
        /// Which rule it breaks.
        what: Malformation,
    },
    /// A BPF filter expression libpcap cannot compile.
    #[error("bad filter expression {expr:?} for link type {link_type}: {message}")]
    BadFilter {
        /// The expression as given.
        expr: String,
        /// The link type it was compiled for.
        link_type: LinkType,
        /// libpcap's explanation.
        message: String,
    },
    /// A packet handed to a pcap writer has a link type other than the file's.
    #[error("cannot write a {got} packet to a {expected} pcap file")]
    LinkTypeMismatch {
        /// The file's link type.
        expected: LinkType,
        /// The packet's link type.
        got: LinkType,
    },
    /// A timestamp the output format cannot represent (classic pcap: 1970 to 2106).
    #[error("timestamp {ts_ns} ns cannot be written to a pcap file")]
    TimestampOutOfRange {
        /// The timestamp in nanoseconds since the epoch.
        ts_ns: i64,
    },
    /// Opening a live device was refused for lack of privileges.
    #[error(
        "no permission to capture on {device}: {message} (run as root, or once: sudo setcap \
         cap_net_raw,cap_net_admin+eip on the binary)"
    )]
    PermissionDenied {
        /// The device name.
        device: String,
        /// libpcap's explanation.
        message: String,
    },
    /// The device to capture on does not exist.
    #[error("no such device {device}: {message}")]
    NoSuchDevice {
        /// The device name.
        device: String,
        /// libpcap's explanation.
        message: String,
    },
    /// Any other libpcap failure (listing devices, activating, reading, statistics).
    #[error("live capture on {device}: {message}")]
    Live {
        /// The device name (empty when listing devices).
        device: String,
        /// libpcap's explanation.
        message: String,
    },
}

impl CaptureError {
    /// Where in the file the error was found, for the errors that say.
    pub fn position(&self) -> Option<Position> {
        match self {
            CaptureError::Truncated { at, .. }
            | CaptureError::TooLong { at, .. }
            | CaptureError::Malformed { at, .. } => Some(*at),
            _ => None,
        }
    }
}

/// Keeps a libpcap message on one line.
#[cfg(feature = "libpcap")]
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
