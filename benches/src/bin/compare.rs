//! The side-by-side echo comparison: uringo-server and the peer echo servers, one
//! at a time pinned to one CPU, driven by uringo-loadgen pinned to the other.
//!
//! Runs are interleaved (round 1: A B C D, round 2: A B C D, ...) so that drift in
//! the machine (other tenants, thermal state) hits every server alike, and each
//! figure printed is the median over the rounds. `saturate` is the closed-loop
//! throughput table; `rate` holds every server at the same open-loop rate and
//! compares what that load costs it in CPU and in tail latency.
//!
//! Build everything first (benches/compare.sh does it and then runs this).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};
use uringo_benches::charts;
use uringo_benches::loadgen::{LoadgenRun, Summary};
use uringo_benches::perf_split::Sampler;
use uringo_benches::procfs;
use uringo_benches::server::{
    default_bin_dir, enters_per_recv, out_dir, unix_time, ServerKind, ServerProcess,
};
use uringo_benches::stats::{fixed, median, ratio, thousands, Table};

#[derive(Debug, Parser)]
#[command(about = "Compare uringo-server with the tokio, monoio, glommio and compio echo servers")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Closed loop at saturation: messages/s, p99 and CPU per message for each size x conns.
    Saturate {
        /// Message sizes in bytes.
        #[arg(long, value_delimiter = ',', default_value = "64,1024")]
        sizes: Vec<u64>,
        /// Connection counts.
        #[arg(long, value_delimiter = ',', default_value = "16,128,512")]
        conns: Vec<u64>,
        /// Messages in flight per connection.
        #[arg(long, default_value_t = 1)]
        pipeline: u64,
    },
    /// Open loop at fixed rates: server CPU per message (user and kernel) and p99 at equal load.
    Rate {
        /// Messages per second across all connections; one table row group per rate.
        #[arg(long, value_delimiter = ',', default_value = "30000,60000,90000")]
        rates: Vec<u64>,
        /// Message size in bytes.
        #[arg(long, default_value_t = 64)]
        size: u64,
        /// Connections.
        #[arg(long, default_value_t = 128)]
        conns: u64,
    },
}

#[derive(Debug, Args)]
struct Common {
    /// Servers to compare, in the order they run within a round; ratios are to uringo.
    #[arg(
        long,
        global = true,
        value_delimiter = ',',
        default_value = "uringo,uringo-epoll,tokio,monoio,glommio,compio"
    )]
    servers: Vec<ServerKind>,
    /// Interleaved rounds; every figure is the median over them.
    #[arg(long, global = true, default_value_t = 5)]
    rounds: usize,
    /// Measured seconds per run.
    #[arg(long, global = true, default_value_t = 8.0)]
    duration: f64,
    /// Warmup seconds per run (not measured).
    #[arg(long, global = true, default_value_t = 2.0)]
    warmup: f64,
    /// CPU the server under test is pinned to.
    #[arg(long, global = true, default_value_t = 1)]
    server_cpu: usize,
    /// CPU loadgen is pinned to.
    #[arg(long, global = true, default_value_t = 0)]
    loadgen_cpu: usize,
    /// Directory holding uringo-server, uringo-loadgen and the echo-* peers
    /// [default: the directory of this program].
    #[arg(long, global = true)]
    bin_dir: Option<PathBuf>,
    /// Directory for loadgen JSON files, logs and the table [default: BIN_DIR/compare-runs/TIME].
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    /// How the server's CPU is split into user and kernel: `proc` takes /proc's tick-sampled
    /// split (250 Hz, 10 ms units: single runs at low rates are noisy), `perf` samples the
    /// server at 10 kHz with `perf record -e cpu-clock` (needs linux-perf; costs the server
    /// ~1-2 % CPU, all kernel). The total is /proc's either way.
    #[arg(long, global = true, value_enum, default_value_t = Split::Proc)]
    split: Split,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Split {
    Proc,
    Perf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Case {
    size: u64,
    conns: u64,
    /// Open loop: messages/s; closed loop: None.
    rate: Option<u64>,
}

/// One run of one server.
#[derive(Debug, Clone)]
struct Measurement {
    summary: Summary,
    server_cpu_us_per_msg: Option<f64>,
    /// The server's user-space and kernel CPU µs per message, apart (`--split`).
    server_user_us_per_msg: Option<f64>,
    server_kernel_us_per_msg: Option<f64>,
    loadgen_cpu_us_per_msg: Option<f64>,
    /// io_uring_enter calls per echoed receive, from uringo-server's stats lines (uringo only).
    enters_per_recv: Option<f64>,
}

struct Plan {
    cases: Vec<Case>,
    pipeline: u64,
    open_loop: bool,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("compare: {e}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> io::Result<()> {
    let c = &cli.common;
    if c.rounds == 0 || c.servers.is_empty() || c.duration <= 0.0 || c.warmup < 0.0 {
        return Err(io::Error::other(
            "need --rounds >= 1, at least one server, --duration > 0",
        ));
    }
    let plan = plan_of(&cli.mode);
    let bin_dir = c.bin_dir.clone().unwrap_or_else(default_bin_dir);
    let out = out_dir(
        c.out.as_deref(),
        &bin_dir,
        &format!("compare-runs/{}", unix_time()),
    )?;
    let loadgen = bin_dir.join("uringo-loadgen");
    if !loadgen.exists() {
        return Err(io::Error::other(format!(
            "{} not found (run benches/compare.sh)",
            loadgen.display()
        )));
    }

    let runs = c.rounds * plan.cases.len() * c.servers.len();
    let estimate = Duration::from_secs_f64(runs as f64 * (c.duration + c.warmup + 0.5));
    eprintln!(
        "{runs} runs of {}s + {}s warmup: about {} min. Logs and JSON in {}",
        c.duration,
        c.warmup,
        estimate.as_secs().div_ceil(60),
        out.display()
    );

    let started = Instant::now();
    let mut results: HashMap<(Case, ServerKind), Vec<Measurement>> = HashMap::new();
    let mut warned_pinning = Vec::new();
    for round in 1..=c.rounds {
        for &case in &plan.cases {
            for &kind in &c.servers {
                let label = format!(
                    "[round {round}/{}] {} B x {} conns{} {:<12}",
                    c.rounds,
                    case.size,
                    case.conns,
                    case.rate.map(|r| format!(" @ {r}/s")).unwrap_or_default(),
                    kind.name()
                );
                match measure(
                    c,
                    &plan,
                    case,
                    kind,
                    round,
                    &bin_dir,
                    &out,
                    &loadgen,
                    &mut warned_pinning,
                ) {
                    Ok(m) => {
                        eprintln!("{label} {}", progress(&m));
                        results.entry((case, kind)).or_default().push(m);
                    }
                    Err(e) => eprintln!("{label} FAILED: {e}"),
                }
            }
        }
    }

    report(c, &plan, &results, &out, started)
}

fn plan_of(mode: &Mode) -> Plan {
    match mode {
        Mode::Saturate {
            sizes,
            conns,
            pipeline,
        } => Plan {
            cases: sizes
                .iter()
                .flat_map(|&size| {
                    conns.iter().map(move |&conns| Case {
                        size,
                        conns,
                        rate: None,
                    })
                })
                .collect(),
            pipeline: *pipeline,
            open_loop: false,
        },
        Mode::Rate { rates, size, conns } => Plan {
            cases: rates
                .iter()
                .map(|&rate| Case {
                    size: *size,
                    conns: *conns,
                    rate: Some(rate),
                })
                .collect(),
            pipeline: 1,
            open_loop: true,
        },
    }
}

/// A finished run's figures, for its progress line.
fn progress(m: &Measurement) -> String {
    format!(
        "{:>11} msgs/s  p99 {:>8} us  server {} us/msg ({} user + {} kernel)  loadgen {} us/msg{}",
        thousands(m.summary.msgs_per_sec),
        fixed(Some(m.summary.p99_us), 1),
        fixed(m.server_cpu_us_per_msg, 2),
        fixed(m.server_user_us_per_msg, 2),
        fixed(m.server_kernel_us_per_msg, 2),
        fixed(m.loadgen_cpu_us_per_msg, 2),
        if m.summary.errors > 0 {
            format!("  ERRORS {}", m.summary.errors)
        } else {
            String::new()
        }
    )
}

/// Prints the table (and writes it with the chart) for the runs' medians.
fn report(
    c: &Common,
    plan: &Plan,
    results: &HashMap<(Case, ServerKind), Vec<Measurement>>,
    out: &std::path::Path,
    started: Instant,
) -> io::Result<()> {
    let (table, chart) = if plan.open_loop {
        let chart = out.join("rate.svg");
        charts::cpu_split(&chart, &cpu_bars(&plan.cases, &c.servers, results))?;
        (rate_table(&plan.cases, &c.servers, results), chart)
    } else {
        let chart = out.join("saturate.svg");
        charts::throughput(&chart, &throughput_bars(&plan.cases, &c.servers, results))?;
        (saturate_table(&plan.cases, &c.servers, results), chart)
    };
    let command: Vec<String> = std::env::args().collect();
    let mut text = format!(
        "`{}`: {} rounds x ({}s + {}s warmup), server on CPU {}, loadgen on CPU {}{}, median of rounds, user/kernel split {}, took {} s\n\n",
        command.join(" "),
        c.rounds,
        c.duration,
        c.warmup,
        c.server_cpu,
        c.loadgen_cpu,
        if plan.open_loop { ", open loop" } else { "" },
        match c.split {
            Split::Proc => "by /proc ticks",
            Split::Perf => "by perf cpu-clock samples at 10 kHz",
        },
        started.elapsed().as_secs()
    );
    text.push_str(&table.render());
    println!("{text}");
    println!("chart: {}", chart.display());
    std::fs::write(out.join("table.md"), &text)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn measure(
    c: &Common,
    plan: &Plan,
    case: Case,
    kind: ServerKind,
    round: usize,
    bin_dir: &Path,
    out: &Path,
    loadgen: &Path,
    warned_pinning: &mut Vec<ServerKind>,
) -> io::Result<Measurement> {
    let tag = format!(
        "{}-{}B-{}c{}-r{round}",
        kind.name(),
        case.size,
        case.conns,
        case.rate.map(|r| format!("-{r}ps")).unwrap_or_default()
    );
    let server = start_pinned(kind, bin_dir, c.server_cpu, out, warned_pinning)?;
    let run = LoadgenRun {
        addr: server.addr(),
        conns: case.conns,
        size: case.size,
        duration: Duration::from_secs_f64(c.duration),
        warmup: Duration::from_secs_f64(c.warmup),
        pipeline: plan.pipeline,
        rate: case.rate,
        cores: 1,
        json: out.join(format!("{tag}.json")),
        server_pid: server.pid(),
    };
    let perf_data = out.join(format!("{tag}.perf.data"));
    let (result, server_cpu) = server_cpu_split_over(c.split, server.pid(), &perf_data, || {
        run.run(loadgen, c.loadgen_cpu, &out.join("loadgen.log"))
    })?;
    let enters_per_recv = server.output().ok().as_deref().and_then(enters_per_recv);
    let status = server.stop(Duration::from_secs(5))?;
    if !status.success() {
        eprintln!("WARNING: {} exited with {status} on SIGTERM", kind.name());
    }
    let (summary, loadgen_cpu) = result?;
    Ok(measurement_of(
        summary,
        c.duration + c.warmup,
        server_cpu,
        loadgen_cpu,
        enters_per_recv,
    ))
}

/// Runs `f` and returns the user and kernel CPU `pid` used meanwhile: /proc's total, split
/// by /proc's ticks or by perf's samples (`split`; perf writes to `perf_data`, then removed).
fn server_cpu_split_over<T>(
    split: Split,
    pid: u32,
    perf_data: &Path,
    f: impl FnOnce() -> T,
) -> io::Result<(T, (Duration, Duration))> {
    let sampler = match split {
        Split::Perf => Some(Sampler::start(pid, perf_data)?),
        Split::Proc => None,
    };
    let before = procfs::cpu_split(pid)?;
    let result = f();
    let after = procfs::cpu_split(pid)?;
    let user = after.0.saturating_sub(before.0);
    let kernel = after.1.saturating_sub(before.1);
    let Some(sampler) = sampler else {
        return Ok((result, (user, kernel)));
    };
    let samples = sampler.finish()?;
    std::fs::remove_file(perf_data)?;
    let split = samples
        .split(user + kernel)
        .ok_or_else(|| io::Error::other("perf took no samples of the server"))?;
    Ok((result, split))
}

/// Starts `kind` on `cpu`, warning once per server kind when it re-pinned its threads.
fn start_pinned(
    kind: ServerKind,
    bin_dir: &Path,
    cpu: usize,
    out: &Path,
    warned_pinning: &mut Vec<ServerKind>,
) -> io::Result<ServerProcess> {
    let server = ServerProcess::start(
        kind,
        bin_dir,
        cpu,
        &out.join(format!("{}.log", kind.name())),
    )?;
    let stray = server.unpinned_threads(cpu)?;
    if !stray.is_empty() && !warned_pinning.contains(&kind) {
        warned_pinning.push(kind);
        eprintln!(
            "WARNING: {} has threads allowed on CPUs {stray:?}, not only CPU {cpu}: it re-pinned itself",
            kind.name()
        );
    }
    Ok(server)
}

/// Per-message figures from loadgen's summary, falling back to CPU over the whole run
/// (`run_secs`, warmup included) when loadgen does not report them.
fn measurement_of(
    summary: Summary,
    run_secs: f64,
    (server_user, server_kernel): (Duration, Duration),
    loadgen_cpu: Duration,
    enters_per_recv: Option<f64>,
) -> Measurement {
    let server_cpu = server_user + server_kernel;
    let run_msgs = summary.msgs_per_sec * run_secs;
    let per_msg = |cpu: Duration| (run_msgs > 0.0).then(|| cpu.as_secs_f64() * 1e6 / run_msgs);
    // The split covers loadgen's whole run (warmup included), like the fallback: a share of
    // the per-message total, not a second measurement of it.
    let share = |part: Duration| {
        let total = server_cpu.as_secs_f64();
        (total > 0.0).then(|| part.as_secs_f64() / total)
    };
    let total_us = summary
        .server_cpu_us_per_msg
        .or_else(|| per_msg(server_cpu));
    Measurement {
        server_user_us_per_msg: total_us.zip(share(server_user)).map(|(t, s)| t * s),
        server_kernel_us_per_msg: total_us.zip(share(server_kernel)).map(|(t, s)| t * s),
        server_cpu_us_per_msg: total_us,
        loadgen_cpu_us_per_msg: summary
            .loadgen_cpu_us_per_msg
            .or_else(|| per_msg(loadgen_cpu)),
        enters_per_recv,
        summary,
    }
}

fn med(ms: &[Measurement], f: impl Fn(&Measurement) -> Option<f64>) -> Option<f64> {
    median(&ms.iter().filter_map(f).collect::<Vec<_>>())
}

/// Half the min-max range of messages/s across rounds, relative to the median.
fn spread(ms: &[Measurement]) -> String {
    let v: Vec<f64> = ms.iter().map(|m| m.summary.msgs_per_sec).collect();
    let (lo, hi) = v
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    match median(&v) {
        Some(m) if m > 0.0 && v.len() > 1 => format!("±{:.0}%", (hi - lo) / 2.0 / m * 100.0),
        _ => "-".into(),
    }
}

fn errors(ms: &[Measurement]) -> String {
    ms.iter().map(|m| m.summary.errors).sum::<u64>().to_string()
}

fn saturate_table(
    cases: &[Case],
    servers: &[ServerKind],
    results: &HashMap<(Case, ServerKind), Vec<Measurement>>,
) -> Table {
    let mut t = Table::new([
        "size",
        "conns",
        "server",
        "msgs/s",
        "spread",
        "vs uringo",
        "p99 µs",
        "server CPU µs/msg",
        "user µs/msg",
        "kernel µs/msg",
        "loadgen CPU µs/msg",
        "enters/recv",
        "errors",
    ]);
    let empty = Vec::new();
    for &case in cases {
        let base = results
            .get(&(case, ServerKind::Uringo))
            .and_then(|ms| med(ms, |m| Some(m.summary.msgs_per_sec)));
        for &kind in servers {
            let ms = results.get(&(case, kind)).unwrap_or(&empty);
            let rate = med(ms, |m| Some(m.summary.msgs_per_sec));
            t.row([
                format!("{} B", case.size),
                case.conns.to_string(),
                kind.name().to_string(),
                rate.map(thousands).unwrap_or_else(|| "-".into()),
                spread(ms),
                ratio(rate, base),
                fixed(med(ms, |m| Some(m.summary.p99_us)), 1),
                fixed(med(ms, |m| m.server_cpu_us_per_msg), 2),
                fixed(med(ms, |m| m.server_user_us_per_msg), 2),
                fixed(med(ms, |m| m.server_kernel_us_per_msg), 2),
                fixed(med(ms, |m| m.loadgen_cpu_us_per_msg), 2),
                fixed(med(ms, |m| m.enters_per_recv), 3),
                errors(ms),
            ]);
        }
    }
    t
}

fn rate_table(
    cases: &[Case],
    servers: &[ServerKind],
    results: &HashMap<(Case, ServerKind), Vec<Measurement>>,
) -> Table {
    let mut t = Table::new([
        "rate",
        "server",
        "msgs/s",
        "p99 µs",
        "p99.9 µs",
        "server CPU µs/msg",
        "user µs/msg",
        "kernel µs/msg",
        "CPU vs uringo",
        "loadgen CPU µs/msg",
        "enters/recv",
        "errors",
    ]);
    let empty = Vec::new();
    for &case in cases {
        let base = results
            .get(&(case, ServerKind::Uringo))
            .and_then(|ms| med(ms, |m| m.server_cpu_us_per_msg));
        for &kind in servers {
            let ms = results.get(&(case, kind)).unwrap_or(&empty);
            let cpu = med(ms, |m| m.server_cpu_us_per_msg);
            t.row([
                case.rate.map(thousands_u).unwrap_or_default(),
                kind.name().to_string(),
                med(ms, |m| Some(m.summary.msgs_per_sec))
                    .map(thousands)
                    .unwrap_or_else(|| "-".into()),
                fixed(med(ms, |m| Some(m.summary.p99_us)), 1),
                fixed(med(ms, |m| m.summary.p999_us), 1),
                fixed(cpu, 2),
                fixed(med(ms, |m| m.server_user_us_per_msg), 2),
                fixed(med(ms, |m| m.server_kernel_us_per_msg), 2),
                ratio(cpu, base),
                fixed(med(ms, |m| m.loadgen_cpu_us_per_msg), 2),
                fixed(med(ms, |m| m.enters_per_recv), 3),
                errors(ms),
            ]);
        }
    }
    t
}

fn thousands_u(x: u64) -> String {
    thousands(x as f64)
}

/// Per rate and server: median user and kernel µs/msg, for the stacked-bar chart.
fn cpu_bars(
    cases: &[Case],
    servers: &[ServerKind],
    results: &HashMap<(Case, ServerKind), Vec<Measurement>>,
) -> Vec<charts::Group> {
    cases
        .iter()
        .map(|&case| charts::Group {
            label: format!("{} msg/s", case.rate.map(thousands_u).unwrap_or_default()),
            bars: servers
                .iter()
                .filter_map(|&kind| {
                    let ms = results.get(&(case, kind))?;
                    Some(charts::Bar {
                        server: kind.name(),
                        parts: vec![
                            med(ms, |m| m.server_user_us_per_msg).unwrap_or(0.0),
                            med(ms, |m| m.server_kernel_us_per_msg).unwrap_or(0.0),
                        ],
                        spread: None,
                    })
                })
                .collect(),
        })
        .collect()
}

/// Per size x conns and server: median msgs/s with the min-max range over rounds.
fn throughput_bars(
    cases: &[Case],
    servers: &[ServerKind],
    results: &HashMap<(Case, ServerKind), Vec<Measurement>>,
) -> Vec<charts::Group> {
    cases
        .iter()
        .map(|&case| charts::Group {
            label: format!("{} B x {}", case.size, case.conns),
            bars: servers
                .iter()
                .filter_map(|&kind| {
                    let ms = results.get(&(case, kind))?;
                    let v: Vec<f64> = ms.iter().map(|m| m.summary.msgs_per_sec).collect();
                    let lo = v.iter().copied().fold(f64::MAX, f64::min);
                    let hi = v.iter().copied().fold(f64::MIN, f64::max);
                    Some(charts::Bar {
                        server: kind.name(),
                        parts: vec![median(&v)?],
                        spread: Some((lo, hi)),
                    })
                })
                .collect(),
        })
        .collect()
}
