//! Running a chat load: set up the cores, wait for the drain, merge and summarise.

use super::accounting;
use super::client;
use super::core::{ChatCore, ChatCoreResult, Progress, Shared};
use super::order::ChannelOrders;
use super::plan::Plan;
use super::summary::{ChatCpu, ChatSummary};
use super::window::Window;
use crate::cli::ChatArgs;
use crate::cpu;
use crate::errors::Errors;
use crate::latency::{self, human_us, Percentiles};
use crate::output;
use crate::schedule::conns_of_core;
use crate::ticker::{self, Tick};
use hdrhistogram::Histogram;
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Receive buffers per core and their size (16 MiB in all).
const RECV_BUFFERS: u16 = 1024;
const RECV_BUFFER_SIZE: u32 = 16 * 1024;

fn format_tick(t: &Tick) -> String {
    let secs = t.span.as_secs_f64().max(1e-9);
    let p = Percentiles::of(&t.hist);
    format!(
        "[{:>4}s] sent {:>7.0}/s  delivered {:>9.0}/s  p50 {:>7}  p99 {:>7}  p99.9 {:>7}  max {:>7}  errors {}",
        t.second,
        t.sent as f64 / secs,
        t.done as f64 / secs,
        human_us(p.p50_us),
        human_us(p.p99_us),
        human_us(p.p999_us),
        human_us(p.max_us),
        t.errors
    )
}

async fn report_ticks(core: Rc<ChatCore>, tx: mpsc::Sender<Tick>) {
    // Chat has no warmup, so no second is reported as warmup.
    if let Some(tl) = core.timeline.get() {
        ticker::report_seconds_with(tl, &core.tick, tx, None, |t| core.complete_second(t)).await;
    }
}

async fn core_main(
    core: usize,
    args: ChatArgs,
    plan: Arc<Plan>,
    shared: Arc<Shared>,
    epoch: Instant,
    tx: mpsc::Sender<Tick>,
) -> ChatCoreResult {
    let cores = shared.cores;
    let clients = shared.clients as usize;
    let state = ChatCore::new(args, plan, shared, core, epoch);
    let tasks: Vec<_> = conns_of_core(core, cores, clients)
        .map(|id| uringo::spawn(client::client(state.clone(), id as u64)))
        .collect();
    if core == 0 {
        // Registering thousands of clients takes a while: show that it progresses.
        let mut every = uringo::time::interval(Duration::from_secs(1));
        every.tick().await;
        let began = Instant::now();
        while state.start.unless_triggered(every.tick()).await.is_some() {
            let s = &state.shared;
            eprintln!(
                "setup [{:>3}s]: {} connected, {} registered, {} done (joined or failed) of {} clients",
                began.elapsed().as_secs(),
                s.connected.load(Ordering::Relaxed),
                s.registered.load(Ordering::Relaxed),
                s.setup_done.load(Ordering::Acquire),
                s.clients
            );
        }
        eprintln!(
            "setup: {} clients ready in {:.1?}; sending",
            state.shared.registered.load(Ordering::Relaxed),
            began.elapsed()
        );
    }
    state.start.triggered().await;
    let cpu_before = (core == 0).then(|| cpu::sample(&state.args.server_pid));
    let ticker = uringo::spawn(report_ticks(state.clone(), tx));
    state.drain().await;
    let cpu = cpu_before.map(|before| cpu_between(before, cpu::sample(&state.args.server_pid)));
    for t in tasks {
        t.await;
    }
    ticker.await;
    ChatCore::unregister();
    ChatCoreResult {
        cpu,
        ..state.take_result()
    }
}

type CpuSample = (Duration, Option<(Duration, Duration)>);

fn cpu_between(before: CpuSample, after: CpuSample) -> CpuSample {
    let servers = match (before.1, after.1) {
        (Some((bu, bs)), Some((au, as_))) => Some((au.saturating_sub(bu), as_.saturating_sub(bs))),
        _ => None,
    };
    (after.0.saturating_sub(before.0), servers)
}

fn chat_cpu(cpu: Option<CpuSample>, delivered: u64) -> ChatCpu {
    let Some((own, servers)) = cpu else {
        return ChatCpu::default();
    };
    ChatCpu {
        loadgen_cpu_s: own.as_secs_f64(),
        loadgen_us_per_delivery: cpu::micros_per_msg(own, delivered),
        server_user_s: servers.map(|(u, _)| u.as_secs_f64()),
        server_system_s: servers.map(|(_, s)| s.as_secs_f64()),
        server_us_per_delivery: servers.and_then(|(u, s)| cpu::micros_per_msg(u + s, delivered)),
    }
}

fn write_outputs(args: &ChatArgs, summary: &ChatSummary, hist: &Histogram<u64>) -> io::Result<()> {
    if let Some(path) = &args.json {
        output::write_json(path, summary)?;
    }
    if let Some(path) = &args.hgrm {
        let file = std::fs::File::create(path)?;
        output::write_hgrm(io::BufWriter::new(file), hist, 5)?;
    }
    if let Some(path) = &args.plot {
        let load = match args.in_flight {
            Some(k) => format!("closed loop, {k} in flight per client"),
            None => format!("{} msg/s", args.rate),
        };
        let title = format!(
            "chat delivery latency: {} clients, {} channels, {load}",
            args.clients, args.channels
        );
        let curve = output::Curve {
            name: "delivery latency",
            hist,
        };
        output::plot_percentiles(path, &title, &[curve])?;
    }
    Ok(())
}

/// The state every core's clients share: counters for the progress lines and, in the closed
/// loop, one in-flight window per client.
pub(super) fn new_shared(args: &ChatArgs, cores: usize) -> Shared {
    Shared {
        clients: args.clients,
        cores,
        connected: AtomicU64::new(0),
        registered: AtomicU64::new(0),
        setup_done: AtomicU64::new(0),
        progress: (0..cores).map(|_| Progress::default()).collect(),
        windows: match args.in_flight {
            Some(_) => (0..args.clients).map(|_| Window::default()).collect(),
            None => Vec::new(),
        },
        connecting: args
            .connect_concurrency
            .map(|n| uringo::sync::Semaphore::new(n as usize)),
    }
}

/// 16 KiB receive buffers: at millions of deliveries/s a client's lines arrive in big
/// bursts, and each buffer is one completion and one wake of its reader.
fn chat_runtime(cores: usize) -> io::Result<uringo::Runtime> {
    uringo::Builder::new()
        .cores(cores)
        .pin(false)
        .recv_buffers(RECV_BUFFERS, RECV_BUFFER_SIZE)
        .build()
}

/// Runs the chat load described by `args`; prints a line per second; writes `--json`.
pub fn run(args: &ChatArgs) -> io::Result<ChatSummary> {
    args.validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let available = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let cores = args.cores.unwrap_or(available).min(args.clients) as usize;
    let runtime = chat_runtime(cores)?;
    let plan = Arc::new(Plan::new(args.clients, args.channels, args.joins));
    if args.in_flight.is_some() && (0..args.channels).any(|c| plan.fanout(c) == 0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "--in-flight needs at least two members in every channel (more --clients or --joins)",
        ));
    }
    let shared = Arc::new(new_shared(args, cores));
    let (tx, printer) =
        ticker::spawn_printer(cores, format_tick, output::is_stdout(args.json.as_deref()));
    let epoch = Instant::now();
    let core_args = args.clone();
    let results = runtime.run_on_all_cores(move |core| {
        core_main(
            core,
            core_args.clone(),
            plan.clone(),
            shared.clone(),
            epoch,
            tx.clone(),
        )
    });
    drop(runtime);
    let _ = printer.join();

    let mut hist = latency::histogram();
    let mut errors = Errors::default();
    let mut counts = accounting::Deliveries::default();
    let (mut sent, mut expected) = (0, 0);
    let mut orders = ChannelOrders::default();
    let mut cpu = None;
    for r in results {
        cpu = cpu.or(r.cpu);
        latency::merge(&mut hist, &r.hist);
        errors.add(&r.errors);
        counts.add(&r.counts);
        sent += r.sent;
        expected += r.expected;
        orders.merge(r.orders);
    }
    let order = orders.check();
    let secs = args.duration.as_secs_f64().max(1e-9);
    let summary = ChatSummary {
        addr: args
            .addr
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        clients: args.clients,
        channels: args.channels,
        joins: args.joins,
        rate: args.rate,
        in_flight: args.in_flight,
        size: args.size,
        cores: cores as u64,
        duration_s: secs,
        sent,
        expected,
        delivered: counts.delivered,
        lost: accounting::lost(expected, counts.delivered),
        duplicated: counts.duplicated,
        out_of_order: counts.out_of_order,
        order_channels_checked: order.channels_checked,
        order_conflicts: order.conflicts,
        deliveries_per_s: counts.delivered as f64 / secs,
        latency: Percentiles::of(&hist),
        error_total: errors.total(),
        errors,
        cpu: chat_cpu(cpu, counts.delivered),
    };
    write_outputs(args, &summary, &hist)?;
    Ok(summary)
}
