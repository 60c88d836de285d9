//! `uringo-server echo`: a TCP echo server, one SO_REUSEPORT listener per core.
//!
//! Each core accepts with multishot accept and runs each connection as a task; the task receives
//! into the core's provided-buffer ring (multishot recv) and writes the very same buffer back, so
//! no byte is copied in user space; the buffer returns to the ring when the write completes.

mod accept;
mod conn;
mod core;
mod port;
mod ratelimit;
mod shutdown;
mod stats;

use clap::Args;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct EchoArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:7000")]
    pub listen: SocketAddr,
    /// Runtime cores, one listener each [default: available CPUs].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub cores: Option<u64>,
    /// Log per-core connections, messages and bytes every SECS seconds (0 = off).
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub stats_interval: u64,
    /// I/O backend: auto (io_uring, or epoll where it is unavailable), io-uring or epoll
    /// [default: $URINGO_BACKEND, else auto].
    #[arg(long, value_name = "auto|io-uring|epoll")]
    pub backend: Option<uringo::Backend>,
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
    let reservation = port::Reservation::new(args.listen)
        .map_err(|e| io::Error::new(e.kind(), format!("binding {}: {e}", args.listen)))?;
    let addr = reservation.addr();
    let startup = Arc::new(Startup {
        cores,
        addr,
        bound: AtomicUsize::new(0),
        reservation: Mutex::new(Some(reservation)),
    });
    let stats_every = (args.stats_interval > 0).then(|| Duration::from_secs(args.stats_interval));
    let mut builder = uringo::Builder::new().cores(cores);
    if let Some(backend) = args.backend {
        builder = builder.backend(backend);
    }
    let runtime = builder.build()?;

    let results = runtime.run_on_all_cores(move |core| {
        let startup = startup.clone();
        core::run_core(core, cores, addr, stats_every, move || startup.core_bound())
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

/// Startup bookkeeping shared by the cores: the last one to bind announces the server.
struct Startup {
    cores: usize,
    addr: SocketAddr,
    bound: AtomicUsize,
    reservation: Mutex<Option<port::Reservation>>,
}

impl Startup {
    fn core_bound(&self) {
        if self.bound.fetch_add(1, Ordering::AcqRel) + 1 != self.cores {
            return;
        }
        // Every listener is up: the port no longer needs holding.
        drop(
            self.reservation
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
        let (addr, cores) = (self.addr, self.cores);
        let features = uringo::features();
        tracing::info!(%addr, cores, backend = %features.backend, %features, "uringo-server echo listening");
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "listening on {addr}");
        let _ = out.flush();
    }
}
