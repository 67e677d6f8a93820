//! Latency percentiles in bounded memory: a capped sample, exact while it holds every value.
//!
//! A host keeps at most [`SAMPLE_CAP`] latencies. Up to that many, the percentiles are
//! exact; past it the sample is a uniform random one of everything seen (reservoir
//! sampling, Vitter's Algorithm R), so percentiles are estimates and say so. The random
//! numbers come from a fixed-seed xorshift, so a file gives the same figures on every run.
//! The maximum and the count are tracked apart from the sample, and are always exact.

/// Most latencies kept per host: 8 KiB each.
pub const SAMPLE_CAP: usize = 1024;

/// The latencies of one host, in nanoseconds.
#[derive(Debug, Clone)]
pub struct Latencies {
    sample: Vec<u64>,
    seen: u64,
    max: u64,
    rng: u64,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies {
            sample: Vec::new(),
            seen: 0,
            max: 0,
            // Any odd non-zero seed will do; fixed so that runs repeat.
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

/// The figures shown for one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentiles {
    /// Nearest-rank 50th, 90th and 99th percentiles, in nanoseconds.
    pub p50: u64,
    /// 90th.
    pub p90: u64,
    /// 99th.
    pub p99: u64,
    /// The largest latency seen.
    pub max: u64,
    /// The percentiles come from a sample, not from every latency.
    pub sampled: bool,
}

impl Latencies {
    /// Adds one latency.
    pub fn add(&mut self, ns: u64) {
        self.seen = self.seen.saturating_add(1);
        self.max = self.max.max(ns);
        if self.sample.len() < SAMPLE_CAP {
            self.sample.push(ns);
            return;
        }
        // Algorithm R: the n-th value replaces a random slot with probability cap/n.
        let slot = self.next_random() % self.seen;
        if let Some(kept) = usize::try_from(slot)
            .ok()
            .and_then(|i| self.sample.get_mut(i))
        {
            *kept = ns;
        }
    }

    /// Adds the latencies of `other` (another worker's, for `--threads`). While together
    /// they fit in the sample, it holds every value of both, so the percentiles are those
    /// of one thread. Past that, each sample gives a share of the slots in proportion to
    /// how many latencies it stands for: an estimate either way, marked as sampled.
    pub fn merge(&mut self, other: &Latencies) {
        let seen = self.seen.saturating_add(other.seen);
        self.max = self.max.max(other.max);
        if self.sample.len() + other.sample.len() <= SAMPLE_CAP {
            self.sample.extend_from_slice(&other.sample);
        } else {
            // Reservoir samples are in random order, so a prefix is a random subset.
            let share = |n: u64| {
                let slots = u128::from(n) * SAMPLE_CAP as u128 / u128::from(seen.max(1));
                usize::try_from(slots).unwrap_or(SAMPLE_CAP)
            };
            let theirs = share(other.seen).min(other.sample.len());
            let mine = (SAMPLE_CAP - theirs).min(self.sample.len());
            self.sample.truncate(mine);
            self.sample.extend_from_slice(&other.sample[..theirs]);
        }
        self.seen = seen;
    }

    /// How many latencies were added.
    pub fn count(&self) -> u64 {
        self.seen
    }

    /// The percentiles, or `None` when no latency was added.
    pub fn percentiles(&self) -> Option<Percentiles> {
        let mut sorted = self.sample.clone();
        sorted.sort_unstable();
        Some(Percentiles {
            p50: nearest_rank(&sorted, 50)?,
            p90: nearest_rank(&sorted, 90)?,
            p99: nearest_rank(&sorted, 99)?,
            max: self.max,
            sampled: self.seen > SAMPLE_CAP as u64,
        })
    }

    /// xorshift64: fast, and good enough to pick reservoir slots.
    fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

/// The nearest-rank `p`th percentile of `sorted`: the value at rank ⌈p/100 × n⌉ (1-based),
/// the smallest value that at least p% of the values do not exceed. `None` when empty.
pub fn nearest_rank(sorted: &[u64], p: usize) -> Option<u64> {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked examples of the nearest-rank method (Wikipedia, "Percentile").
    #[test]
    fn nearest_rank_examples() {
        let v = [15, 20, 35, 40, 50];
        assert_eq!(nearest_rank(&v, 5), Some(15));
        assert_eq!(nearest_rank(&v, 30), Some(20));
        assert_eq!(nearest_rank(&v, 40), Some(20));
        assert_eq!(nearest_rank(&v, 50), Some(35));
        assert_eq!(nearest_rank(&v, 100), Some(50));
        let v = [3, 6, 7, 8, 8, 10, 13, 15, 16, 20];
        assert_eq!(nearest_rank(&v, 25), Some(7));
        assert_eq!(nearest_rank(&v, 50), Some(8));
        assert_eq!(nearest_rank(&v, 75), Some(15));
        assert_eq!(nearest_rank(&[], 50), None);
    }

    #[test]
    fn exact_up_to_the_cap() {
        let mut l = Latencies::default();
        assert_eq!(l.percentiles(), None);
        // 1..=1000 in a scrambled order: p50 is 500, p90 900, p99 990.
        for i in 0..1000u64 {
            l.add((i * 7919) % 1000 + 1);
        }
        let p = l.percentiles().unwrap();
        assert_eq!((p.p50, p.p90, p.p99, p.max), (500, 900, 990, 1000));
        assert!(!p.sampled);
        assert_eq!(l.count(), 1000);
    }

    #[test]
    fn merged_halves_give_the_percentiles_of_the_whole() {
        let (mut whole, mut odd, mut even) = Default::default();
        for i in 0..1000u64 {
            let ns = (i * 7919) % 1000 + 1;
            Latencies::add(&mut whole, ns);
            Latencies::add(if ns % 2 == 1 { &mut odd } else { &mut even }, ns);
        }
        let (whole, mut odd): (Latencies, Latencies) = (whole, odd);
        odd.merge(&even);
        assert_eq!(odd.percentiles(), whole.percentiles());
        assert_eq!(odd.count(), 1000);
        assert!(!odd.percentiles().unwrap().sampled);
    }

    #[test]
    fn merged_past_the_cap_stays_bounded_and_close() {
        let (mut a, mut b) = (Latencies::default(), Latencies::default());
        let n = 100_000u64;
        for i in 0..n {
            let ns = (i * 7919) % n + 1;
            // Three quarters to one side, so the shares matter.
            if i % 4 == 0 { b.add(ns) } else { a.add(ns) }
        }
        a.merge(&b);
        assert_eq!(a.sample.len(), SAMPLE_CAP);
        assert_eq!(a.count(), n);
        let p = a.percentiles().unwrap();
        assert!(p.sampled);
        assert_eq!(p.max, n);
        assert!((45_000..=55_000).contains(&p.p50), "{p:?}");
        assert!((87_000..=93_000).contains(&p.p90), "{p:?}");
    }

    #[test]
    fn sampled_past_the_cap_stays_bounded_and_close() {
        let mut l = Latencies::default();
        let n = 100_000u64;
        for i in 0..n {
            l.add((i * 7919) % n + 1);
        }
        assert_eq!(l.sample.len(), SAMPLE_CAP);
        let p = l.percentiles().unwrap();
        assert!(p.sampled);
        assert_eq!(p.max, n);
        // A uniform sample of 1024 puts the median within a few percent of the truth.
        assert!((45_000..=55_000).contains(&p.p50), "{p:?}");
        assert!((87_000..=93_000).contains(&p.p90), "{p:?}");
        assert!(p.p99 >= 97_000, "{p:?}");
    }
}
