//! Buffered standard output shared by the subcommands: large writes for files, a flush per
//! packet for live captures so lines appear as packets arrive.

use std::fmt::Write as _;
use std::io::{StdoutLock, Write};

use crate::error::CliError;

/// Flush the buffer once it holds this many bytes.
const FLUSH_AT: usize = 64 * 1024;

/// Standard output with one reusable buffer.
#[derive(Debug)]
pub struct Output {
    out: StdoutLock<'static>,
    buf: Vec<u8>,
    live: bool,
}

impl Output {
    /// Standard output; `live` flushes after every packet.
    pub fn stdout(live: bool) -> Output {
        Output {
            out: std::io::stdout().lock(),
            buf: Vec::with_capacity(FLUSH_AT * 2),
            live,
        }
    }

    /// The buffer to append the next output to.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Call after each packet: writes the buffer out when it is large, or at once when live.
    pub fn packet_done(&mut self) -> Result<(), CliError> {
        if self.live || self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes everything buffered.
    pub fn flush(&mut self) -> Result<(), CliError> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()?;
        Ok(())
    }

    /// Writes what is left at the end.
    pub fn finish(mut self) -> Result<(), CliError> {
        self.flush()
    }
}

/// Appends a capture time as tcpdump does (`HH:MM:SS.micros`), in UTC.
pub fn write_time(out: &mut String, ts_ns: i64) {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let micros = ts_ns.rem_euclid(1_000_000_000) / 1000;
    let day = secs.rem_euclid(86_400);
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}.{:06}",
        day / 3600,
        day % 3600 / 60,
        day % 60,
        micros
    );
}
