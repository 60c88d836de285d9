//! The epoll backend's own hazards: an fd number reused after close must be
//! registered afresh, and readiness that came before the wait is not lost.

mod support;

use std::future::Future;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::task::Context;
use std::time::Duration;

use support::{flag_waker, tick_until, within};
use uringo::net::TcpStream;

fn epoll_runtime() -> uringo::Runtime {
    uringo::Builder::new()
        .cores(1)
        .pin(false)
        .backend(uringo::Backend::Epoll)
        .build()
        .unwrap()
}

/// A read that waits (registering the fd) before the bytes come, so that
/// only a readiness event can wake it.
async fn read_waits_for_readiness(stream: &TcpStream, client: &mut std::net::TcpStream, round: u8) {
    let mut read = Box::pin(stream.read(vec![0; 8]));
    let (waker, woken) = flag_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(read.as_mut().poll(&mut cx).is_pending(), "nothing sent yet");
    client.write_all(&[round]).unwrap();
    tick_until(1000, "readiness of a reused fd", || woken.woken()).await;
    let (n, buf) = read.await;
    assert_eq!(&buf[..n.unwrap()], &[round]);
}

#[test]
fn the_fd_of_a_failed_connect_is_forgotten_before_its_number_is_reused() {
    within(Duration::from_secs(30), "failed connect on epoll", || {
        epoll_runtime().block_on(async {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let refused = {
                let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                closed.local_addr().unwrap()
            };
            for round in 0..20u8 {
                let err = TcpStream::connect(refused)
                    .await
                    .expect_err("nobody listens");
                assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
                let mut client = std::net::TcpStream::connect(addr).unwrap();
                let stream = TcpStream::from_std(listener.accept().unwrap().0);
                read_waits_for_readiness(&stream, &mut client, round).await;
            }
        });
    });
}

#[test]
fn a_reused_fd_number_gets_its_own_readiness() {
    within(Duration::from_secs(30), "fd reuse on epoll", || {
        epoll_runtime().block_on(async {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let mut reused = 0;
            let mut last_fd = None;
            for round in 0..50u8 {
                let mut client = std::net::TcpStream::connect(addr).unwrap();
                let server = listener.accept().unwrap().0;
                let fd = server.as_raw_fd();
                reused += usize::from(last_fd == Some(fd));
                last_fd = Some(fd);
                let stream = TcpStream::from_std(server);
                read_waits_for_readiness(&stream, &mut client, round).await;
                if round % 2 == 0 {
                    stream.close().await.unwrap();
                } else {
                    drop(stream);
                }
            }
            assert!(
                reused > 10,
                "fd numbers were not reused ({reused}): nothing tested"
            );
        });
    });
}

#[test]
fn a_dropped_recv_loses_no_bytes_and_frees_its_pool_buffer() {
    within(Duration::from_secs(30), "dropped recv on epoll", || {
        let rt = uringo::Builder::new()
            .cores(1)
            .pin(false)
            .backend(uringo::Backend::Epoll)
            .recv_buffers(4, 16)
            .build()
            .unwrap();
        rt.block_on(async {
            let (mut client, server) = {
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
                (c, TcpStream::from_std(l.accept().unwrap().0))
            };
            let mut got = Vec::new();
            for round in 0..20u8 {
                // A recv dropped while it waits takes no byte and no buffer.
                let early = uringo::time::timeout(Duration::from_millis(1), server.recv()).await;
                assert!(early.is_err());
                client.write_all(&[round; 10]).unwrap();
                let buf = server.recv().await.unwrap().expect("data");
                assert!(buf.is_provided(), "recv lends the core's pool on epoll");
                got.extend_from_slice(&buf);
            }
            let want: Vec<u8> = (0..20u8).flat_map(|r| [r; 10]).collect();
            // Every buffer came back: 20 rounds through a pool of 4.
            assert_eq!(got, want);
        });
    });
}
