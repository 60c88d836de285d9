//! `--plot`: an SVG chart of latency by percentile, the HdrHistogram way: the x axis is
//! 1/(1-percentile) on a log scale, so 90%, 99%, 99.9%, 99.99% are evenly spaced and the tail,
//! which is what a server's users feel, gets as much room as the median.
//!
//! Drawn with `plotters` (SVG backend only, no font or bitmap dependencies).

use hdrhistogram::Histogram;
use plotters::prelude::*;
use std::io;
use std::path::Path;

/// One named latency curve (nanosecond histogram).
pub struct Curve<'a> {
    pub name: &'a str,
    pub hist: &'a Histogram<u64>,
}

/// Where the x axis ends: 99.9999%.
const X_MAX: f64 = 1e6;

fn points(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    h.iter_quantiles(5)
        .map(|s| {
            let x = (1.0 / (1.0 - s.quantile_iterated_to())).min(X_MAX);
            (x, s.value_iterated_to() as f64 / 1e6)
        })
        .collect()
}

/// "99.9%" for x = 1/(1-0.999) = 1000.
fn percentile_label(x: &f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    let digits = x.log10().round().max(2.0) as usize - 2;
    format!("{p:.digits$}%")
}

/// Writes the chart of `curves` to `path` (an .svg file) under `title`.
pub fn plot_percentiles(path: &Path, title: &str, curves: &[Curve<'_>]) -> io::Result<()> {
    let all: Vec<Vec<(f64, f64)>> = curves.iter().map(|c| points(c.hist)).collect();
    let y_max = all
        .iter()
        .flatten()
        .map(|p| p.1)
        .fold(0.0, f64::max)
        .max(0.001)
        * 1.1;
    let err =
        |e: &dyn std::fmt::Display| io::Error::other(format!("plotting {}: {e}", path.display()));

    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d((1.0..X_MAX).log_scale(), 0.0..y_max)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("Percentile")
        .y_desc("Latency (ms)")
        .x_label_formatter(&percentile_label)
        .draw()
        .map_err(|e| err(&e))?;
    let colors = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    for (i, (curve, pts)) in curves.iter().zip(all).enumerate() {
        let color = colors[i % colors.len()];
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(curve.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency;
    use std::time::Duration;

    #[test]
    fn labels_name_percentiles() {
        assert_eq!(percentile_label(&2.0), "50%");
        assert_eq!(percentile_label(&10.0), "90%");
        assert_eq!(percentile_label(&100.0), "99%");
        assert_eq!(percentile_label(&1000.0), "99.9%");
        assert_eq!(percentile_label(&10000.0), "99.99%");
    }

    #[test]
    fn writes_an_svg_with_every_curve() {
        let mut fast = latency::histogram();
        let mut slow = latency::histogram();
        for us in 1..=2000u64 {
            latency::record(&mut fast, Duration::from_micros(us));
            latency::record(&mut slow, Duration::from_micros(us * 3));
        }
        let path = std::env::temp_dir().join(format!("loadgen-plot-{}.svg", std::process::id()));
        let curves = [
            Curve {
                name: "fast-curve",
                hist: &fast,
            },
            Curve {
                name: "slow-curve",
                hist: &slow,
            },
        ];
        plot_percentiles(&path, "echo 64 B", &curves).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
        for text in [
            "fast-curve",
            "slow-curve",
            "echo 64 B",
            "Latency (ms)",
            "99.9%",
        ] {
            assert!(svg.contains(text), "missing {text}");
        }
        assert!(svg.matches("<polyline").count() >= 2);
    }

    #[test]
    fn empty_histogram_plots_an_empty_chart() {
        let h = latency::histogram();
        let path =
            std::env::temp_dir().join(format!("loadgen-plot-empty-{}.svg", std::process::id()));
        plot_percentiles(
            &path,
            "empty",
            &[Curve {
                name: "none",
                hist: &h,
            }],
        )
        .unwrap();
        std::fs::remove_file(&path).unwrap();
    }
}
