//! A UDP echo server, as `net.ListenPacket("udp", addr)` and a
//! `ReadFrom`/`WriteTo` loop would be in Go, and its client.
//!
//! ```text
//! cargo run -p uringo --example udp_echo                          # serve on 127.0.0.1:7001
//! cargo run -p uringo --example udp_echo -- 127.0.0.1:7001 hi there # send, print the echoes
//! ```
//! The server runs until Ctrl-C.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use uringo::net::UdpSocket;

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:7001".into())
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("bad address: {e}")))?;
    let messages: Vec<String> = args.collect();
    uringo::start(async move {
        if messages.is_empty() {
            serve(addr).await
        } else {
            send(addr, messages).await
        }
    })
}

/// Sends every datagram back to where it came from. The datagram arrives
/// in a buffer of the core's pool, which is sent back as is.
async fn serve(addr: SocketAddr) -> io::Result<()> {
    let conn = UdpSocket::bind(addr)?;
    println!("udp echo on {}; Ctrl-C stops it", conn.local_addr()?);
    loop {
        let (datagram, from) = match conn.recv_buf_from().await {
            Ok(received) => received,
            Err(e) => {
                eprintln!("read: {e}");
                continue;
            }
        };
        if let (Err(e), _) = conn.send_to(datagram, from).await {
            eprintln!("write to {from}: {e}");
        }
    }
}

/// Sends each message and prints its echo, giving up on one after a second.
async fn send(addr: SocketAddr, messages: Vec<String>) -> io::Result<()> {
    let conn = UdpSocket::bind("0.0.0.0:0".parse().unwrap())?;
    conn.connect(addr)?;
    let mut buf = Vec::with_capacity(64 * 1024);
    for message in messages {
        let (sent, _) = conn.send(message.into_bytes()).await;
        sent?;
        buf.clear();
        let reply = uringo::time::timeout(Duration::from_secs(1), conn.recv(buf)).await;
        let Ok((n, returned)) = reply else {
            eprintln!("no echo from {addr} within a second");
            return Err(io::ErrorKind::TimedOut.into());
        };
        let n = n?;
        println!("{}", String::from_utf8_lossy(&returned[..n]));
        buf = returned;
    }
    Ok(())
}
