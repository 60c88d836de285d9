//! Latency histograms (hdrhistogram, nanoseconds) and the percentiles loadgen reports.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Highest latency a histogram records exactly; longer ones are clamped (and still counted).
const MAX_NANOS: u64 = 3_600_000_000_000;

/// Significant decimal digits kept per value.
pub const SIGFIG: u8 = 3;

/// An empty latency histogram, in nanoseconds, 1 ns .. 1 h at 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_NANOS, SIGFIG).expect("static histogram bounds are valid")
}

/// Significant digits of the per-second progress histograms: recorded into for every message
/// beside the run's own, and read only for the progress line's p99. At 2 digits (1 %) their
/// counts take an eighth of the memory (256 sub-buckets per octave, not 2048), so the record
/// stays in cache.
const PROGRESS_SIGFIG: u8 = 2;

/// An empty per-second progress histogram (same range, `PROGRESS_SIGFIG` digits).
pub fn progress_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_NANOS, PROGRESS_SIGFIG)
        .expect("static histogram bounds are valid")
}

/// Records one latency.
pub fn record(h: &mut Histogram<u64>, latency: Duration) {
    record_nanos(h, u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
}

/// Records one latency given in nanoseconds.
pub fn record_nanos(h: &mut Histogram<u64>, nanos: u64) {
    h.saturating_record(nanos.clamp(1, MAX_NANOS));
}

/// Adds `from` into `into`; both come from [`histogram`] or [`progress_histogram`], so the
/// bounds always match (a 3-digit histogram added to a 2-digit one is recorded at 2 digits).
pub fn merge(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    into.add(from)
        .expect("histograms with equal bounds always merge");
}

/// What `hist` gained since `seen`, its copy at the previous look, which then becomes a copy of
/// `hist` (a progress line's share of a run's histogram, so each latency is recorded once).
pub fn gained_since(hist: &Histogram<u64>, seen: &mut Histogram<u64>) -> Histogram<u64> {
    let mut gained = hist.clone();
    gained
        .subtract(&*seen)
        .expect("a histogram only grows, so its earlier copy subtracts");
    seen.clone_from(hist);
    gained
}

/// The summary percentiles, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Self {
        let us = |nanos: u64| nanos as f64 / 1e3;
        if h.is_empty() {
            return Percentiles {
                count: 0,
                mean_us: 0.0,
                p50_us: 0.0,
                p90_us: 0.0,
                p99_us: 0.0,
                p999_us: 0.0,
                max_us: 0.0,
            };
        }
        Percentiles {
            count: h.len(),
            mean_us: h.mean() / 1e3,
            p50_us: us(h.value_at_quantile(0.50)),
            p90_us: us(h.value_at_quantile(0.90)),
            p99_us: us(h.value_at_quantile(0.99)),
            p999_us: us(h.value_at_quantile(0.999)),
            max_us: us(h.max()),
        }
    }
}

/// Formats microseconds with a unit people read at a glance: 850us, 1.25ms, 2.10s.
pub fn human_us(us: f64) -> String {
    if us < 1_000.0 {
        format!("{us:.0}us")
    } else if us < 1_000_000.0 {
        format!("{:.2}ms", us / 1e3)
    } else {
        format!("{:.2}s", us / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_uniform_latencies() {
        let mut h = histogram();
        for us in 1..=1000u64 {
            record(&mut h, Duration::from_micros(us));
        }
        let p = Percentiles::of(&h);
        assert_eq!(p.count, 1000);
        let close = |got: f64, want: f64| (got - want).abs() / want < 0.002;
        assert!(close(p.p50_us, 500.0), "{p:?}");
        assert!(close(p.p90_us, 900.0), "{p:?}");
        assert!(close(p.p99_us, 990.0), "{p:?}");
        assert!(close(p.p999_us, 999.0), "{p:?}");
        assert!(close(p.max_us, 1000.0), "{p:?}");
    }

    #[test]
    fn merged_histograms_count_everything() {
        let (mut a, mut b) = (histogram(), histogram());
        record(&mut a, Duration::from_millis(1));
        record(&mut b, Duration::from_millis(9));
        record(&mut b, Duration::from_millis(9));
        merge(&mut a, &b);
        let p = Percentiles::of(&a);
        assert_eq!(p.count, 3);
        assert!((p.max_us - 9000.0).abs() < 10.0);
    }

    #[test]
    fn precise_histograms_merge_into_progress_ones() {
        let mut fine = histogram();
        record(&mut fine, Duration::from_micros(1234));
        record(&mut fine, Duration::from_secs(3000));
        let mut progress = progress_histogram();
        merge(&mut progress, &fine);
        assert_eq!(progress.len(), 2);
        assert!(progress.equivalent(progress.max(), 3_000_000_000_000));
    }

    #[test]
    fn extreme_values_are_clamped_not_lost() {
        let mut h = histogram();
        record(&mut h, Duration::ZERO);
        record(&mut h, Duration::from_secs(10_000));
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        assert_eq!(Percentiles::of(&histogram()).count, 0);
        assert_eq!(Percentiles::of(&histogram()).max_us, 0.0);
    }

    #[test]
    fn human_units() {
        assert_eq!(human_us(850.2), "850us");
        assert_eq!(human_us(1250.0), "1.25ms");
        assert_eq!(human_us(2_100_000.0), "2.10s");
    }
}
