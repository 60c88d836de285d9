//! A Unix-socket echo server, as `net.Listen("unix", path)` with a
//! goroutine per connection doing `io.Copy(c, c)` would be in Go, and its
//! client.
//!
//! ```text
//! cargo run -p uringo --example unix_echo                           # serve on /tmp/uringo-echo.sock
//! cargo run -p uringo --example unix_echo -- /tmp/uringo-echo.sock hi # send, print the echo
//! ```
//! The server removes a stale socket file before binding, and its own on
//! Ctrl-C (a socket file outlives its socket, as in Go and std).

use std::io;
use std::net::Shutdown;
use std::path::PathBuf;
use std::rc::Rc;

use uringo::net::{UnixListener, UnixStream};

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "/tmp/uringo-echo.sock".into()),
    );
    let message: Vec<String> = args.collect();
    uringo::start(async move {
        if message.is_empty() {
            serve(path).await
        } else {
            send(path, message.join(" ")).await
        }
    })
}

async fn serve(path: PathBuf) -> io::Result<()> {
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(&path)?;
    println!("unix echo on {}; Ctrl-C stops it", path.display());
    // Go's signal.Notify and a goroutine that cleans up and exits.
    let cleanup = path.clone();
    uringo::spawn(async move {
        if uringo::signal::shutdown().await.is_err() {
            return; // no handler: Ctrl-C ends the process as usual
        }
        let _ = std::fs::remove_file(&cleanup);
        std::process::exit(0);
    });
    loop {
        match listener.accept().await {
            Ok((conn, _)) => {
                uringo::spawn(echo(Rc::new(conn)));
            }
            Err(e) => eprintln!("accept: {e}"),
        }
    }
}

/// Writes back every chunk until the peer closes its side.
async fn echo(conn: Rc<UnixStream>) {
    while let Ok(Some(bytes)) = conn.recv().await {
        if conn.write_all(bytes).await.0.is_err() {
            return;
        }
    }
}

/// Sends `message`, closes the sending side, and prints all that comes back.
async fn send(path: PathBuf, message: String) -> io::Result<()> {
    let conn = UnixStream::connect(&path).await?;
    let (sent, _) = conn.write_all(message.into_bytes()).await;
    sent?;
    conn.shutdown(Shutdown::Write)?;
    let mut echoed = Vec::new();
    while let Some(bytes) = conn.recv().await? {
        echoed.extend_from_slice(&bytes);
    }
    println!("{}", String::from_utf8_lossy(&echoed));
    Ok(())
}
