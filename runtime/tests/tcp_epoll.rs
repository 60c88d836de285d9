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
                // The read waits (registering the fd) before the bytes come,
                // so only a readiness event can wake it.
                let mut read = Box::pin(stream.read(vec![0; 8]));
                let (waker, woken) = flag_waker();
                let mut cx = Context::from_waker(&waker);
                assert!(read.as_mut().poll(&mut cx).is_pending(), "nothing sent yet");
                client.write_all(&[round]).unwrap();
                tick_until(1000, "readiness of a reused fd", || woken.woken()).await;
                let (n, buf) = read.await;
                assert_eq!(&buf[..n.unwrap()], &[round]);
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
