//! The HdrHistogram percentile distribution text format (`.hgrm`), as HdrHistogram's
//! `outputPercentileDistribution` writes it, so HdrHistogram's plotter and other tools read it.
//! Values are in milliseconds.

use hdrhistogram::Histogram;
use std::io::{self, Write};

const NANOS_PER_MS: f64 = 1e6;

/// Writes the distribution of `h` (nanoseconds) with `ticks` reporting steps per half-distance
/// to 100% (HdrHistogram's default is 5).
pub fn write_hgrm<W: Write>(mut out: W, h: &Histogram<u64>, ticks: u32) -> io::Result<()> {
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let ms = |v: u64| v as f64 / NANOS_PER_MS;
    let mut total = 0u64;
    if !h.is_empty() {
        for step in h.iter_quantiles(ticks) {
            let q = step.quantile_iterated_to();
            let value = ms(step.value_iterated_to());
            total += step.count_since_last_iteration();
            if q < 1.0 {
                writeln!(
                    out,
                    "{value:>12.3} {q:>2.12} {total:>10} {:>14.2}",
                    1.0 / (1.0 - q)
                )?;
            } else {
                writeln!(out, "{value:>12.3} {q:>2.12} {total:>10}")?;
            }
        }
    }
    let (mean, stdev, max) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (
            h.mean() / NANOS_PER_MS,
            h.stdev() / NANOS_PER_MS,
            ms(h.max()),
        )
    };
    writeln!(
        out,
        "#[Mean    = {mean:>12.3}, StdDeviation   = {stdev:>12.3}]"
    )?;
    writeln!(
        out,
        "#[Max     = {max:>12.3}, Total count    = {:>12}]",
        h.len()
    )?;
    let sub_buckets = (2 * 10u64.pow(u32::from(h.sigfig()))).next_power_of_two();
    writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {sub_buckets:>12}]",
        h.buckets()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency;
    use std::time::Duration;

    fn render(h: &Histogram<u64>) -> String {
        let mut out = Vec::new();
        write_hgrm(&mut out, h, 5).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn distribution_rows_are_monotonic_and_end_at_100_percent() {
        let mut h = latency::histogram();
        for us in 1..=10_000u64 {
            latency::record(&mut h, Duration::from_micros(us));
        }
        let text = render(&h);
        let rows: Vec<Vec<f64>> = text
            .lines()
            .skip(2)
            .take_while(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().map(|f| f.parse().unwrap()).collect())
            .collect();
        assert!(rows.len() > 20, "{text}");
        for w in rows.windows(2) {
            assert!(
                w[1][0] >= w[0][0] && w[1][1] >= w[0][1] && w[1][2] >= w[0][2],
                "{w:?}"
            );
        }
        let last = rows.last().unwrap();
        assert_eq!(last[1], 1.0);
        assert_eq!(last[2], 10_000.0);
        assert!((last[0] - 10.0).abs() < 0.01, "max is 10 ms: {last:?}");
        assert!(text.contains("Total count    =        10000]"), "{text}");
        assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"));
    }

    #[test]
    fn empty_histogram_still_has_header_and_footer() {
        let text = render(&latency::histogram());
        assert!(text.contains("Value"));
        assert!(text.contains("#[Max     =        0.000, Total count    =            0]"));
        assert!(text.contains("SubBuckets     =         2048]"));
    }
}
