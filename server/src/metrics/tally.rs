//! Counters that one core writes and a scrape on any thread reads, without
//! a lock and without a locked instruction on the writer's side.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// A value written by one core only (a plain load and store) and read by
/// the scraper. Two cores must never write the same `Tally`: give each
/// core its own, in a [`PerCore`] slot.
#[derive(Debug, Default)]
pub struct Tally(AtomicU64);

impl Tally {
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }

    pub fn set(&self, v: u64) {
        self.0.store(v, Relaxed);
    }

    pub fn add(&self, n: u64) {
        self.set(self.get().wrapping_add(n));
    }

    pub fn sub(&self, n: u64) {
        self.set(self.get().saturating_sub(n));
    }
}

/// One core's slot, on cache lines of its own so that cores writing their
/// slots never contend (128 bytes: adjacent-line prefetch pairs lines).
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct PerCore<T>(pub T);

impl<T> std::ops::Deref for PerCore<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Upper bounds of the time histograms' buckets, in seconds.
pub const BOUNDS: [f64; 16] = [
    1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1,
];

/// One core's share of a time histogram (fixed buckets, no allocation).
#[derive(Debug, Default)]
pub struct Histogram {
    /// Per bucket of [`BOUNDS`], then one for everything above the last.
    buckets: [Tally; BOUNDS.len() + 1],
    sum_ns: Tally,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = BOUNDS.partition_point(|&b| b < secs);
        self.buckets[i].add(1);
        self.sum_ns.add(d.as_nanos() as u64);
    }
}

/// Several cores' histograms summed: (sum in seconds, count, per-bucket
/// counts with the `+Inf` bucket last; prometheus-client's encoder makes
/// them cumulative).
pub fn merge<'a>(parts: impl Iterator<Item = &'a Histogram>) -> (f64, u64, Vec<(f64, u64)>) {
    let mut counts = [0u64; BOUNDS.len() + 1];
    let mut sum_ns = 0u64;
    for h in parts {
        for (c, b) in counts.iter_mut().zip(&h.buckets) {
            *c += b.get();
        }
        sum_ns += h.sum_ns.get();
    }
    let bounds = BOUNDS.iter().copied().chain([f64::INFINITY]);
    let buckets: Vec<(f64, u64)> = bounds.zip(counts).collect();
    (sum_ns as f64 / 1e9, counts.iter().sum(), buckets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_merge_bucket_by_bucket() {
        let (a, b) = (Histogram::default(), Histogram::default());
        a.observe(Duration::from_nanos(500));
        a.observe(Duration::from_micros(3));
        b.observe(Duration::from_secs(1));
        let (sum, count, buckets) = merge([&a, &b].into_iter());
        assert_eq!(count, 3);
        assert!((sum - 1.0000035).abs() < 1e-9);
        assert_eq!(buckets[0], (1e-6, 1));
        assert_eq!(buckets[2], (5e-6, 1));
        assert_eq!(buckets.iter().map(|b| b.1).sum::<u64>(), 3);
        assert_eq!(
            *buckets.last().unwrap(),
            (f64::INFINITY, 1),
            "1 s is past the last bound"
        );
    }

    #[test]
    fn slots_do_not_share_cache_lines() {
        assert_eq!(std::mem::align_of::<PerCore<Tally>>(), 128);
        let t = Tally::default();
        t.add(5);
        t.sub(7);
        assert_eq!(t.get(), 0, "a gauge never wraps below zero");
    }
}
