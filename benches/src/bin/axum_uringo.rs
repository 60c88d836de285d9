//! The benchmark axum app on uringo: `uringo::compat::serve` on `--cores`
//! cores (one SO_REUSEPORT listener each).

use std::io;
use std::net::SocketAddr;

use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Cores (threads), each pinned to one CPU of the process's CPU set.
    #[arg(long, default_value_t = 1)]
    cores: usize,
    /// Single-shot recv into heap buffers instead of multishot recv into
    /// provided buffers (the runtime's fallback path).
    #[arg(long)]
    no_provided_buffers: bool,
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    let runtime = uringo::Builder::new()
        .cores(args.cores)
        .provided_buffers(!args.no_provided_buffers)
        .build()?;
    runtime.block_on(async move {
        let server = uringo::compat::Server::bind(args.listen)?;
        println!(
            "axum-uringo listening on {} ({} cores)",
            server.local_addr(),
            args.cores
        );
        server.serve(uringo_benches::http_app::app()).await;
        Ok(())
    })
}
