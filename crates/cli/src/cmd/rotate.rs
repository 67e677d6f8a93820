//! File rotation for `capture -w`, with tcpdump's options and names:
//!
//! - `-G SECONDS`: a new file when a packet comes SECONDS or more after the current file's
//!   first packet (by packet time, so reading a file rotates as the live capture would
//!   have). The name is the `-w` name through strftime (`%Y-%m-%d_%H:%M:%S` and so on, at
//!   the file's first packet, local time unless `--utc`); a name without `%` gets the
//!   file's number (`t.pcap`, `t.pcap1`, ...) where tcpdump would overwrite one file.
//! - `-C SIZE`: a new file before a packet when the current one is larger than SIZE
//!   million bytes (`k`, `m`, `g` suffixes: KiB, MiB, GiB); the second file gets `1`
//!   after its name, and so on.
//! - `-W COUNT`: with `-C` alone, a ring of COUNT files numbered with the same number of
//!   digits (`t.pcap0` to `t.pcap9` for 10), the oldest overwritten; with `-G`, the capture
//!   stops when a file beyond the COUNT-th would be started.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::error::CliError;

/// The rotation options of `capture -w`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotateOptions {
    /// `-G`: seconds per file.
    pub seconds: Option<u64>,
    /// `-C`: bytes a file may exceed before the next packet goes to a new one.
    pub size: Option<u64>,
    /// `-W`: ring size (with `-C` alone) or number of files (with `-G`).
    pub count: Option<u32>,
    /// strftime in UTC instead of local time.
    pub utc: bool,
}

impl RotateOptions {
    /// True when any rotation was asked for.
    pub fn any(&self) -> bool {
        self.seconds.is_some() || self.size.is_some()
    }
}

/// Parses a `-C` size: million bytes by default (tcpdump's unit), or KiB, MiB, GiB with a
/// `k`, `m` or `g` suffix (either case); more than 0.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_lowercase()),
        _ => (text, ' '),
    };
    let scale: u64 = match unit {
        ' ' => 1_000_000,
        'k' => 1 << 10,
        'm' => 1 << 20,
        'g' => 1 << 30,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} (k, m or g, or none for million bytes)"
            ));
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number of bytes"))?;
    match n.checked_mul(scale) {
        Some(0) => Err("must be more than 0".to_owned()),
        Some(b) => Ok(b),
        None => Err(format!("{text:?} is too large")),
    }
}

/// What to do before writing a packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Write it to the current file.
    Same,
    /// Close the current file and write it to this new one.
    Open(PathBuf),
    /// `-G` with `-W`: the files are all written; stop before this packet.
    Stop,
}

/// Decides when `capture -w` starts a new file and what it is called.
#[derive(Debug)]
pub struct Rotation {
    options: RotateOptions,
    /// The `-w` name, a strftime pattern when it holds a `%`.
    base: String,
    zone: TimeZone,
    /// The current file's first packet time, once there is one.
    started: Option<i64>,
    /// Files started so far (for `-G` without a pattern, and `-G -W`).
    files: u64,
    /// The `-C` counter of the current time period (the ring position with `-W`).
    part: u32,
}

impl Rotation {
    /// Rotation of the files named after `path`.
    pub fn new(path: &Path, options: RotateOptions) -> Rotation {
        Rotation {
            options,
            base: path.to_string_lossy().into_owned(),
            zone: if options.utc {
                TimeZone::UTC
            } else {
                TimeZone::system()
            },
            started: None,
            files: 0,
            part: 0,
        }
    }

    fn pattern(&self) -> bool {
        self.base.contains('%')
    }

    /// The name of the first file, for a first packet at `ts_ns` (or now, without one).
    pub fn first(&mut self, ts_ns: Option<i64>) -> Result<PathBuf, CliError> {
        self.started = ts_ns;
        self.files = 1;
        self.name(ts_ns)
    }

    /// What to do with a packet at `ts_ns` when the current file holds `size` bytes.
    pub fn next(&mut self, ts_ns: i64, size: u64) -> Result<Next, CliError> {
        let Some(started) = self.started else {
            // The first file was opened before any packet: its period starts here.
            self.started = Some(ts_ns);
            return Ok(Next::Same);
        };
        let period_over = self.options.seconds.is_some_and(|s| {
            let ns = i128::from(s) * 1_000_000_000;
            i128::from(ts_ns) - i128::from(started) >= ns
        });
        let full = self.options.size.is_some_and(|max| size > max);
        if period_over {
            if let Some(count) = self.options.count {
                if self.files >= u64::from(count) {
                    return Ok(Next::Stop);
                }
            }
            self.started = Some(ts_ns);
            self.files += 1;
            self.part = 0;
        } else if full {
            self.files += 1;
            self.part = match self.options.count {
                // A ring: back to the first file after the last.
                Some(count) if self.options.seconds.is_none() => (self.part + 1) % count.max(1),
                _ => self.part.saturating_add(1),
            };
            if let (Some(count), Some(_)) = (self.options.count, self.options.seconds) {
                if self.files > u64::from(count) {
                    return Ok(Next::Stop);
                }
            }
        } else {
            return Ok(Next::Same);
        }
        self.name(self.started).map(Next::Open)
    }

    /// The file name for a file of the period starting at `ts_ns` as tcpdump's MakeFilename
    /// builds it: the name strftime'd at the period's start, then the counter when it is not 0, or always, zero-padded to
    /// the width of `-W`, when the files form a ring.
    fn name(&self, ts_ns: Option<i64>) -> Result<PathBuf, CliError> {
        let mut name = if self.pattern() {
            let ts = ts_ns
                .and_then(|ns| Timestamp::from_nanosecond(i128::from(ns)).ok())
                .unwrap_or_else(Timestamp::now);
            let zoned = ts.to_zoned(self.zone.clone());
            jiff::fmt::strtime::format(self.base.as_bytes(), &zoned).map_err(|e| {
                CliError::Rotate(format!(
                    "-w {}: {e}",
                    crate::render::escape::Escaped::plain(&self.base)
                ))
            })?
        } else {
            self.base.clone()
        };
        let counter = if self.options.seconds.is_some() && !self.pattern() {
            // Every file a name of its own, where tcpdump would overwrite one.
            self.files.saturating_sub(1)
        } else {
            u64::from(self.part)
        };
        match (self.options.count, self.options.seconds) {
            (Some(count), None) => {
                let width = count.to_string().len();
                name.push_str(&format!("{counter:0width$}"));
            }
            _ if counter != 0 => name.push_str(&counter.to_string()),
            _ => {}
        }
        Ok(PathBuf::from(name))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const S: i64 = 1_000_000_000;

    fn opts(seconds: Option<u64>, size: Option<u64>, count: Option<u32>) -> RotateOptions {
        RotateOptions {
            seconds,
            size,
            count,
            utc: true,
        }
    }

    #[test]
    fn sizes_are_million_bytes_or_binary_with_a_suffix() {
        assert_eq!(parse_size("1"), Ok(1_000_000));
        assert_eq!(parse_size("3k"), Ok(3072));
        assert_eq!(parse_size("2M"), Ok(2 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1.5").is_err());
        assert!(parse_size("5x").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999999999999").is_err());
    }

    #[test]
    fn size_rotation_numbers_files_after_the_first() {
        let mut r = Rotation::new(Path::new("t.pcap"), opts(None, Some(100), None));
        assert_eq!(r.first(Some(0)).unwrap(), PathBuf::from("t.pcap"));
        assert_eq!(r.next(1, 100).unwrap(), Next::Same);
        assert_eq!(r.next(2, 101).unwrap(), Next::Open("t.pcap1".into()));
        assert_eq!(r.next(3, 101).unwrap(), Next::Open("t.pcap2".into()));
    }

    #[test]
    fn size_ring_with_w_wraps_and_pads() {
        let mut r = Rotation::new(Path::new("r"), opts(None, Some(10), Some(3)));
        assert_eq!(r.first(Some(0)).unwrap(), PathBuf::from("r0"));
        let names: Vec<Next> = (0..4).map(|i| r.next(i, 11).unwrap()).collect();
        let want = ["r1", "r2", "r0", "r1"].map(|n| Next::Open(n.into()));
        assert_eq!(names, want);
        let mut r = Rotation::new(Path::new("r"), opts(None, Some(10), Some(12)));
        assert_eq!(r.first(None).unwrap(), PathBuf::from("r00"));
    }

    #[test]
    fn time_rotation_by_packet_time_with_strftime() {
        let mut r = Rotation::new(Path::new("c-%H%M%S.pcap"), opts(Some(60), None, None));
        // 2023-11-14 22:13:20 UTC.
        let t0 = 1_700_000_000 * S;
        assert_eq!(r.first(Some(t0)).unwrap(), PathBuf::from("c-221320.pcap"));
        assert_eq!(r.next(t0 + 59 * S, 0).unwrap(), Next::Same);
        assert_eq!(
            r.next(t0 + 60 * S, 0).unwrap(),
            Next::Open("c-221420.pcap".into())
        );
        // The next period starts at that packet.
        assert_eq!(r.next(t0 + 119 * S, 0).unwrap(), Next::Same);
    }

    #[test]
    fn time_rotation_without_pattern_numbers_and_w_stops() {
        let mut r = Rotation::new(Path::new("t"), opts(Some(1), None, Some(2)));
        assert_eq!(r.first(Some(0)).unwrap(), PathBuf::from("t"));
        assert_eq!(r.next(S, 0).unwrap(), Next::Open("t1".into()));
        assert_eq!(r.next(2 * S, 0).unwrap(), Next::Stop);
    }

    #[test]
    fn time_and_size_together_count_within_the_period() {
        let mut r = Rotation::new(Path::new("p-%S"), opts(Some(10), Some(5), None));
        assert_eq!(r.first(Some(0)).unwrap(), PathBuf::from("p-00"));
        // Within a period, the period's name and the -C counter.
        assert_eq!(r.next(S, 6).unwrap(), Next::Open("p-001".into()));
        assert_eq!(r.next(2 * S, 6).unwrap(), Next::Open("p-002".into()));
        assert_eq!(r.next(10 * S, 6).unwrap(), Next::Open("p-10".into()));
    }
}
