//! Echo server on monoio with its io_uring driver: a task per connection passing
//! one owned buffer to `read` and back to `write_all`, as monoio's own examples do.

use std::io;

use clap::Parser;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::{TcpListener, TcpStream};
use uringo_benches::peer::{self, PeerArgs};

fn main() -> io::Result<()> {
    let args = PeerArgs::parse();
    peer::exit_on_termination()?;
    let mut rt = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
        .enable_timer()
        .build()?;
    rt.block_on(serve(args))
}

async fn serve(args: PeerArgs) -> io::Result<()> {
    let listener = TcpListener::bind(args.listen)?;
    peer::announce("echo-monoio", listener.local_addr()?);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                monoio::spawn(echo(stream, args.buf));
            }
            Err(e) => {
                eprintln!("accept: {e}");
                monoio::time::sleep(peer::ACCEPT_BACKOFF).await;
            }
        }
    }
}

async fn echo(mut stream: TcpStream, buf_size: usize) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(buf_size);
    loop {
        let (res, b) = stream.read(buf).await;
        buf = b;
        match res {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let (res, b) = stream.write_all(buf).await;
        buf = b;
        if res.is_err() {
            return;
        }
    }
}
