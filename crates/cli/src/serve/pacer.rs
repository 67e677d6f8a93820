//! Replay pacing: sleep between packets of a capture file so that it plays back at the
//! speed it was captured (`serve -r FILE` without `--fast`).
//!
//! Pacing is measured from the first packet, not packet to packet, so time spent decoding
//! and serving is absorbed instead of adding up as drift.

use std::time::{Duration, Instant};

/// A monotonic clock that can sleep: [`SystemClock`] in the program, a fake in tests.
pub trait Clock {
    /// Time elapsed since an arbitrary, fixed origin.
    fn now(&self) -> Duration;
    /// Blocks the calling thread for `d`.
    fn sleep(&mut self, d: Duration);
}

/// The real clock: [`Instant`] and [`std::thread::sleep`].
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// Sleeps so that packets are handed on at the pace of their capture timestamps.
///
/// ```
/// use pcap_cli::serve::Pacer;
/// let mut pacer = Pacer::new();
/// // `pcap_capture::Packet::ts_ns` values, 1 µs apart: returns almost at once.
/// for ts in [1_700_000_000_000_000_000i64, 1_700_000_000_000_001_000] {
///     pacer.wait_until(ts);
/// }
/// ```
#[derive(Debug)]
pub struct Pacer<C: Clock = SystemClock> {
    clock: C,
    /// (first packet timestamp in ns, clock reading when it was seen).
    base: Option<(i64, Duration)>,
    max_gap: Option<Duration>,
}

impl Pacer<SystemClock> {
    /// A pacer on the system clock with no cap on gaps.
    pub fn new() -> Self {
        Self::with_clock(SystemClock::default())
    }
}

impl Default for Pacer<SystemClock> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Clock> Pacer<C> {
    /// A pacer on the given clock (tests pass a fake one).
    pub fn with_clock(clock: C) -> Self {
        Self {
            clock,
            base: None,
            max_gap: None,
        }
    }

    /// Caps any single wait at `gap`: a capture with an hour of silence in the middle then
    /// replays that silence as `gap`, and the packets after it keep their relative pace.
    #[must_use]
    pub fn max_gap(mut self, gap: Duration) -> Self {
        self.max_gap = Some(gap);
        self
    }

    /// Sleeps until the packet with timestamp `ts_nanos` (nanoseconds since the epoch, as
    /// in `pcap_capture::Packet::ts_ns`) is due, and returns how long it slept. The first
    /// packet is due at once. A timestamp earlier than the previous ones (files are not
    /// always in order) is due at once as well.
    pub fn wait_until(&mut self, ts_nanos: i64) -> Duration {
        let now = self.clock.now();
        let Some((ts0, t0)) = self.base else {
            self.base = Some((ts_nanos, now));
            return Duration::ZERO;
        };
        let offset = Duration::from_nanos(u64::try_from(ts_nanos.saturating_sub(ts0)).unwrap_or(0));
        let due = t0.saturating_add(offset);
        let mut wait = due.saturating_sub(now);
        if let Some(gap) = self.max_gap {
            if wait > gap {
                wait = gap;
                // Rebase so that this packet becomes the new reference point.
                self.base = Some((ts_nanos, now.saturating_add(gap)));
            }
        }
        if !wait.is_zero() {
            self.clock.sleep(wait);
        }
        wait
    }

    /// The clock, so a caller (or a test) can read it.
    pub fn clock(&self) -> &C {
        &self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock that only moves when slept on or advanced by hand.
    #[derive(Debug, Default)]
    struct FakeClock {
        now: Duration,
        sleeps: Vec<Duration>,
    }

    impl Clock for FakeClock {
        fn now(&self) -> Duration {
            self.now
        }
        fn sleep(&mut self, d: Duration) {
            self.sleeps.push(d);
            self.now += d;
        }
    }

    const SEC: i64 = 1_000_000_000;
    const MS: i64 = 1_000_000;

    #[test]
    fn replays_at_capture_speed() {
        let mut pacer = Pacer::with_clock(FakeClock::default());
        let base = 1_700_000_000 * SEC;
        for ts in [base, base + 10 * MS, base + 10 * MS, base + SEC] {
            pacer.wait_until(ts);
        }
        assert_eq!(
            pacer.clock().sleeps,
            vec![Duration::from_millis(10), Duration::from_millis(990)]
        );
        assert_eq!(pacer.clock().now, Duration::from_secs(1));
    }

    #[test]
    fn work_between_packets_is_absorbed() {
        let mut pacer = Pacer::with_clock(FakeClock::default());
        pacer.wait_until(0);
        pacer.clock.now += Duration::from_millis(30); // decoding took 30 ms
        assert_eq!(pacer.wait_until(100 * MS), Duration::from_millis(70));
        pacer.clock.now += Duration::from_millis(500); // fell behind
        assert_eq!(pacer.wait_until(200 * MS), Duration::ZERO);
    }

    #[test]
    fn backwards_timestamps_do_not_wait() {
        let mut pacer = Pacer::with_clock(FakeClock::default());
        pacer.wait_until(5 * SEC);
        assert_eq!(pacer.wait_until(4 * SEC), Duration::ZERO);
        assert!(pacer.clock().sleeps.is_empty());
    }

    #[test]
    fn long_gaps_are_capped_and_pace_resumes_after() {
        let mut pacer = Pacer::with_clock(FakeClock::default()).max_gap(Duration::from_secs(1));
        pacer.wait_until(0);
        assert_eq!(pacer.wait_until(3600 * SEC), Duration::from_secs(1));
        assert_eq!(
            pacer.wait_until(3600 * SEC + 20 * MS),
            Duration::from_millis(20)
        );
        assert_eq!(pacer.clock().now, Duration::from_millis(1020));
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let mut pacer = Pacer::with_clock(FakeClock::default()).max_gap(Duration::from_secs(2));
        pacer.wait_until(i64::MIN);
        assert_eq!(pacer.wait_until(i64::MAX), Duration::from_secs(2));
        assert_eq!(pacer.wait_until(i64::MIN), Duration::ZERO);
    }

    #[test]
    fn system_clock_waits_tiny_spans() {
        let mut pacer = Pacer::new();
        pacer.wait_until(0);
        let slept = pacer.wait_until(1_000);
        assert!(slept <= Duration::from_micros(1));
    }
}
