//! Session numbers in the output of a worker thread.
//!
//! Each worker's reassembler numbers its own sessions, in the order it sees them start; the
//! number a user sees is the capture's (tshark's `tcp.stream`), known only once the starts
//! of every worker are put back in capture order. So a worker writes a marker where a
//! session number goes, and the merging thread writes the number in its place
//! ([`super::merge`]). Outside worker threads, [`SessionId`] writes the number itself: the
//! single-threaded path is unchanged.
//!
//! A marker is `NUL`, a tag byte, 16 hex digits of the worker's session number and 2 hex
//! digits of a width to right-align the number in (0: none): 20 bytes of ASCII, valid in a
//! `String`. Output never holds a NUL of its own: every byte off the wire is escaped
//! ([`crate::render::escape`]) and control characters are written as escapes.

use std::cell::Cell;
use std::fmt;

/// The byte that starts every marker.
pub(super) const MARK: u8 = 0;
/// Bytes in a marker.
pub(super) const LEN: usize = 20;
/// Tag: a session started (writes nothing).
pub(super) const STARTED: u8 = b'N';
/// Tag: the session's number.
pub(super) const NUMBER: u8 = b'S';

thread_local! {
    /// Set on worker threads for their lifetime.
    static WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Makes this thread write markers in place of session numbers.
pub(super) fn mark_worker_thread() {
    WORKER.with(|w| w.set(true));
}

/// A session number as the user sees it: `Display` writes the number, or on a worker
/// thread a marker for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionId {
    id: u64,
    /// Right-align in this many columns (the merging thread pads; on one thread the
    /// caller pads as it always did).
    width: u8,
}

impl SessionId {
    /// Session `id`, as [`pcap_tcp_reassembly::Event::session`] numbers it.
    pub(crate) fn new(id: u64) -> SessionId {
        SessionId { id, width: 0 }
    }

    /// Session `id` in a column `width` wide, right-aligned, for a table whose cells are
    /// padded after they are written (a marker is wider than the number).
    pub(crate) fn in_column(id: u64, width: usize) -> SessionId {
        SessionId {
            id,
            width: u8::try_from(width).unwrap_or(u8::MAX),
        }
    }

    /// Appends the number (or marker) to a byte buffer.
    pub(crate) fn push(self, out: &mut Vec<u8>) {
        if WORKER.with(Cell::get) {
            push_marker(out, NUMBER, self.id, self.width);
        } else {
            crate::render::json::push_u64(out, self.id);
        }
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if WORKER.with(Cell::get) {
            write!(
                f,
                "\0{}{:016x}{:02x}",
                char::from(NUMBER),
                self.id,
                self.width
            )
        } else {
            write!(f, "{}", self.id)
        }
    }
}

/// Appends a marker.
pub(super) fn push_marker(out: &mut Vec<u8>, tag: u8, id: u64, width: u8) {
    use std::io::Write as _;
    out.push(MARK);
    out.push(tag);
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{id:016x}{width:02x}");
}

/// A marker read back: its tag, session number and width.
pub(super) fn parse(marker: &[u8]) -> Option<(u8, u64, usize)> {
    let tag = *marker.get(1)?;
    let hex = std::str::from_utf8(marker.get(2..LEN)?).ok()?;
    let id = u64::from_str_radix(hex.get(..16)?, 16).ok()?;
    let width = usize::from_str_radix(hex.get(16..)?, 16).ok()?;
    Some((tag, id, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_read_back_and_numbers_stay_numbers_off_workers() {
        let mut out = Vec::new();
        SessionId::new(42).push(&mut out);
        assert_eq!(out, b"42");
        assert_eq!(SessionId::in_column(7, 7).to_string(), "7");
        let handle = std::thread::spawn(|| {
            mark_worker_thread();
            let mut out = Vec::new();
            SessionId::new(0x1234).push(&mut out);
            let text = SessionId::in_column(9, 7).to_string();
            (out, text)
        });
        let (out, text) = handle.join().unwrap();
        assert_eq!(out.len(), LEN);
        assert_eq!(parse(&out), Some((NUMBER, 0x1234, 0)));
        assert_eq!(parse(text.as_bytes()), Some((NUMBER, 9, 7)));
    }
}
