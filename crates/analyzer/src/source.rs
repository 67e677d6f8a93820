//! Where packets come from, and how a run ends.

use pcap_capture::{CaptureError, FileReader, Packet, Source};

/// Anything that yields packets one at a time, each borrowed until the next call: a
/// [`Source`], a [`FileReader`], or a program's own wrapper (a packet count, Ctrl-C).
pub trait PacketSource {
    /// Why reading failed (a damaged file, a device that went away).
    type Error;

    /// The next packet; `Ok(None)` at the end of the input.
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, Self::Error>;
}

impl PacketSource for Source {
    type Error = CaptureError;

    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        Source::next_packet(self)
    }
}

impl PacketSource for FileReader {
    type Error = CaptureError;

    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        FileReader::next_packet(self)
    }
}

/// Why [`Analyzer::run`](crate::Analyzer::run) ended early.
#[derive(Debug, PartialEq, Eq)]
pub enum RunError<S, H> {
    /// The source could not be read further. Every packet before the error was handled
    /// and every session flushed.
    Source(S),
    /// A handler method returned `Break` with this error.
    Handler(H),
}

impl<S: std::fmt::Display, H: std::fmt::Display> std::fmt::Display for RunError<S, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Source(e) => e.fmt(f),
            RunError::Handler(e) => e.fmt(f),
        }
    }
}

impl<S, H> std::error::Error for RunError<S, H>
where
    S: std::error::Error + 'static,
    H: std::error::Error + 'static,
{
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Source(e) => Some(e),
            RunError::Handler(e) => Some(e),
        }
    }
}

impl<E> RunError<E, E> {
    /// The error, whichever side it came from (when both have the same type).
    pub fn into_inner(self) -> E {
        match self {
            RunError::Source(e) | RunError::Handler(e) => e,
        }
    }
}
