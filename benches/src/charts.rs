//! SVG bar charts beside the comparison tables, drawn with `plotters` (the crate loadgen's
//! `--plot` uses, SVG backend only): groups (one per table cell: a size x conns, or a rate)
//! of bars (one per server). A bar is one value with an optional min-max whisker (throughput
//! over rounds), or stacked parts (user then kernel CPU per message, the kernel part lighter).

use plotters::prelude::*;
use std::io;
use std::path::Path;

pub struct Bar {
    pub server: &'static str,
    /// Stacked from the bottom.
    pub parts: Vec<f64>,
    /// Min and max over rounds, drawn as a whisker.
    pub spread: Option<(f64, f64)>,
}

pub struct Group {
    pub label: String,
    pub bars: Vec<Bar>,
}

const PALETTE: [RGBColor; 7] = [
    RGBColor(31, 119, 180),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
];

/// Closed-loop throughput per server and cell, with the spread over rounds.
pub fn throughput(path: &Path, groups: &[Group]) -> io::Result<()> {
    draw(
        path,
        "Echo throughput, closed loop (median of rounds; whisker: min-max)",
        "messages/s",
        groups,
    )
}

/// Server CPU per message at fixed rates, user (solid) and kernel (light) stacked.
pub fn cpu_split(path: &Path, groups: &[Group]) -> io::Result<()> {
    draw(
        path,
        "Server CPU per message at a fixed rate (solid: user, light: kernel)",
        "CPU µs per message",
        groups,
    )
}

/// The y axis's top: the tallest stack or whisker, with room for the legend.
fn y_top(groups: &[Group]) -> f64 {
    groups
        .iter()
        .flat_map(|g| &g.bars)
        .map(|b| {
            let stacked: f64 = b.parts.iter().sum();
            b.spread.map_or(stacked, |(_, hi)| hi.max(stacked))
        })
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.15
}

/// Every server that has a bar, in the order they first appear.
fn servers_of(groups: &[Group]) -> Vec<&'static str> {
    let mut v: Vec<&str> = Vec::new();
    for b in groups.iter().flat_map(|g| &g.bars) {
        if !v.contains(&b.server) {
            v.push(b.server);
        }
    }
    v
}

fn draw(path: &Path, title: &str, y_desc: &str, groups: &[Group]) -> io::Result<()> {
    let err =
        |e: &dyn std::fmt::Display| io::Error::other(format!("chart {}: {e}", path.display()));
    let top = y_top(groups);
    let servers = servers_of(groups);
    let root = SVGBackend::new(path, (1100, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let n = groups.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..n as f64, 0.0..top)
        .map_err(|e| err(&e))?;
    let labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            // Group i spans [i, i + 1); label its middle only.
            let i = x.floor() as usize;
            if (x - i as f64 - 0.5).abs() < 1e-6 {
                labels.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(y_desc)
        .draw()
        .map_err(|e| err(&e))?;
    let width = 0.8 / servers.len().max(1) as f64;
    for (s, server) in servers.iter().enumerate() {
        let color = PALETTE[s % PALETTE.len()];
        let mut rects = Vec::new();
        let mut whiskers = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            let Some(bar) = group.bars.iter().find(|b| b.server == *server) else {
                continue;
            };
            let x0 = g as f64 + 0.1 + s as f64 * width;
            let mut y = 0.0;
            for (p, v) in bar.parts.iter().enumerate() {
                let shade = if p == 0 {
                    color.filled()
                } else {
                    color.mix(0.4).filled()
                };
                rects.push(Rectangle::new([(x0, y), (x0 + width * 0.9, y + v)], shade));
                y += v;
            }
            if let Some((lo, hi)) = bar.spread {
                let mid = x0 + width * 0.45;
                whiskers.push(PathElement::new(
                    vec![(mid, lo), (mid, hi)],
                    BLACK.stroke_width(1),
                ));
            }
        }
        chart
            .draw_series(rects)
            .map_err(|e| err(&e))?
            .label(*server)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
        chart.draw_series(whiskers).map_err(|e| err(&e))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_charts_name_every_server_and_cell() {
        let groups = vec![
            Group {
                label: "64 B x 16".into(),
                bars: vec![
                    Bar {
                        server: "uringo",
                        parts: vec![1.0, 2.0],
                        spread: Some((2.5, 3.5)),
                    },
                    Bar {
                        server: "tokio",
                        parts: vec![1.5, 2.5],
                        spread: None,
                    },
                ],
            },
            Group {
                label: "1024 B x 512".into(),
                bars: vec![Bar {
                    server: "uringo",
                    parts: vec![4.0],
                    spread: None,
                }],
            },
        ];
        let dir = std::env::temp_dir();
        for (name, f) in [
            ("t", throughput as fn(&Path, &[Group]) -> io::Result<()>),
            ("c", cpu_split),
        ] {
            let path = dir.join(format!("bench-chart-{}-{name}.svg", std::process::id()));
            f(&path, &groups).unwrap();
            let svg = std::fs::read_to_string(&path).unwrap();
            for want in ["uringo", "tokio", "64 B x 16", "1024 B x 512", "<rect"] {
                assert!(svg.contains(want), "{name}: no {want:?}");
            }
            std::fs::remove_file(path).unwrap();
        }
    }
}
