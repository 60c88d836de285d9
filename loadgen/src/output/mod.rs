//! Run results for machines (`--json`) and people (`--hgrm` percentile file, `--plot` SVG chart).

mod hgrm;
mod plot;

pub use hgrm::write_hgrm;
pub use plot::{plot_percentiles, Curve};

use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;

/// Whether `--json` names stdout (`-`); the human-readable output then goes to stderr.
pub fn is_stdout(json: Option<&Path>) -> bool {
    json == Some(Path::new("-"))
}

/// Writes `value` as pretty JSON to `path` (`-` for stdout).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    if is_stdout(Some(path)) {
        let mut out = io::stdout().lock();
        writeln!(out, "{text}")
    } else {
        std::fs::write(path, text + "\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_file_round_trips() {
        #[derive(Serialize)]
        struct R {
            messages: u64,
            p99_us: f64,
        }
        let path = std::env::temp_dir().join(format!("loadgen-json-{}.json", std::process::id()));
        write_json(
            &path,
            &R {
                messages: 7,
                p99_us: 1.5,
            },
        )
        .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(v["messages"], 7);
        assert_eq!(v["p99_us"], 1.5);
    }
}
