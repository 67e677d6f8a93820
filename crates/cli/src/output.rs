//! Buffered standard output shared by the subcommands: large writes for files, a flush per
//! packet for live captures so lines appear as packets arrive.

use std::fmt::Write as _;
use std::io::{Stdout, Write};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::args::TimeFormat;
use crate::error::CliError;

/// Flush the buffer once it holds this many bytes.
const FLUSH_AT: usize = 64 * 1024;

/// Standard output with one reusable buffer, or a buffer alone (a worker thread's output,
/// which the thread that owns standard output writes in order).
#[derive(Debug)]
pub struct Output {
    /// `None`: the buffer is taken by its owner ([`Output::take`]), never written here.
    out: Option<Stdout>,
    buf: Vec<u8>,
    live: bool,
}

impl Output {
    /// Standard output; `live` flushes after every packet.
    pub fn stdout(live: bool) -> Output {
        Output {
            out: Some(std::io::stdout()),
            buf: Vec::with_capacity(FLUSH_AT * 2),
            live,
        }
    }

    /// A buffer that is never written to standard output: its owner takes what it holds.
    pub fn memory() -> Output {
        Output {
            out: None,
            buf: Vec::new(),
            live: false,
        }
    }

    /// What the buffer holds, leaving it empty with as much room as it had.
    pub fn take(&mut self) -> Vec<u8> {
        let room = self.buf.capacity();
        std::mem::replace(&mut self.buf, Vec::with_capacity(room))
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

    /// Writes everything buffered (a [`memory`](Output::memory) buffer keeps it).
    pub fn flush(&mut self) -> Result<(), CliError> {
        let Some(out) = &self.out else {
            return Ok(());
        };
        let mut out = out.lock();
        out.write_all(&self.buf)?;
        self.buf.clear();
        out.flush()?;
        Ok(())
    }

    /// Writes what is left at the end.
    pub fn finish(mut self) -> Result<(), CliError> {
        self.flush()
    }
}

/// How [`write_time`] writes times: set once per run from `-t` and `--utc`.
#[derive(Debug)]
struct Clock {
    format: TimeFormat,
    /// `None`: UTC.
    zone: Option<TimeZone>,
    /// The first time written (`relative`) and the last one (`delta`), `i64::MIN` before.
    first: AtomicI64,
    previous: AtomicI64,
    /// The zone's offset for the UTC hour last converted, as (hour, offset seconds): one
    /// zone lookup per hour of capture rather than per line.
    offset: Mutex<(i64, i64)>,
}

static CLOCK: OnceLock<Clock> = OnceLock::new();

/// Sets how [`write_time`] writes times for the rest of the run: `format`, in local time
/// (the system's zone, or `TZ`) unless `utc`. Before it is called, or if the local zone
/// cannot be found, times are UTC clock times.
pub fn set_time_format(format: TimeFormat, utc: bool) {
    let zone = (!utc).then(TimeZone::system);
    let _ = CLOCK.set(Clock {
        format,
        zone,
        first: AtomicI64::new(i64::MIN),
        previous: AtomicI64::new(i64::MIN),
        offset: Mutex::new((i64::MIN, 0)),
    });
}

/// Whether times are written relative to the previous or first time written (`-t delta`,
/// `-t relative`): then they depend on the order lines are written in, and the output of
/// several threads cannot be written by each on its own.
pub fn order_dependent_time() -> bool {
    CLOCK
        .get()
        .is_some_and(|c| matches!(c.format, TimeFormat::Relative | TimeFormat::Delta))
}

/// Appends a capture time as tcpdump does: `HH:MM:SS.micros` in local time by default, or
/// the format `-t` chose ([`set_time_format`]).
pub fn write_time(out: &mut String, ts_ns: i64) {
    let Some(clock) = CLOCK.get() else {
        write_clock(out, ts_ns, 0, false);
        return;
    };
    match clock.format {
        TimeFormat::Clock | TimeFormat::Date => {
            let offset = clock.offset_at(ts_ns);
            write_clock(out, ts_ns, offset, clock.format == TimeFormat::Date);
        }
        TimeFormat::Epoch => write_seconds(out, ts_ns),
        TimeFormat::Relative => {
            let first = match clock.first.compare_exchange(
                i64::MIN,
                ts_ns,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => ts_ns,
                Err(first) => first,
            };
            write_seconds(out, ts_ns.saturating_sub(first));
        }
        TimeFormat::Delta => {
            let previous = clock.previous.swap(ts_ns, Ordering::Relaxed);
            let delta = if previous == i64::MIN {
                0
            } else {
                ts_ns.saturating_sub(previous)
            };
            write_seconds(out, delta);
        }
    }
}

impl Clock {
    /// Seconds to add to UTC at `ts_ns` for the clock's zone.
    fn offset_at(&self, ts_ns: i64) -> i64 {
        let Some(zone) = &self.zone else {
            return 0;
        };
        let hour = ts_ns.div_euclid(3_600_000_000_000);
        let mut cached = self.offset.lock().unwrap_or_else(PoisonError::into_inner);
        if cached.0 != hour {
            let offset = Timestamp::from_nanosecond(i128::from(ts_ns))
                .map_or(0, |t| i64::from(zone.to_offset(t).seconds()));
            *cached = (hour, offset);
        }
        cached.1
    }
}

/// `HH:MM:SS.micros` (with the date first when `date`), `offset` seconds east of UTC.
fn write_clock(out: &mut String, ts_ns: i64, offset: i64, date: bool) {
    let secs = ts_ns.div_euclid(1_000_000_000).saturating_add(offset);
    let micros = ts_ns.rem_euclid(1_000_000_000) / 1000;
    if date {
        let days = secs.div_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let _ = write!(out, "{y:04}-{m:02}-{d:02} ");
    }
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

/// Seconds with microseconds, signed: `1700000000.000123`, `-0.500000`.
fn write_seconds(out: &mut String, ns: i64) {
    let sign = if ns < 0 { "-" } else { "" };
    let abs = ns.unsigned_abs();
    let _ = write!(
        out,
        "{sign}{}.{:06}",
        abs / 1_000_000_000,
        abs % 1_000_000_000 / 1000
    );
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`), so that writing a date needs no zone lookup.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // Both are small: month 1..=12, day 1..=31.
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_date() {
        let mut out = String::new();
        // 2023-11-14 22:13:20.000123 UTC.
        let ts = 1_700_000_000_000_123_456;
        write_clock(&mut out, ts, 0, false);
        out.push(' ');
        write_clock(&mut out, ts, 0, true);
        out.push(' ');
        write_clock(&mut out, ts, 3600, true);
        out.push(' ');
        write_clock(&mut out, -1_000, 0, true);
        assert_eq!(
            out,
            "22:13:20.000123 2023-11-14 22:13:20.000123 2023-11-14 23:13:20.000123 \
             1969-12-31 23:59:59.999999"
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn seconds() {
        let mut out = String::new();
        write_seconds(&mut out, 1_500_000_123_999);
        out.push(' ');
        write_seconds(&mut out, -500_000_000);
        assert_eq!(out, "1500.000123 -0.500000");
    }
}
