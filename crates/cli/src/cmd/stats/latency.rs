//! Latency percentiles in bounded memory: a capped sample, exact while it holds every value.
//!
//! A host keeps at most [`SAMPLE_CAP`] latencies. Up to that many, the percentiles are
//! exact; past it the sample is a uniform random one of everything seen, so percentiles are
//! estimates and say so. The sample is a bottom-k one: each latency comes with a key that
//! names its transaction (its times), the key is hashed, and the latencies with the
//! smallest hashes are kept. Which ones those are does not depend on the order they came
//! in, so a file gives the same figures on every run, and the samples of several workers
//! (`--threads`) merge into the very sample of one thread. The maximum and the count are
//! tracked apart from the sample, and are always exact.

use std::collections::BinaryHeap;

/// Most latencies kept per host: 16 KiB each (a latency and its hash).
pub const SAMPLE_CAP: usize = 1024;

/// The latencies of one host, in nanoseconds.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    /// (hash of the key, latency), the largest hash on top, to be replaced first.
    sample: BinaryHeap<(u64, u64)>,
    seen: u64,
    max: u64,
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
    /// Adds one latency, of the transaction named by `key` (the same on every run and in
    /// every worker; two with one key count as one sample slot's candidates alike).
    pub fn add(&mut self, key: u64, ns: u64) {
        self.seen = self.seen.saturating_add(1);
        self.max = self.max.max(ns);
        self.keep((mix(key), ns));
    }

    /// Keeps `entry` if its hash is among the [`SAMPLE_CAP`] smallest.
    fn keep(&mut self, entry: (u64, u64)) {
        if self.sample.len() < SAMPLE_CAP {
            self.sample.push(entry);
        } else if self.sample.peek().is_some_and(|top| entry < *top) {
            self.sample.pop();
            self.sample.push(entry);
        }
    }

    /// Adds the latencies of `other` (another worker's, for `--threads`): the smallest
    /// hashes of both are the smallest of all, so the sample, and the percentiles, are
    /// those of one thread, sampled or not.
    pub fn merge(&mut self, other: &Latencies) {
        self.seen = self.seen.saturating_add(other.seen);
        self.max = self.max.max(other.max);
        for entry in other.sample.iter() {
            self.keep(*entry);
        }
    }

    /// How many latencies were added.
    pub fn count(&self) -> u64 {
        self.seen
    }

    /// The percentiles, or `None` when no latency was added.
    pub fn percentiles(&self) -> Option<Percentiles> {
        let mut sorted: Vec<u64> = self.sample.iter().map(|(_, ns)| *ns).collect();
        sorted.sort_unstable();
        Some(Percentiles {
            p50: nearest_rank(&sorted, 50)?,
            p90: nearest_rank(&sorted, 90)?,
            p99: nearest_rank(&sorted, 99)?,
            max: self.max,
            sampled: self.seen > SAMPLE_CAP as u64,
        })
    }
}

/// splitmix64's finaliser: spreads keys that differ in a few bits (nearby times) over the
/// whole range, so the smallest hashes are a uniform pick.
fn mix(key: u64) -> u64 {
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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
            l.add(i, (i * 7919) % 1000 + 1);
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
            Latencies::add(&mut whole, i, ns);
            Latencies::add(if ns % 2 == 1 { &mut odd } else { &mut even }, i, ns);
        }
        let (whole, mut odd): (Latencies, Latencies) = (whole, odd);
        odd.merge(&even);
        assert_eq!(odd.percentiles(), whole.percentiles());
        assert_eq!(odd.count(), 1000);
        assert!(!odd.percentiles().unwrap().sampled);
    }

    #[test]
    fn merged_past_the_cap_is_the_sample_of_one_pass() {
        let (mut whole, mut a, mut b) = (
            Latencies::default(),
            Latencies::default(),
            Latencies::default(),
        );
        let n = 100_000u64;
        for i in 0..n {
            let ns = (i * 7919) % n + 1;
            whole.add(i, ns);
            // A quarter to one side, the rest to the other, in a different order.
            if i % 4 == 0 {
                b.add(i, ns);
            } else {
                a.add(i, ns);
            }
        }
        b.merge(&a);
        assert_eq!(b.sample.len(), SAMPLE_CAP);
        assert_eq!(b.count(), n);
        assert!(b.percentiles().unwrap().sampled);
        assert_eq!(b.percentiles(), whole.percentiles());
    }

    #[test]
    fn sampled_past_the_cap_stays_bounded_and_close() {
        let mut l = Latencies::default();
        let n = 100_000u64;
        for i in 0..n {
            l.add(i, (i * 7919) % n + 1);
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
