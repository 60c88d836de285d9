//! Running an echo load: set up the cores, sample CPU around the measured window, merge.

use super::state::{CoreResult, CoreState, Lateness, RingCounts};
use super::summary::{CpuReport, EchoSummary, ScheduleReport};
use super::timeline::Timeline;
use super::{closed, conn};
use crate::cli::EchoArgs;
use crate::cpu;
use crate::errors::Errors;
use crate::latency::{self, human_us, Percentiles};
use crate::live::Live;
use crate::output;
use crate::schedule::{self, conns_of_core};
use crate::ticker::{self, Tick};
use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Everything a run produced: the summary plus the merged histograms behind it.
pub struct EchoRun {
    pub summary: EchoSummary,
    pub hist: hdrhistogram::Histogram<u64>,
    pub service: Option<hdrhistogram::Histogram<u64>>,
}

fn format_tick(t: &Tick) -> String {
    let secs = t.span.as_secs_f64().max(1e-9);
    let p99 = if t.hist.is_empty() {
        0.0
    } else {
        t.hist.value_at_quantile(0.99) as f64 / 1e3
    };
    format!(
        "[{:>4}s] {:>10.0} msg/s {:>9.2} MB/s  p99 {:>8}  errors {}{}",
        t.second,
        t.done as f64 / secs,
        t.bytes as f64 / secs / 1e6,
        human_us(p99),
        t.errors,
        if t.warmup { "  (warmup)" } else { "" }
    )
}

/// CPU time of loadgen and (optionally) the server across the measured window, sampled by a
/// plain thread that sleeps until the window's edges.
fn spawn_cpu_sampler(
    tl: Timeline,
    server_pid: Option<u32>,
    live: Arc<Live>,
) -> std::thread::JoinHandle<(Duration, Option<Duration>)> {
    std::thread::spawn(move || {
        let sample = || {
            (
                cpu::own_cpu().unwrap_or_default(),
                server_pid.and_then(|p| cpu::process_cpu(p).ok()),
            )
        };
        std::thread::sleep(tl.measure_from.saturating_duration_since(Instant::now()));
        let before = sample();
        live.wait_until(tl.end);
        let after = sample();
        let server = match (before.1, after.1) {
            (Some(b), Some(a)) => Some(a.saturating_sub(b)),
            _ => None,
        };
        (after.0.saturating_sub(before.0), server)
    })
}

async fn core_main(
    core: usize,
    cores: usize,
    args: EchoArgs,
    tl: Timeline,
    tx: mpsc::Sender<Tick>,
    live: Arc<Live>,
) -> CoreResult {
    let st = Rc::new(CoreState {
        addr: args.addr,
        size: args.size as usize,
        pipeline: args.pipeline as usize,
        rate: args.rate,
        conns: args.conns,
        timeline: tl,
        tick: RefCell::new(Tick::new(1, tl.second_is_warmup(1))),
        hist: RefCell::new(latency::histogram()),
        service: RefCell::new(latency::histogram()),
        lateness: RefCell::default(),
        errors: RefCell::new(Errors::default()),
        messages: Cell::new(0),
        bytes: Cell::new(0),
        ring: Cell::new(None),
    });
    let ticker = uringo::spawn(report_ticks(st.clone(), tx, live.clone()));
    let ring = st.clone();
    let ring_counter = uringo::spawn(async move { ring.count_ring().await });
    let open_loop = args.rate.is_some();
    let tasks: Vec<_> = conns_of_core(core, cores, args.conns as usize)
        .map(|id| {
            let (st, live) = (st.clone(), live.clone());
            uringo::spawn(async move {
                if open_loop {
                    conn::open_loop(st, id as u64).await;
                } else {
                    closed::closed_loop(st, id as u64).await;
                }
                live.conn_done();
            })
        })
        .collect();
    for t in tasks {
        t.await;
    }
    ticker.await;
    // Done at the window's end, unless every connection was gone before it.
    ring_counter.abort();
    st.take_result()
}

/// Sends this core's counts once a second until the window ends.
async fn report_ticks(st: Rc<CoreState>, tx: mpsc::Sender<Tick>, live: Arc<Live>) {
    let mut seen = latency::histogram();
    ticker::report_seconds_with(st.timeline, &st.tick, tx, Some(&live), |tick| {
        st.complete_tick(tick, &mut seen)
    })
    .await;
}

/// Provided receive buffers per core: about two per connection, each just big enough for a
/// connection's whole pipeline (at least 256 B, at most 64 KiB), at most 16 MiB a core. The
/// kernel fills them in ring order, so the pool is the memory every echo lands in: 128
/// connections of 64 B cycle through 64 KiB, where the runtime's default of 1024 × 4 KiB
/// would spread them over 4 MiB (a page, and a TLB entry, per echo).
fn recv_buffers(args: &EchoArgs, cores: usize) -> (u16, u32) {
    let per_core = args.conns.div_ceil(cores as u64);
    let size = (args.size * args.pipeline)
        .next_power_of_two()
        .clamp(256, 64 * 1024);
    let count = (2 * per_core)
        .next_power_of_two()
        .clamp(64, 16 * 1024)
        .min((16 << 20) / size);
    (count as u16, size as u32)
}

/// Runs the load described by `args`, prints a line per second, and returns the results. The
/// summary is not printed here; `--json`, `--hgrm` and `--plot` files are written.
pub fn run(args: &EchoArgs) -> io::Result<EchoRun> {
    let available = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let cores = args.cores.unwrap_or(available).min(args.conns) as usize;
    // No pinning: loadgen must respect the CPU set it is started with (taskset).
    let (count, size) = recv_buffers(args, cores);
    let runtime = uringo::Builder::new()
        .cores(cores)
        .pin(false)
        .recv_buffers(count, size)
        .build()?;
    let (tx, printer) =
        ticker::spawn_printer(cores, format_tick, output::is_stdout(args.json.as_deref()));
    let tl = Timeline::new(Instant::now(), args.warmup, args.duration);
    let live = Arc::new(Live::new(args.conns as usize));
    let sampler = spawn_cpu_sampler(tl, args.server_pid, live.clone());

    let core_args = args.clone();
    let core_live = live.clone();
    let results = runtime.run_on_all_cores(move |core| {
        core_main(
            core,
            cores,
            core_args.clone(),
            tl,
            tx.clone(),
            core_live.clone(),
        )
    });
    drop(runtime);
    let _ = printer.join();
    let (own_cpu, server_cpu) = sampler.join().unwrap_or_default();

    let Merged {
        hist,
        service,
        lateness,
        errors,
        messages,
        bytes,
        ring,
    } = merge(&results);
    // Every connection gone before the end (server killed): the run ended there.
    let ended_early = live.ended().filter(|&at| at < tl.end);
    let window_end = ended_early.unwrap_or(tl.end).max(tl.measure_from);
    let secs = (window_end - tl.measure_from).as_secs_f64().max(1e-9);
    let summary = EchoSummary {
        addr: args.addr.to_string(),
        mode: if args.rate.is_some() {
            "open"
        } else {
            "closed"
        },
        conns: args.conns,
        size: args.size,
        pipeline: args.pipeline,
        rate: args.rate,
        cores: cores as u64,
        duration_s: secs,
        ended_early: ended_early.is_some(),
        messages,
        bytes,
        msgs_per_s: messages as f64 / secs,
        mb_per_s: bytes as f64 / secs / 1e6,
        latency: Percentiles::of(&hist),
        service_latency: args.rate.map(|_| Percentiles::of(&service)),
        schedule: args.rate.map(|rate| schedule_report(rate, &tl, &lateness)),
        error_total: errors.total(),
        errors,
        cpu: cpu_report(own_cpu, server_cpu, messages, ring),
    };
    let run = EchoRun {
        summary,
        hist,
        service: args.rate.map(|_| service),
    };
    write_outputs(args, &run)?;
    Ok(run)
}

/// Loadgen's and (when sampled) the server's CPU, in all and per message.
fn cpu_report(
    own_cpu: Duration,
    server_cpu: Option<Duration>,
    messages: u64,
    ring: Option<RingCounts>,
) -> CpuReport {
    let per_msg = |n: u64| (messages > 0).then(|| n as f64 / messages as f64);
    CpuReport {
        loadgen_cpu_s: own_cpu.as_secs_f64(),
        loadgen_us_per_msg: cpu::micros_per_msg(own_cpu, messages),
        loadgen_enters_per_msg: ring.and_then(|r| per_msg(r.enters)),
        loadgen_parks_per_msg: ring.and_then(|r| per_msg(r.parks)),
        server_cpu_s: server_cpu.map(|d| d.as_secs_f64()),
        server_us_per_msg: server_cpu.and_then(|d| cpu::micros_per_msg(d, messages)),
    }
}

/// Open loop: what the schedule made due in the measured window against what was sent.
fn schedule_report(rate: u64, tl: &Timeline, lateness: &Lateness) -> ScheduleReport {
    let due = schedule::due_before(rate, tl.end - tl.start)
        - schedule::due_before(rate, tl.measure_from - tl.start);
    ScheduleReport {
        due,
        sent_by_end: lateness.sent_by_end,
        early: lateness.early,
        late_beyond_wakeup: lateness.late_beyond_wakeup,
        lateness: Percentiles::of(&lateness.hist),
    }
}

/// The cores' results added up.
struct Merged {
    hist: hdrhistogram::Histogram<u64>,
    service: hdrhistogram::Histogram<u64>,
    lateness: Lateness,
    errors: Errors,
    messages: u64,
    bytes: u64,
    /// Every core's, if every core counted the whole window.
    ring: Option<RingCounts>,
}

fn merge(results: &[CoreResult]) -> Merged {
    let mut m = Merged {
        hist: latency::histogram(),
        service: latency::histogram(),
        lateness: Lateness::default(),
        errors: Errors::default(),
        messages: 0,
        bytes: 0,
        ring: Some(RingCounts::default()),
    };
    for r in results {
        latency::merge(&mut m.hist, &r.hist);
        latency::merge(&mut m.service, &r.service);
        m.lateness.add(&r.lateness);
        m.errors.add(&r.errors);
        m.messages += r.messages;
        m.bytes += r.bytes;
        m.ring = m.ring.zip(r.ring).map(|(a, b)| RingCounts {
            enters: a.enters + b.enters,
            parks: a.parks + b.parks,
        });
    }
    m
}

fn write_outputs(args: &EchoArgs, run: &EchoRun) -> io::Result<()> {
    if let Some(path) = &args.json {
        output::write_json(path, &run.summary)?;
    }
    if let Some(path) = &args.hgrm {
        let file = std::fs::File::create(path)?;
        output::write_hgrm(io::BufWriter::new(file), &run.hist, 5)?;
    }
    if let Some(path) = &args.plot {
        let title = format!(
            "uringo echo {} B, {} conns, {}",
            args.size,
            args.conns,
            match args.rate {
                Some(r) => format!("{r} msg/s"),
                None => format!("closed loop x{}", args.pipeline),
            }
        );
        let mut curves = vec![output::Curve {
            name: "latency",
            hist: &run.hist,
        }];
        if let Some(s) = &run.service {
            curves[0].name = "from intended send (corrected)";
            curves.push(output::Curve {
                name: "from actual send",
                hist: s,
            });
        }
        output::plot_percentiles(path, &title, &curves)?;
    }
    Ok(())
}
