//! A progress line on stderr while a long file is read, on a terminal only.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Files smaller than this finish before a progress line would help.
const MIN_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// Redraw at most this often.
const REDRAW: Duration = Duration::from_millis(250);
/// Per-record overhead counted with each packet (pcap's record header).
const RECORD_HEADER: u64 = 16;

/// Progress through a capture file, drawn on stderr.
#[derive(Debug)]
pub struct Progress {
    total: u64,
    done: u64,
    packets: u64,
    last: Instant,
    shown: bool,
}

impl Progress {
    /// A progress line for reading `path`, when stderr is a terminal and the file is large.
    pub fn for_file(path: &Path) -> Option<Progress> {
        if path.as_os_str() == "-" || !std::io::stderr().is_terminal() {
            return None;
        }
        let total = std::fs::metadata(path).ok()?.len();
        (total >= MIN_FILE_BYTES).then(|| Progress {
            total,
            done: 0,
            packets: 0,
            last: Instant::now(),
            shown: false,
        })
    }

    /// Counts one packet of `caplen` bytes; redraws now and then.
    pub fn packet(&mut self, caplen: u32) {
        self.done = self.done.saturating_add(u64::from(caplen) + RECORD_HEADER);
        self.packets += 1;
        // Looking at the clock every packet would cost more than the packet.
        if self.packets % 4096 == 0 && self.last.elapsed() >= REDRAW {
            self.last = Instant::now();
            self.shown = true;
            let pct = (self.done.min(self.total) * 100) / self.total.max(1);
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r{pct:3}% {} of {} MB, {} packets",
                self.done / 1_000_000,
                self.total / 1_000_000,
                self.packets
            );
            let _ = err.flush();
        }
    }

    /// Erases the line, before anything else is written to stderr.
    pub fn clear(&mut self) {
        if std::mem::take(&mut self.shown) {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}
