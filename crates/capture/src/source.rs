//! One packet source for the layers above: a file or a live device.

use crate::error::CaptureError;
use crate::live::{LiveCapture, Stats};
use crate::packet::{LinkType, Packet};
use crate::reader::FileReader;

/// Where packets come from. Both kinds yield the same [`Packet`], borrowed until the next call.
#[derive(Debug)]
#[non_exhaustive]
pub enum Source {
    /// A pcap or pcapng file (or standard input).
    File(FileReader),
    /// A live device.
    Live(LiveCapture),
}

impl Source {
    /// The next packet; `Ok(None)` at the end of a file or once a live capture is stopped.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        match self {
            Source::File(f) => f.next_packet(),
            Source::Live(l) => l.next_packet(),
        }
    }

    /// The link type, when the source has a single one (see [`FileReader::link_type`]).
    pub fn link_type(&self) -> Option<LinkType> {
        match self {
            Source::File(f) => f.link_type(),
            Source::Live(l) => Some(l.link_type()),
        }
    }

    /// Capture statistics: `None` for files, which have none.
    pub fn stats(&mut self) -> Option<Result<Stats, CaptureError>> {
        match self {
            Source::File(_) => None,
            Source::Live(l) => Some(l.stats()),
        }
    }
}

impl From<FileReader> for Source {
    fn from(f: FileReader) -> Source {
        Source::File(f)
    }
}

impl From<LiveCapture> for Source {
    fn from(l: LiveCapture) -> Source {
        Source::Live(l)
    }
}
