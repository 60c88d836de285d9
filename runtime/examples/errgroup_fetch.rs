//! Go's errgroup: fetch from several servers at once and stop at the first
//! error. Three local "servers" answer slowly, one fails at once; the failure
//! cancels the group's context, so the slow fetches stop instead of waiting
//! for their answers. Like
//!
//! ```go
//! g, ctx := errgroup.WithContext(context.Background())
//! for _, addr := range servers { g.Go(func() error { return fetch(ctx, addr) }) }
//! if err := g.Wait(); err != nil { log.Print(err) }
//! ```
//!
//! ```text
//! cargo run -p uringo --example errgroup_fetch
//! ```

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use uringo::context::Context;
use uringo::errgroup::Group;
use uringo::net::{TcpListener, TcpStream};
use uringo::select;

/// A server that answers `reply` after `delay`, or closes at once when
/// `reply` is empty (a failing backend).
fn serve(reply: &'static str, delay: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    uringo::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            uringo::spawn(async move {
                uringo::time::sleep(delay).await;
                if !reply.is_empty() {
                    let (res, _) = conn.write_all(reply.as_bytes().to_vec()).await;
                    let _ = res;
                }
            });
        }
    });
    addr
}

/// Reads the server's whole answer, unless `ctx` is done first.
async fn fetch(ctx: &Context, addr: SocketAddr) -> io::Result<String> {
    let conn = TcpStream::connect(addr).await?;
    let mut body = Vec::new();
    loop {
        let (n, buf) = select! {
            r = conn.read(vec![0u8; 1024]) => r,
            _ = ctx.done() => return Err(ctx.err().expect("done").into()),
        };
        match n? {
            0 => break,
            n => body.extend_from_slice(&buf[..n]),
        }
    }
    if body.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{addr} closed without answering"),
        ));
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

fn main() {
    uringo::start(async {
        let slow = Duration::from_secs(5);
        let servers = [
            serve("alpha", slow),
            serve("beta", slow),
            serve("", Duration::from_millis(20)), // fails first
            serve("gamma", slow),
        ];
        let start = Instant::now();
        let mut group = Group::new();
        for addr in servers {
            let ctx = group.context();
            group.spawn(async move {
                let body = fetch(&ctx, addr).await?;
                println!("{addr}: {body}");
                Ok::<(), io::Error>(())
            });
        }
        let err = group.wait().await.expect_err("one server fails");
        println!("first error after {:?}: {err}", start.elapsed());
        assert!(start.elapsed() < slow, "the slow fetches were cancelled");
    });
}
