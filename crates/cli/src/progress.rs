//! A progress line on stderr while long files are read, on a terminal only.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Files smaller than this finish before a progress line would help.
const MIN_FILE_BYTES: u64 = 1024 * 1024;
/// A read that ends sooner shows no progress line at all.
const SHOW_AFTER: Duration = Duration::from_secs(2);
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
    started: Instant,
    last: Instant,
    shown: bool,
}

impl Progress {
    /// A progress line for reading `paths` one after the other, when stderr is a terminal
    /// and the files are large together.
    pub fn for_files(paths: &[PathBuf]) -> Option<Progress> {
        if paths.iter().any(|p| p.as_os_str() == "-") || !std::io::stderr().is_terminal() {
            return None;
        }
        let mut total = 0u64;
        for path in paths {
            total = total.saturating_add(std::fs::metadata(path).ok()?.len());
        }
        (total >= MIN_FILE_BYTES).then(|| Progress {
            total,
            done: 0,
            packets: 0,
            started: Instant::now(),
            last: Instant::now(),
            shown: false,
        })
    }

    /// Counts one packet of `caplen` bytes; redraws now and then, once the read has taken
    /// longer than 2 s.
    pub fn packet(&mut self, caplen: u32) {
        self.done = self.done.saturating_add(u64::from(caplen) + RECORD_HEADER);
        self.packets += 1;
        // Looking at the clock every packet would cost more than the packet.
        if self.packets % 4096 == 0 && self.last.elapsed() >= REDRAW {
            self.last = Instant::now();
            let elapsed = self.started.elapsed();
            if elapsed < SHOW_AFTER {
                return;
            }
            self.shown = true;
            let line = progress_line(self.done, self.total, self.packets, elapsed);
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{line}\x1b[K");
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

/// `42% 1234 of 2900 MB, 1234567 packets, 310 MB/s, 5 s left`.
fn progress_line(done: u64, total: u64, packets: u64, elapsed: Duration) -> String {
    let done = done.min(total);
    let pct = done.saturating_mul(100) / total.max(1);
    let secs = elapsed.as_secs_f64().max(0.001);
    // Bytes per second; the casts only lose precision far beyond any file size.
    let rate = done as f64 / secs;
    let left = if rate > 0.0 {
        format!(", {} s left", ((total - done) as f64 / rate).ceil() as u64)
    } else {
        String::new()
    };
    format!(
        "{pct:3}% {} of {} MB, {packets} packets, {:.0} MB/s{left}",
        done / 1_000_000,
        total / 1_000_000,
        rate / 1e6
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_rate_and_time_left() {
        let line = progress_line(300_000_000, 900_000_000, 12345, Duration::from_secs(3));
        assert_eq!(
            line,
            " 33% 300 of 900 MB, 12345 packets, 100 MB/s, 6 s left"
        );
    }
}
