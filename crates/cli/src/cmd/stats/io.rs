//! Packets and bytes per interval of capture time, as `tshark -z io,stat`.
//!
//! Rows are counted from the first packet's time. Memory is bounded by a row cap: a packet
//! that would need a row past it widens the interval (rows merged by a whole factor) until
//! it fits, so one packet with a wild timestamp costs a few merges, not gigabytes. The
//! automatic interval starts at 1s and widens along [`AUTO_LADDER`] past [`AUTO_ROWS`]
//! rows; a given interval is kept up to [`MAX_ROWS`] rows, then doubled.

const SECOND: u64 = 1_000_000_000;

/// The automatic widths, each a whole multiple of the one before: 1s, 2s, 10s, 30s, 1m,
/// 5m, 10m, 30m, 1h, 6h, 1d; past a day it doubles.
const AUTO_LADDER: [u64; 11] = [1, 2, 10, 30, 60, 300, 600, 1800, 3600, 21_600, 86_400];

/// Most rows with the automatic interval: a screenful or two.
pub const AUTO_ROWS: usize = 100;

/// Most rows with a given interval (16 MiB of counters).
pub const MAX_ROWS: usize = 1 << 20;

/// Packets and bytes of one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoRow {
    /// Packets.
    pub packets: u64,
    /// Bytes on the wire (the frames' original lengths).
    pub bytes: u64,
}

/// The I/O table being filled.
#[derive(Debug, Clone)]
pub struct Io {
    interval_ns: u64,
    auto: bool,
    max_rows: usize,
    origin: Option<i64>,
    rows: Vec<IoRow>,
    /// Packets stamped before the first packet (a clock stepping back), counted in row 0.
    pub before_start: u64,
    /// The interval given was widened to fit the row cap.
    pub widened: bool,
}

impl Io {
    /// A table with `interval_ns` wide rows, or the automatic interval for `None`.
    pub fn new(interval_ns: Option<u64>) -> Io {
        Io {
            interval_ns: interval_ns.unwrap_or(SECOND).max(1),
            auto: interval_ns.is_none(),
            max_rows: if interval_ns.is_none() {
                AUTO_ROWS
            } else {
                MAX_ROWS
            },
            origin: None,
            rows: Vec::new(),
            before_start: 0,
            widened: false,
        }
    }

    /// A table with a smaller row cap, for tests of the widening.
    #[cfg(test)]
    fn with_max_rows(interval_ns: Option<u64>, max_rows: usize) -> Io {
        Io {
            max_rows,
            ..Io::new(interval_ns)
        }
    }

    /// Counts rows from `ts_ns`, the capture's first packet, rather than from the first
    /// packet this table sees (a worker of `--threads` sees only some packets).
    pub fn start_at(&mut self, ts_ns: i64) {
        self.origin.get_or_insert(ts_ns);
    }

    /// Adds the rows of `other`, counted from the same start (another worker's): both are
    /// widened to the wider interval, which is where one table of every packet would have
    /// ended, since widening depends only on the latest packet.
    pub fn merge(&mut self, mut other: Io) {
        while self.interval_ns < other.interval_ns {
            self.widen();
        }
        while other.interval_ns < self.interval_ns {
            other.widen();
        }
        if self.rows.len() < other.rows.len() {
            self.rows.resize(other.rows.len(), IoRow::default());
        }
        for (mine, theirs) in self.rows.iter_mut().zip(&other.rows) {
            mine.packets += theirs.packets;
            mine.bytes = mine.bytes.saturating_add(theirs.bytes);
        }
        self.origin = self.origin.or(other.origin);
        self.before_start += other.before_start;
        self.widened |= other.widened;
    }

    /// Counts one packet of `bytes` at `ts_ns`.
    pub fn add(&mut self, ts_ns: i64, bytes: u64) {
        let origin = *self.origin.get_or_insert(ts_ns);
        let offset = match u64::try_from(i128::from(ts_ns) - i128::from(origin)) {
            Ok(offset) => offset,
            Err(_) => {
                self.before_start += 1;
                0
            }
        };
        let mut row = offset / self.interval_ns;
        while row >= self.max_rows as u64 {
            self.widen();
            row = offset / self.interval_ns;
        }
        // Below max_rows, so it fits in usize.
        let row = row as usize;
        if self.rows.len() <= row {
            self.rows.resize(row + 1, IoRow::default());
        }
        if let Some(r) = self.rows.get_mut(row) {
            r.packets += 1;
            r.bytes = r.bytes.saturating_add(bytes);
        }
    }

    /// Widens the interval by the next factor and merges the rows to match.
    fn widen(&mut self) {
        let factor = if self.auto {
            let secs = self.interval_ns / SECOND;
            AUTO_LADDER
                .windows(2)
                .find(|w| w[0] == secs)
                .map_or(2, |w| w[1] / w[0])
        } else {
            self.widened = true;
            2
        };
        self.interval_ns = self.interval_ns.saturating_mul(factor);
        let mut merged = vec![IoRow::default(); self.rows.len().div_ceil(factor as usize)];
        for (i, r) in self.rows.iter().enumerate() {
            if let Some(m) = merged.get_mut(i / factor as usize) {
                m.packets += r.packets;
                m.bytes = m.bytes.saturating_add(r.bytes);
            }
        }
        self.rows = merged;
    }

    /// The interval's width in nanoseconds.
    pub fn interval_ns(&self) -> u64 {
        self.interval_ns
    }

    /// The rows, the first starting at the first packet.
    pub fn rows(&self) -> &[IoRow] {
        &self.rows
    }

    /// Packets and bytes of all rows.
    pub fn total(&self) -> IoRow {
        self.rows.iter().fold(IoRow::default(), |t, r| IoRow {
            packets: t.packets + r.packets,
            bytes: t.bytes.saturating_add(r.bytes),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_count_from_the_first_packet() {
        let mut io = Io::new(Some(SECOND));
        io.add(10 * SECOND as i64 + 500, 60);
        io.add(10 * SECOND as i64 + 999_999_999, 40);
        io.add(12 * SECOND as i64 + 500, 100);
        let rows = io.rows();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            IoRow {
                packets: 2,
                bytes: 100
            }
        );
        assert_eq!(rows[1], IoRow::default());
        assert_eq!(
            rows[2],
            IoRow {
                packets: 1,
                bytes: 100
            }
        );
        assert_eq!(
            io.total(),
            IoRow {
                packets: 3,
                bytes: 200
            }
        );
    }

    #[test]
    fn auto_interval_climbs_the_ladder() {
        let mut io = Io::new(None);
        // 0s..=250s: 1s needs 251 rows, 2s 126, 10s 26.
        for s in 0..=250i64 {
            io.add(s * SECOND as i64, 1);
        }
        assert_eq!(io.interval_ns(), 10 * SECOND);
        assert_eq!(io.rows().len(), 26);
        assert_eq!(io.rows()[0].packets, 10);
        assert_eq!(io.rows()[25].packets, 1);
        assert_eq!(io.total().packets, 251);
        assert!(!io.widened);
    }

    #[test]
    fn merged_parts_are_the_table_of_every_packet() {
        let start = 5 * SECOND as i64;
        let (mut whole, mut a, mut b) = (Io::new(None), Io::new(None), Io::new(None));
        for io in [&mut whole, &mut a, &mut b] {
            io.start_at(start);
        }
        // 0s..=250s widens to 10s; the part with the late packets widens alone.
        for s in 0..=250i64 {
            let ts = start + s * SECOND as i64 + 7;
            whole.add(ts, s as u64);
            if s % 3 == 0 && s < 150 {
                a.add(ts, s as u64)
            } else {
                b.add(ts, s as u64)
            }
        }
        assert!(a.interval_ns() < b.interval_ns());
        a.merge(b);
        assert_eq!(a.interval_ns(), whole.interval_ns());
        assert_eq!(a.rows(), whole.rows());
    }

    #[test]
    fn a_wild_timestamp_widens_a_given_interval_and_says_so() {
        let mut io = Io::with_max_rows(Some(1_000), 16);
        io.add(0, 1);
        io.add(i64::MAX, 1);
        io.add(i64::MIN, 1);
        assert!(io.widened);
        assert!(io.rows().len() <= 16);
        assert_eq!(io.total().packets, 3);
        assert_eq!(io.before_start, 1);
    }
}
