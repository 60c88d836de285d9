//! `write_behind`: sends nobody awaits still go out whole and in order,
//! return their buffers, and report a failure to the next call.

mod support;

use std::rc::Rc;
use std::time::Duration;

use support::{builders, within, Rng};
use uringo::net::{TcpListener, TcpStream};

/// Byte `i` of the stream a writer sends.
fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 8)) as u8
}

#[test]
fn write_behinds_arrive_whole_and_in_order() {
    for (name, builder) in builders() {
        within(Duration::from_secs(60), name, move || {
            let rt = builder.build().unwrap();
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
                let addr = listener.local_addr().unwrap();
                // A small send buffer makes sends short, so the kernel has
                // to finish each one (MSG_WAITALL) for no byte to be lost.
                let std_stream = std::net::TcpStream::connect(addr).unwrap();
                socket2::SockRef::from(&std_stream)
                    .set_send_buffer_size(4096)
                    .unwrap();
                let stream = TcpStream::from_std(std_stream);
                let writer = uringo::spawn(async move {
                    let mut rng = Rng::new(7);
                    let mut at = 0;
                    // Sizes up to 128 KiB fill the socket buffer, so some sends
                    // wait in the kernel while the next one is queued behind.
                    for _ in 0..40 {
                        let len = 1 + rng.below(128 * 1024) as usize;
                        let chunk: Vec<u8> = (at..at + len).map(pattern).collect();
                        stream.write_behind(chunk).await.unwrap();
                        at += len;
                    }
                    stream.flush().await.unwrap();
                    stream.close().await.unwrap();
                    at
                });
                let (reader, _) = listener.accept().await.unwrap();
                let mut got = 0;
                while let Some(buf) = reader.recv().await.unwrap() {
                    for (k, &b) in buf.iter().enumerate() {
                        assert_eq!(b, pattern(got + k), "{name}: byte {} differs", got + k);
                    }
                    got += buf.len();
                }
                assert_eq!(got, writer.await, "{name}: bytes lost");
            });
        });
    }
}

#[test]
fn echo_through_write_behind_returns_every_buffer() {
    for (name, builder) in builders() {
        // Few buffers: one kept by a finished send would stall the echo.
        let builder = builder.recv_buffers(16, 4096);
        within(Duration::from_secs(60), name, move || {
            let rt = builder.build().unwrap();
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
                let addr = listener.local_addr().unwrap();
                uringo::spawn(async move {
                    let (conn, _) = listener.accept().await.unwrap();
                    while let Ok(Some(buf)) = conn.recv().await {
                        if conn.write_behind(buf).await.is_err() {
                            return;
                        }
                    }
                });
                let client = Rc::new(TcpStream::connect(addr).await.unwrap());
                for i in 0..300u32 {
                    let msg = i.to_le_bytes().repeat(16);
                    let (res, _) = client.write_all(msg.clone()).await;
                    res.unwrap();
                    let (res, back) = client.read_exact(vec![0u8; msg.len()]).await;
                    res.unwrap();
                    assert_eq!(back, msg, "{name}: echo {i}");
                }
            });
        });
    }
}

#[test]
fn a_failed_write_behind_is_reported_by_the_next_call() {
    for (name, builder) in builders() {
        within(Duration::from_secs(60), name, move || {
            let rt = builder.build().unwrap();
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
                let addr = listener.local_addr().unwrap();
                let stream = TcpStream::connect(addr).await.unwrap();
                let (peer, _) = listener.accept().await.unwrap();
                // Reset by the peer: later sends fail with ECONNRESET or EPIPE.
                peer.set_linger(Some(Duration::ZERO)).unwrap();
                drop(peer);
                let mut failed = None;
                for _ in 0..1_000 {
                    if let Err(e) = stream.write_behind(vec![1u8; 1024]).await {
                        failed = Some(e);
                        break;
                    }
                }
                let e = match failed {
                    Some(e) => e,
                    None => stream
                        .flush()
                        .await
                        .expect_err("writes to a reset peer succeeded"),
                };
                assert!(
                    matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                    ),
                    "{name}: {e}"
                );
            });
        });
    }
}
