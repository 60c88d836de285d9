//! Echo server on glommio: one `LocalExecutor` pinned to a CPU, a task per
//! connection reading into its own buffer and `write_all`-ing it back.

use std::io;

use clap::Parser;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};
use glommio::{LocalExecutorBuilder, Placement};
use uringo_benches::peer::{self, PeerArgs};

fn main() -> io::Result<()> {
    let args = PeerArgs::parse();
    peer::exit_on_termination()?;
    let cpu = match args.cpu {
        Some(cpu) => cpu,
        None => peer::first_allowed_cpu()?,
    };
    let ex = LocalExecutorBuilder::new(Placement::Fixed(cpu))
        .name("echo-glommio")
        .make()
        .map_err(|e| io::Error::other(e.to_string()))?;
    ex.run(serve(args))
}

async fn serve(args: PeerArgs) -> io::Result<()> {
    let listener = TcpListener::bind(args.listen)?;
    peer::announce("echo-glommio", listener.local_addr()?);
    loop {
        match listener.accept().await {
            Ok(stream) => {
                glommio::spawn_local(echo(stream, args.buf)).detach();
            }
            Err(e) => {
                eprintln!("accept: {e}");
                glommio::timer::sleep(peer::ACCEPT_BACKOFF).await;
            }
        }
    }
}

async fn echo(mut stream: TcpStream, buf_size: usize) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; buf_size];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
