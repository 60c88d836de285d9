//! Echo server on tokio's current_thread runtime: the way a tokio user writes it,
//! a task per connection reading into its own buffer and `write_all`-ing it back.

use std::io;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uringo_benches::peer::{self, PeerArgs};

fn main() -> io::Result<()> {
    let args = PeerArgs::parse();
    peer::exit_on_termination()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    rt.block_on(serve(args))
}

async fn serve(args: PeerArgs) -> io::Result<()> {
    let listener = TcpListener::bind(args.listen).await?;
    peer::announce("echo-tokio", listener.local_addr()?);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(echo(stream, args.buf));
            }
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(peer::ACCEPT_BACKOFF).await;
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
