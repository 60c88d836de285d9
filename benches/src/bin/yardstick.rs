//! uringo-loadgen against the yardstick: the minimal io_uring client (`echo-raw-client`) and
//! `uringo-loadgen echo --cores 1` drive the same uringo-server, one after the other, in
//! interleaved rounds (the order alternates each round), server pinned to one CPU and the
//! client to the other. Prints, per size × connections, the medians of both clients'
//! messages/s and client CPU µs per message, and the median of the per-round ratios.
//!
//! Build first: `cargo build --release -p uringo-server -p uringo-loadgen -p uringo-benches`.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::Parser;
use uringo_benches::loadgen::LoadgenRun;
use uringo_benches::server::{default_bin_dir, out_dir, ServerKind, ServerProcess};
use uringo_benches::stats::{fixed, median, thousands, Table};

#[derive(Debug, Parser)]
#[command(about = "uringo-loadgen vs the minimal io_uring echo client, same server")]
struct Cli {
    #[arg(long, value_delimiter = ',', default_value = "64,1024,4096")]
    sizes: Vec<u64>,
    #[arg(long, value_delimiter = ',', default_value = "16,128,512")]
    conns: Vec<u64>,
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 4.0)]
    duration: f64,
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    #[arg(long, default_value_t = 1)]
    server_cpu: usize,
    #[arg(long, default_value_t = 0)]
    client_cpu: usize,
    /// Directory of uringo-server, uringo-loadgen, echo-raw-client [default: this program's].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Where logs and loadgen JSON go [default: BIN_DIR/yardstick-runs].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// One client's result in one run.
#[derive(Debug, Clone, Copy)]
struct Run {
    msgs_per_s: f64,
    cpu_us_per_msg: f64,
    errors: u64,
}

#[derive(Debug, Default)]
struct Pair {
    raw: Vec<Run>,
    loadgen: Vec<Run>,
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("yardstick: {e}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> io::Result<()> {
    let bin_dir = cli.bin_dir.clone().unwrap_or_else(default_bin_dir);
    let out = out_dir(cli.out.as_deref(), &bin_dir, "yardstick-runs")?;
    let cases: Vec<(u64, u64)> = cli
        .sizes
        .iter()
        .flat_map(|&s| cli.conns.iter().map(move |&c| (s, c)))
        .collect();
    let mut results: HashMap<(u64, u64), Pair> = HashMap::new();
    for round in 1..=cli.rounds {
        for &(size, conns) in &cases {
            let server = ServerProcess::start(
                ServerKind::Uringo,
                &bin_dir,
                cli.server_cpu,
                &out.join("server.log"),
            )?;
            let pair = results.entry((size, conns)).or_default();
            let raw_first = round % 2 == 1;
            for raw_turn in [raw_first, !raw_first] {
                let r = if raw_turn {
                    raw_client(&cli, &bin_dir, &server, size, conns)?
                } else {
                    loadgen(&cli, &bin_dir, &out, &server, size, conns, round)?
                };
                eprintln!(
                    "[round {round}/{}] {size} B x {conns:>3} {:<8} {:>10} msg/s  {:.3} us/msg{}",
                    cli.rounds,
                    if raw_turn { "raw" } else { "loadgen" },
                    thousands(r.msgs_per_s),
                    r.cpu_us_per_msg,
                    if r.errors > 0 {
                        format!("  ERRORS {}", r.errors)
                    } else {
                        String::new()
                    }
                );
                if raw_turn {
                    pair.raw.push(r);
                } else {
                    pair.loadgen.push(r);
                }
            }
            server.stop(Duration::from_secs(5))?;
        }
    }
    let command: Vec<String> = std::env::args().collect();
    println!(
        "`{}`: {} rounds x ({}s + {}s warmup), server on CPU {}, client on CPU {}, medians\n",
        command.join(" "),
        cli.rounds,
        cli.duration,
        cli.warmup,
        cli.server_cpu,
        cli.client_cpu
    );
    println!("{}", table(&cases, &results).render());
    Ok(())
}

fn table(cases: &[(u64, u64)], results: &HashMap<(u64, u64), Pair>) -> Table {
    let mut t = Table::new([
        "size",
        "conns",
        "raw msgs/s",
        "loadgen msgs/s",
        "loadgen/raw",
        "raw CPU µs/msg",
        "loadgen CPU µs/msg",
        "CPU loadgen/raw",
        "loadgen errors",
    ]);
    for case in cases {
        let Some(p) = results.get(case) else { continue };
        let med =
            |runs: &[Run], f: fn(&Run) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
        // Ratios per round (the two runs of a round share the machine's state), then the median.
        let per_round = |f: fn(&Run) -> f64| {
            let v: Vec<f64> = p
                .loadgen
                .iter()
                .zip(&p.raw)
                .filter(|(_, r)| f(r) > 0.0)
                .map(|(l, r)| f(l) / f(r))
                .collect();
            fixed(median(&v), 2)
        };
        t.row([
            format!("{} B", case.0),
            case.1.to_string(),
            med(&p.raw, |r| r.msgs_per_s).map_or("-".into(), thousands),
            med(&p.loadgen, |r| r.msgs_per_s).map_or("-".into(), thousands),
            per_round(|r| r.msgs_per_s),
            fixed(med(&p.raw, |r| r.cpu_us_per_msg), 3),
            fixed(med(&p.loadgen, |r| r.cpu_us_per_msg), 3),
            per_round(|r| r.cpu_us_per_msg),
            p.loadgen.iter().map(|r| r.errors).sum::<u64>().to_string(),
        ]);
    }
    t
}

fn raw_client(
    cli: &Cli,
    bin_dir: &Path,
    server: &ServerProcess,
    size: u64,
    conns: u64,
) -> io::Result<Run> {
    let out = Command::new("taskset")
        .arg("-c")
        .arg(cli.client_cpu.to_string())
        .arg(bin_dir.join("echo-raw-client"))
        .args(["--addr", &server.addr().to_string()])
        .args(["--size", &size.to_string(), "--conns", &conns.to_string()])
        .args(["--duration", &cli.duration.to_string()])
        .args(["--warmup", &cli.warmup.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "echo-raw-client failed: {}",
            out.status
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let num = |k: &str| v[k].as_f64().unwrap_or(0.0);
    Ok(Run {
        msgs_per_s: num("msgs_per_s"),
        cpu_us_per_msg: num("cpu_us_per_msg"),
        errors: num("errors") as u64,
    })
}

fn loadgen(
    cli: &Cli,
    bin_dir: &Path,
    out: &Path,
    server: &ServerProcess,
    size: u64,
    conns: u64,
    round: usize,
) -> io::Result<Run> {
    let run = LoadgenRun {
        addr: server.addr(),
        conns,
        size,
        duration: Duration::from_secs_f64(cli.duration),
        warmup: Duration::from_secs_f64(cli.warmup),
        pipeline: 1,
        rate: None,
        cores: 1,
        json: out.join(format!("loadgen-{size}B-{conns}c-r{round}.json")),
        server_pid: server.pid(),
    };
    let (s, _) = run.run(
        &bin_dir.join("uringo-loadgen"),
        cli.client_cpu,
        &out.join("loadgen.log"),
    )?;
    Ok(Run {
        msgs_per_s: s.msgs_per_sec,
        cpu_us_per_msg: s.loadgen_cpu_us_per_msg.unwrap_or(f64::NAN),
        errors: s.errors,
    })
}
