//! A small echo server: one SO_REUSEPORT listener per core, one task per
//! connection, each received buffer written back as is.
//!
//! ```text
//! cargo run -p uringo --example echo -- 127.0.0.1:7000
//! ```
//! Stop it with Ctrl-C.

use std::net::SocketAddr;
use std::rc::Rc;

fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into())
        .parse()
        .map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad address: {e}"),
            )
        })?;
    let runtime = uringo::Builder::new().build()?;
    println!(
        "echo listening on {addr} with {} cores; Ctrl-C stops it",
        runtime.cores()
    );
    let served = runtime.run_on_all_cores(move |core| async move {
        let listener = uringo::net::TcpListener::bind_reuseport(addr)?;
        let mut shutdown = std::pin::pin!(uringo::signal::shutdown());
        let mut connections = 0u64;
        loop {
            let accept = listener.accept();
            let accepted = std::pin::pin!(accept);
            match select(accepted, shutdown.as_mut()).await {
                Either::Left(Ok((stream, _peer))) => {
                    connections += 1;
                    uringo::spawn(echo(Rc::new(stream)));
                }
                Either::Left(Err(e)) => eprintln!("core {core}: accept failed: {e}"),
                Either::Right(_) => return Ok::<_, std::io::Error>(connections),
            }
        }
    });
    for (core, result) in served.into_iter().enumerate() {
        println!("core {core}: {} connections", result?);
    }
    Ok(())
}

async fn echo(stream: Rc<uringo::net::TcpStream>) {
    while let Ok(Some(bytes)) = stream.recv().await {
        if stream.write_all(bytes).await.0.is_err() {
            break;
        }
    }
}

enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Waits for the first of two futures.
async fn select<A: std::future::Future + Unpin, B: std::future::Future + Unpin>(
    mut a: A,
    mut b: B,
) -> Either<A::Output, B::Output> {
    use std::task::Poll;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = std::pin::Pin::new(&mut a).poll(cx) {
            return Poll::Ready(Either::Left(v));
        }
        if let Poll::Ready(v) = std::pin::Pin::new(&mut b).poll(cx) {
            return Poll::Ready(Either::Right(v));
        }
        Poll::Pending
    })
    .await
}
