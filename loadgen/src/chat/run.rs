//! Running a chat load: set up the cores, wait for the drain, merge and summarise.

use super::accounting;
use super::client;
use super::core::{ChatCore, ChatCoreResult, Progress, Shared};
use super::plan::Plan;
use super::summary::ChatSummary;
use crate::cli::ChatArgs;
use crate::errors::Errors;
use crate::latency::{self, human_us, Percentiles};
use crate::output;
use crate::schedule::conns_of_core;
use crate::ticker::{self, Tick};
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

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
        ticker::report_seconds(tl, &core.tick, tx, None).await;
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
        while state.start.unless_triggered(every.tick()).await.is_some() {
            let done = state.shared.setup_done.load(Ordering::Acquire);
            eprintln!(
                "setup: {done}/{} clients registered and joined",
                state.shared.clients
            );
        }
    }
    state.start.triggered().await;
    let ticker = uringo::spawn(report_ticks(state.clone(), tx));
    state.drain().await;
    for t in tasks {
        t.await;
    }
    ticker.await;
    ChatCore::unregister();
    state.take_result()
}

/// Runs the chat load described by `args`; prints a line per second; writes `--json`.
pub fn run(args: &ChatArgs) -> io::Result<ChatSummary> {
    args.validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let available = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let cores = args.cores.unwrap_or(available).min(args.clients) as usize;
    let runtime = uringo::Builder::new().cores(cores).pin(false).build()?;
    let plan = Arc::new(Plan::new(args.clients, args.channels, args.joins));
    let shared = Arc::new(Shared {
        clients: args.clients,
        cores,
        setup_done: AtomicU64::new(0),
        progress: (0..cores).map(|_| Progress::default()).collect(),
    });
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
    for r in &results {
        latency::merge(&mut hist, &r.hist);
        errors.add(&r.errors);
        counts.add(&r.counts);
        sent += r.sent;
        expected += r.expected;
    }
    let secs = args.duration.as_secs_f64().max(1e-9);
    let summary = ChatSummary {
        addr: args.addr.to_string(),
        clients: args.clients,
        channels: args.channels,
        joins: args.joins,
        rate: args.rate,
        size: args.size,
        cores: cores as u64,
        duration_s: secs,
        sent,
        expected,
        delivered: counts.delivered,
        lost: accounting::lost(expected, counts.delivered),
        duplicated: counts.duplicated,
        out_of_order: counts.out_of_order,
        deliveries_per_s: counts.delivered as f64 / secs,
        latency: Percentiles::of(&hist),
        error_total: errors.total(),
        errors,
    };
    if let Some(path) = &args.json {
        output::write_json(path, &summary)?;
    }
    Ok(summary)
}
