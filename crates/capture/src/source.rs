//! One packet source for the layers above: a file, several files or a live device.

use crate::error::CaptureError;
use std::path::Path;

#[cfg(feature = "libpcap")]
use crate::live::{LiveCapture, LiveOptions, Stats};
use crate::merge::MergedFiles;
use crate::packet::{LinkType, Packet};
use crate::reader::FileReader;

/// Where packets come from. Both kinds yield the same [`Packet`], borrowed until the next call.
#[derive(Debug)]
#[non_exhaustive]
pub enum Source {
    /// A pcap or pcapng file (or standard input).
    File(FileReader),
    /// Several files read as one capture, in time order.
    Files(MergedFiles),
    /// A live device.
    #[cfg(feature = "libpcap")]
    Live(LiveCapture),
}

impl Source {
    /// Opens a capture file (`-` = standard input).
    pub fn open_file(path: impl AsRef<Path>) -> Result<Source, CaptureError> {
        Ok(Source::File(FileReader::open(path)?))
    }

    /// Opens a live device.
    #[cfg(feature = "libpcap")]
    pub fn open_live(device: &str, options: &LiveOptions) -> Result<Source, CaptureError> {
        Ok(Source::Live(LiveCapture::open(device, options)?))
    }

    /// Keeps only packets matching a BPF expression: in the kernel for live devices, per
    /// link type in our reader for files. A bad expression is a [`CaptureError::BadFilter`].
    pub fn set_filter(&mut self, expr: &str) -> Result<(), CaptureError> {
        match self {
            Source::File(f) => f.set_filter(expr),
            Source::Files(f) => f.set_filter(expr),
            #[cfg(feature = "libpcap")]
            Source::Live(l) => l.set_filter(expr),
        }
    }

    /// The next packet; `Ok(None)` at the end of a file or once a live capture is stopped.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        match self {
            Source::File(f) => f.next_packet(),
            Source::Files(f) => f.next_packet(),
            #[cfg(feature = "libpcap")]
            Source::Live(l) => l.next_packet(),
        }
    }

    /// The link type, when the source has a single one (see [`FileReader::link_type`]).
    pub fn link_type(&self) -> Option<LinkType> {
        match self {
            Source::File(f) => f.link_type(),
            Source::Files(f) => f.link_type(),
            #[cfg(feature = "libpcap")]
            Source::Live(l) => Some(l.link_type()),
        }
    }

    /// Capture statistics: `None` for files, which have none.
    #[cfg(feature = "libpcap")]
    pub fn stats(&mut self) -> Option<Result<Stats, CaptureError>> {
        match self {
            Source::File(_) | Source::Files(_) => None,
            #[cfg(feature = "libpcap")]
            Source::Live(l) => Some(l.stats()),
        }
    }
}

impl From<MergedFiles> for Source {
    fn from(f: MergedFiles) -> Source {
        Source::Files(f)
    }
}

impl From<FileReader> for Source {
    fn from(f: FileReader) -> Source {
        Source::File(f)
    }
}

#[cfg(feature = "libpcap")]
impl From<LiveCapture> for Source {
    fn from(l: LiveCapture) -> Source {
        Source::Live(l)
    }
}
