//! Echo server on compio with its io_uring driver: a task per connection passing one owned
//! buffer to `read` and back to `write_all`, as compio's own examples do.

use std::io;

use clap::Parser;
use compio::io::{AsyncRead, AsyncWriteExt};
use compio::net::{TcpListener, TcpStream};
use compio::BufResult;
use uringo_benches::peer::{self, PeerArgs};

fn main() -> io::Result<()> {
    let args = PeerArgs::parse();
    peer::exit_on_termination()?;
    compio::runtime::Runtime::new()?.block_on(serve(args))
}

async fn serve(args: PeerArgs) -> io::Result<()> {
    let listener = TcpListener::bind(args.listen).await?;
    peer::announce("echo-compio", listener.local_addr()?);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => compio::runtime::spawn(echo(stream, args.buf)).detach(),
            Err(e) => {
                eprintln!("accept: {e}");
                compio::time::sleep(peer::ACCEPT_BACKOFF).await;
            }
        }
    }
}

async fn echo(mut stream: TcpStream, buf_size: usize) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(buf_size);
    loop {
        let BufResult(res, b) = stream.read(buf).await;
        buf = b;
        match res {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let BufResult(res, b) = stream.write_all(buf).await;
        buf = b;
        if res.is_err() {
            return;
        }
        buf.clear();
    }
}
