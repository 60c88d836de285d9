//! `write_behind`: a received buffer sent back without the task waiting for
//! the send. Its bytes arrive whole and in order (back-to-back sends wait
//! for each other, short sends are finished), its buffer returns to the
//! ring, a failed send is returned by the stream's next recv, and `close`
//! waits for a send in flight. Run on every backend and fallback.

mod support;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::task::Poll;
use std::time::Duration;

use support::{builders, poll_once, within};
use uringo::net::TcpStream;

/// A connected pair: a std client and the runtime's server side, whose send
/// buffer is `sndbuf` bytes (small, so sends come back short).
fn pair(sndbuf: usize) -> (std::net::TcpStream, TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    socket2::SockRef::from(&server)
        .set_send_buffer_size(sndbuf)
        .unwrap();
    (client, TcpStream::from_std(server))
}

/// Runs `f` on each builder, with a ring of only 4 receive buffers of 256
/// bytes: a buffer not given back after its send would stall the receives.
fn on_each_small_ring<Fut: std::future::Future<Output = ()>>(
    what: &'static str,
    f: impl Fn(&'static str) -> Fut + Send + 'static,
) {
    within(Duration::from_secs(60), what, move || {
        for (name, builder) in builders() {
            let rt = builder.recv_buffers(4, 256).build().unwrap();
            rt.block_on(f(name));
        }
    });
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// 1 MiB through 4 ring buffers, echoed two buffers back to back at a time
/// into a 4 KiB send buffer: every byte comes back in order, so the second
/// send waited for the first, short sends were finished, and every buffer
/// went back to the ring (4,096 receives from 4 buffers).
#[test]
fn back_to_back_write_behind_sends_keep_every_byte_in_order() {
    const TOTAL: usize = 1 << 20;
    on_each_small_ring("back-to-back write_behind", |name| async move {
        let (mut client, server) = pair(4096);
        let mut reader = client.try_clone().unwrap();
        let writer = std::thread::spawn(move || client.write_all(&pattern(TOTAL)).unwrap());
        let checker = std::thread::spawn(move || {
            let mut got = vec![0u8; TOTAL];
            reader.read_exact(&mut got).unwrap();
            got == pattern(TOTAL)
        });
        let (mut echoed, mut held) = (0, Vec::new());
        while echoed < TOTAL {
            let buf = server.recv().await.unwrap().expect("end of stream early");
            echoed += buf.len();
            held.push(buf);
            if held.len() == 2 || echoed == TOTAL {
                for buf in held.drain(..) {
                    server.write_behind(buf).await.unwrap();
                }
            }
        }
        server.close().await.unwrap();
        writer.join().unwrap();
        assert!(checker.join().unwrap(), "{name}: echoed bytes differ");
    });
}

/// A send that fails (the server shut its write side) is returned by the
/// stream's next send, once; receiving goes on meanwhile, and the failed
/// send's slot is freed.
#[test]
fn a_failed_write_behind_send_is_returned_by_the_next_send() {
    on_each_small_ring("failed write_behind", |name| async move {
        let (mut client, server) = pair(4096);
        client.write_all(b"one").unwrap();
        let buf = server.recv().await.unwrap().unwrap();
        let ops = support::ops_in_flight();
        let behind = has_ring(name);
        server.shutdown(Shutdown::Write).unwrap();
        let sent = server.write_behind(buf).await;
        if behind {
            sent.unwrap_or_else(|e| panic!("{name}: write_behind did not go behind: {e}"));
            client.write_all(b"two").unwrap();
            let next = server.recv().await.unwrap().unwrap();
            assert_eq!(&next[..], b"two", "{name}");
            let err = server
                .write_behind(next)
                .await
                .expect_err("the first send's failure");
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{name}");
            // Taken once: the next send is a new one (and fails on its own).
            let (again, _) = server.write(b"three".to_vec()).await;
            assert_eq!(
                again.unwrap_err().kind(),
                std::io::ErrorKind::BrokenPipe,
                "{name}"
            );
        } else {
            let err = sent.expect_err("a send after shutdown(Write)");
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{name}");
        }
        assert_eq!(support::ops_in_flight(), ops, "{name}: a slot left behind");
    });
}

/// With the peer not reading, a write-behind send stays in flight: the next
/// `write_behind` waits for it (it is dropped, its bytes not sent), and so
/// does `close`; once the peer reads, the close goes on and the peer gets
/// exactly the bytes sent before the stall, then end of stream.
#[test]
fn close_waits_for_a_write_behind_send_in_flight() {
    const TOTAL: usize = 256 * 1024;
    on_each_small_ring("close after write_behind", |name| async move {
        let (mut reader, writer, server) = unread_pair(TOTAL);
        let sent = echo_until_stalled(&server, TOTAL, name).await;
        let mut close = Box::pin(server.close());
        let first = poll_once(&mut close).await;
        let waited = first.is_pending();
        let reading = std::thread::spawn(move || {
            let mut got = Vec::new();
            reader.read_to_end(&mut got).map(|_| got)
        });
        match first {
            Poll::Ready(closed) => closed.unwrap(),
            Poll::Pending => close.await.unwrap(),
        }
        let got = reading.join().unwrap().unwrap();
        writer.join().unwrap();
        assert!(got == pattern(got.len()), "{name}: echoed bytes differ");
        if has_ring(name) {
            assert!(waited, "{name}: close did not wait for the send in flight");
            assert_eq!(got.len(), sent, "{name}: bytes echoed before the stall");
        } else {
            // write_all's send, dropped while in flight, may have sent part.
            assert!(got.len() >= sent, "{name}");
        }
    });
}

/// A pair whose client sends `total` bytes (from a thread) and reads
/// nothing until the test reads from the returned clone; both its receive
/// and the server's send buffer are small, so the server's sends stall.
fn unread_pair(total: usize) -> (std::net::TcpStream, std::thread::JoinHandle<()>, TcpStream) {
    let (mut client, server) = pair(4096);
    socket2::SockRef::from(&client)
        .set_recv_buffer_size(4096)
        .unwrap();
    let reader = client.try_clone().unwrap();
    let writer = std::thread::spawn(move || client.write_all(&pattern(total)).unwrap());
    (reader, writer, server)
}

/// Receives `total` bytes, sending each buffer back with `write_behind`
/// until one waits for the previous send (the peer does not read); the rest
/// is dropped. Returns the bytes sent.
async fn echo_until_stalled(server: &TcpStream, total: usize, name: &str) -> usize {
    let (mut received, mut sent, mut stalled) = (0, 0, false);
    while received < total {
        let buf = server.recv().await.unwrap().expect("end of stream early");
        received += buf.len();
        if stalled {
            continue; // dropped: given back to the ring unsent
        }
        let len = buf.len();
        let mut next = Box::pin(server.write_behind(buf));
        match poll_once(&mut next).await {
            Poll::Ready(result) => {
                result.unwrap();
                sent += len;
            }
            // The previous send is in flight, waiting for the peer to read.
            Poll::Pending => stalled = true,
        }
    }
    assert!(stalled, "{name}: no send ever waited for the peer");
    sent
}

/// Dropping the runtime with a write-behind send in flight (its peer not
/// reading, its stream in a task that never ends) cancels the send and
/// frees its slot and socket: the drop is quick, and the peer sees the
/// connection end.
#[test]
fn runtime_drop_ends_a_write_behind_send_in_flight() {
    const TOTAL: usize = 256 * 1024;
    within(
        Duration::from_secs(60),
        "runtime drop with write_behind",
        || {
            for (name, builder) in builders() {
                let rt = builder.recv_buffers(4, 256).build().unwrap();
                let (mut reader, writer, server) = unread_pair(TOTAL);
                rt.block_on(async move {
                    echo_until_stalled(&server, TOTAL, name).await;
                    // Detached: the task (and the stream) live until the runtime drops.
                    drop(uringo::spawn(async move {
                        std::future::pending::<()>().await;
                        drop(server);
                    }));
                });
                writer.join().unwrap();
                let start = std::time::Instant::now();
                drop(rt);
                let took = start.elapsed();
                assert!(took < Duration::from_secs(2), "{name}: drop took {took:?}");
                // Bounds the read only: the socket is closed by now.
                reader
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut got = Vec::new();
                match reader.read_to_end(&mut got) {
                    Ok(_) => {}
                    Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{name}"),
                }
            }
        },
    );
}

/// Whether the builder named `name` hands out provided ring buffers (the
/// ones `write_behind` sends from without its task).
fn has_ring(name: &str) -> bool {
    !matches!(
        name,
        "no-multishot" | "no-provided-buffers" | "all-fallbacks" | "epoll"
    )
}
