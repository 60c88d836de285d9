//! The benchmark axum app on tokio, as a tokio user writes it:
//! `axum::serve` on a current_thread runtime (`--workers 0`) or a
//! multi_thread runtime with `--workers` worker threads.

use std::io;
use std::net::SocketAddr;

use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// 0: current_thread; N: multi_thread with N workers.
    #[arg(long, default_value_t = 0)]
    workers: usize,
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    let runtime = match args.workers {
        0 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()?,
    };
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        println!(
            "axum-tokio listening on {} (workers {})",
            listener.local_addr()?,
            args.workers
        );
        // TCP_NODELAY, as uringo::compat::serve sets it.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let signal = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        axum::serve(listener, uringo_benches::http_app::app())
            .with_graceful_shutdown(signal)
            .await
    })
}
