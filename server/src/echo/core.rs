//! What each core runs: its listener, its connections, its stats, and its part of shutdown.

use super::accept::accept_loop;
use super::shutdown::{Gate, Shutdown};
use super::stats::{CoreCounters, Rates};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uringo::net::TcpListener;

/// How long shutdown waits for connections in the middle of an echo.
const GRACE: Duration = Duration::from_secs(5);

thread_local! {
    /// This core's shutdown latch; another core triggers it through `spawn_on`.
    static SHUTDOWN: Shutdown = Shutdown::default();
}

pub fn local_shutdown() -> Shutdown {
    SHUTDOWN.with(Shutdown::clone)
}

/// Tells every core to stop accepting and wind down.
pub fn broadcast_shutdown(cores: usize) {
    for core in 0..cores {
        // Detached: the task only flips the target core's latch.
        drop(uringo::spawn_on(core, || async {
            local_shutdown().trigger()
        }));
    }
}

/// Waits for SIGINT or SIGTERM, then shuts every core down.
pub async fn watch_signals(cores: usize) {
    match uringo::signal::shutdown().await {
        Ok(()) => tracing::info!("signal received: stopping accepts, finishing in-flight echoes"),
        Err(e) => tracing::error!("waiting for signals failed ({e}); shutting down"),
    }
    broadcast_shutdown(cores);
}

/// Logs this core's connections and traffic every `every` until shutdown.
async fn report_stats(
    core: usize,
    every: Duration,
    counters: Arc<CoreCounters>,
    shutdown: Shutdown,
) {
    let mut interval = uringo::time::interval(every);
    interval.tick().await;
    let mut before = (Instant::now(), counters.sample(uringo::stats().enters));
    while shutdown.unless_triggered(interval.tick()).await.is_some() {
        let runtime = uringo::stats();
        let now = (Instant::now(), counters.sample(runtime.enters));
        let r = Rates::between(
            before.1,
            now.1,
            now.0.duration_since(before.0).as_secs_f64(),
        );
        tracing::info!(
            core,
            conns = counters.open.get(),
            accepted = counters.accepted.get(),
            recvs = now.1.recvs,
            bytes = now.1.bytes,
            recvs_per_s = format_args!("{:.0}", r.recvs_per_s),
            mb_per_s = format_args!("{:.2}", r.mb_per_s),
            enters_per_recv = format_args!("{:.3}", r.enters_per_recv.unwrap_or(0.0)),
            // Totals since start, with URINGO_CPU_SPLIT=1 only (io_uring).
            user_cpu_us = runtime.user_cpu_ns().map(|ns| ns / 1000),
            enter_cpu_us = runtime.enter_cpu_ns.map(|ns| ns / 1000),
            "stats"
        );
        before = now;
    }
}

/// Runs core `core`: binds, calls `bound` once listening, serves until shutdown, then waits up
/// to [`GRACE`] for in-flight connections.
pub async fn run_core(
    core: usize,
    cores: usize,
    addr: SocketAddr,
    stats_every: Option<Duration>,
    counters: Arc<CoreCounters>,
    bound: impl FnOnce(),
) -> io::Result<()> {
    let shutdown = local_shutdown();
    if core == 0 {
        drop(uringo::spawn(watch_signals(cores)));
        // Let the watcher start waiting before the server announces itself, so a signal sent
        // right after the announcement finds someone listening.
        uringo::yield_now().await;
    }
    let listener = match TcpListener::bind_reuseport(addr) {
        Ok(l) => l,
        Err(e) => {
            broadcast_shutdown(cores);
            return Err(io::Error::new(
                e.kind(),
                format!("core {core}: binding {addr}: {e}"),
            ));
        }
    };
    if let Some(every) = stats_every {
        uringo::spawn(report_stats(
            core,
            every,
            counters.clone(),
            shutdown.clone(),
        ));
    }
    bound();
    let gate = Gate::default();
    accept_loop(&listener, &shutdown, &gate, &counters).await;
    drop(listener);
    if uringo::time::timeout(GRACE, gate.idle()).await.is_err() {
        tracing::warn!(
            core,
            open = gate.live(),
            "connections still busy after {GRACE:?}; closing them"
        );
    }
    Ok(())
}
