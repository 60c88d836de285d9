//! `uringo-server echo`: a TCP echo server, one SO_REUSEPORT listener per core.
//!
//! Each core accepts with multishot accept and runs each connection as a task; the task receives
//! into the core's provided-buffer ring (multishot recv) and writes the very same buffer back, so
//! no byte is copied in user space; the buffer returns to the ring when the write completes.

mod ratelimit;
mod shutdown;
mod stats;

use clap::Args;
use std::io;
use std::net::SocketAddr;

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
}

/// Runs the echo server until SIGINT or SIGTERM.
pub fn run(args: EchoArgs) -> io::Result<()> {
    let _ = args;
    Err(io::Error::other(
        "the echo server needs the uringo runtime core",
    ))
}
