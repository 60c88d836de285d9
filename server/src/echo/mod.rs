//! `uringo-server echo`: a TCP echo server, one SO_REUSEPORT listener per core.
//!
//! Each core accepts with multishot accept and runs each connection as a task; the task receives
//! into the core's provided-buffer ring (multishot recv) and writes the very same buffer back, so
//! no byte is copied in user space; the buffer returns to the ring when the write completes.

mod accept;
mod conn;
mod core;
mod shutdown;
mod stats;

pub use stats::CoreCounters;

use crate::scaffold::{announce::Startup, bind::Reservation};
use clap::Args;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct EchoArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:7000")]
    pub listen: SocketAddr,
    /// Runtime cores, one listener each [default: available CPUs].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub cores: Option<u64>,
    /// Log per-core connections, receives and bytes every SECS seconds (0 = off).
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub stats_interval: u64,
    /// I/O backend: auto (io_uring, or epoll where it is unavailable), io-uring or epoll
    /// [default: $URINGO_BACKEND, else auto].
    #[arg(long, value_name = "auto|io-uring|epoll")]
    pub backend: Option<uringo::Backend>,
    /// Serve Prometheus metrics at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
}

/// Runs the echo server until SIGINT or SIGTERM.
///
/// Once every core listens it logs the startup line and prints `listening on ADDR` on stdout
/// (the resolved address, for `--listen ...:0`).
pub fn run(args: EchoArgs) -> io::Result<()> {
    let cores = match args.cores {
        Some(n) => n as usize,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let reservation = Reservation::new(args.listen)
        .map_err(|e| io::Error::new(e.kind(), format!("binding {}: {e}", args.listen)))?;
    let startup = Arc::new(Startup::new("echo", cores, reservation));
    let addr = startup.addr();
    let stats_every = (args.stats_interval > 0).then(|| Duration::from_secs(args.stats_interval));
    let mut builder = uringo::Builder::new().cores(cores);
    if let Some(backend) = args.backend {
        builder = builder.backend(backend);
    }
    let runtime = builder.build()?;
    let counters: crate::metrics::EchoCores = (0..cores).map(|_| Arc::default()).collect();
    let metrics = args
        .metrics
        .map(|at| (at, crate::metrics::Metrics::echo(counters.clone())));

    let results = runtime.run_on_all_cores(move |core| {
        let startup = startup.clone();
        let counters = counters[core].clone();
        let metrics = metrics.clone().filter(|_| core == 0);
        async move {
            if let Some((at, metrics)) = metrics {
                let stop = core::local_shutdown();
                crate::metrics::serve(at, metrics, async move {
                    stop.unless_triggered(std::future::pending::<()>()).await;
                })?;
            }
            core::run_core(core, cores, addr, stats_every, counters, move || {
                startup.core_bound()
            })
            .await
        }
    });
    let result = results
        .into_iter()
        .collect::<io::Result<Vec<()>>>()
        .map(drop);
    drop(runtime);
    if result.is_ok() {
        tracing::info!("shut down cleanly");
    }
    result
}
