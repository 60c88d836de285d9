//! Invariant 1: kernel-owned memory outlives the future, and an fd produced
//! for a cancelled accept or connect is closed, never leaked.
//!
//! Buffer lifetimes are observed through an `Arc` inside the buffer; fd
//! leaks through /proc/self/fd counts. Every test takes `fd_lock` because
//! the harness runs the tests of this binary on parallel threads.

mod support;

use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::task::Context;
use std::time::Duration;

use support::{
    builders, fd_lock, flag_waker, full_listener, on_each_builder, open_fds, ops_in_flight,
    poll_once, tcp_pair, tick_until, within, ArcBuf,
};
use uringo::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn dropped_pending_read_keeps_its_buffer_until_the_cancel_cqe() {
    let _fds = fd_lock();
    within(LIMIT, "dropped read", || {
        for (name, builder) in builders() {
            let rt = builder.build().unwrap();
            rt.block_on(async {
                let (client, server) = tcp_pair();
                let base = ops_in_flight();
                let token = Arc::new(());
                let mut read = Box::pin(server.read(ArcBuf::new(64, &token)));
                assert!(
                    poll_once(&mut read).await.is_pending(),
                    "{name}: nothing was sent yet"
                );
                // One trip through the ring: the recv is now armed in the kernel.
                uringo::op::nop().await.unwrap();
                drop(read);
                if support::on_epoll() {
                    // Nothing of it was in the kernel: freed at once.
                    assert_eq!(Arc::strong_count(&token), 1, "{name}: buffer kept");
                    assert_eq!(ops_in_flight(), base, "{name}");
                } else {
                    orphaned_read_outlives_its_future(name, &token, base).await;
                }

                // The cancelled recv took nothing: later bytes reach the next read.
                let (res, _) = client.write_all(b"after".to_vec()).await;
                res.unwrap();
                let (n, buf) = server.read(vec![0u8; 16]).await;
                assert_eq!(&buf[..n.unwrap()], b"after", "{name}");
            });
        }
    });
}

/// io_uring: the dropped read's buffer stays in the op table until the
/// cancel's CQE, then both are freed.
async fn orphaned_read_outlives_its_future(name: &str, token: &Arc<()>, base: u64) {
    assert_eq!(
        Arc::strong_count(token),
        2,
        "{name}: buffer freed while the kernel may write it"
    );
    assert_eq!(
        ops_in_flight(),
        base + 1,
        "{name}: the orphaned op must stay in the table"
    );
    tick_until(100, name, || Arc::strong_count(token) == 1).await;
    assert_eq!(
        ops_in_flight(),
        base,
        "{name}: slot not freed at the last CQE"
    );
}

#[test]
fn read_completed_then_dropped_before_repoll_frees_buffer_and_slot_at_drop() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "completed then dropped", |name| async move {
        let (client, server) = tcp_pair();
        let base = ops_in_flight();
        let token = Arc::new(());
        let mut read = Box::pin(server.read(ArcBuf::new(64, &token)));
        let (waker, flag) = flag_waker();
        assert!(read
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        let (res, _) = client.write_all(b"lost".to_vec()).await;
        res.unwrap();
        tick_until(100, name, || flag.woken()).await;
        assert_eq!(
            Arc::strong_count(&token),
            2,
            "{name}: the future still owns its buffer"
        );
        drop(read);
        assert_eq!(
            Arc::strong_count(&token),
            1,
            "{name}: a completed op's buffer is released at drop"
        );
        assert_eq!(
            ops_in_flight(),
            base,
            "{name}: a completed op's slot is freed at drop"
        );
    });
}

/// How a round of the accept test ends the listener's life.
#[derive(Clone, Copy, Debug)]
enum AcceptEnd {
    /// No connection: the accept is cancelled while waiting.
    Idle,
    /// A connection was accepted by the kernel and reaped, never delivered.
    Reaped,
    /// A connection arrives just as the listener is dropped.
    Racing,
    /// A burst of connections, some accepted, the rest in flight.
    Burst,
}

#[test]
fn dropped_listener_closes_every_fd_its_accepts_produced() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "cancelled accept", |name| async move {
        let base = ops_in_flight();
        let ends = [
            AcceptEnd::Idle,
            AcceptEnd::Reaped,
            AcceptEnd::Racing,
            AcceptEnd::Burst,
        ];
        for round in 0..40 {
            let end = ends[round % ends.len()];
            let what = format!("{name}, round {round} ({end:?})");
            let before = open_fds();
            let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = listener.local_addr().unwrap();
            let mut clients = Vec::new();
            {
                let mut accept = Box::pin(listener.accept());
                match end {
                    AcceptEnd::Idle => {
                        assert!(poll_once(&mut accept).await.is_pending());
                        uringo::op::nop().await.unwrap();
                    }
                    AcceptEnd::Reaped => {
                        let (waker, flag) = flag_waker();
                        assert!(accept
                            .as_mut()
                            .poll(&mut Context::from_waker(&waker))
                            .is_pending());
                        clients.push(std::net::TcpStream::connect(addr).unwrap());
                        tick_until(100, &what, || flag.woken()).await;
                    }
                    AcceptEnd::Racing => {
                        assert!(poll_once(&mut accept).await.is_pending());
                        uringo::op::nop().await.unwrap();
                        clients.push(std::net::TcpStream::connect(addr).unwrap());
                    }
                    AcceptEnd::Burst => {
                        clients.push(std::net::TcpStream::connect(addr).unwrap());
                        let (stream, _) = accept.await.unwrap();
                        drop(stream);
                        clients.extend((0..5).map(|_| std::net::TcpStream::connect(addr).unwrap()));
                        uringo::op::nop().await.unwrap();
                        let mut again = Box::pin(listener.accept());
                        let _ = poll_once(&mut again).await;
                    }
                }
            }
            drop(listener);
            drop(clients);
            tick_until(100, &what, || ops_in_flight() == base).await;
            assert_eq!(open_fds(), before, "{what}: fds leaked");
        }
    });
}

#[test]
fn cancelled_connect_closes_its_socket() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "cancelled connect", |name| async move {
        let base = ops_in_flight();
        let (listener, filler, addr) = full_listener();
        let before = open_fds();
        let mut connect = Box::pin(TcpStream::connect(addr));
        assert!(poll_once(&mut connect).await.is_pending(), "{name}");
        uringo::op::nop().await.unwrap();
        uringo::op::nop().await.unwrap();
        assert!(
            poll_once(&mut connect).await.is_pending(),
            "{name}: the accept queue is full, connect must hang"
        );
        assert_eq!(open_fds(), before + 1, "{name}: the connecting socket");
        drop(connect);
        tick_until(100, name, || ops_in_flight() == base).await;
        assert_eq!(
            open_fds(),
            before,
            "{name}: the cancelled connect leaked its socket"
        );
        drop((listener, filler));

        // Connects that complete around the moment they are dropped.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let before = open_fds();
        for round in 0..30 {
            let mut connect = Box::pin(TcpStream::connect(addr));
            let _ = poll_once(&mut connect).await;
            if round % 2 == 1 {
                uringo::op::nop().await.unwrap();
            }
            drop(connect);
        }
        tick_until(100, name, || ops_in_flight() == base).await;
        // Accept and drop what reached the listener, then count.
        listener.set_nonblocking(true).unwrap();
        while listener.accept().is_ok() {}
        assert_eq!(
            open_fds(),
            before,
            "{name}: cancelled connects leaked sockets"
        );
    });
}

#[test]
fn dropped_stream_with_recv_in_flight_gives_back_its_buffers_and_fd() {
    let _fds = fd_lock();
    within(LIMIT, "dropped recv", || {
        for (name, builder) in builders() {
            // Few buffers: losing one per round would exhaust the ring.
            let rt = builder.recv_buffers(8, 4096).build().unwrap();
            rt.block_on(async {
                let base = ops_in_flight();
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let before = open_fds();
                for round in 0..20 {
                    let mut client = std::net::TcpStream::connect(addr).unwrap();
                    let server = TcpStream::from_std(listener.accept().unwrap().0);
                    let mut recv = Box::pin(server.recv());
                    assert!(poll_once(&mut recv).await.is_pending());
                    client.write_all(&[7u8; 3000]).unwrap();
                    if round % 2 == 1 {
                        uringo::op::nop().await.unwrap();
                    }
                    drop(recv);
                    drop(server);
                }
                tick_until(100, name, || ops_in_flight() == base).await;
                assert_eq!(
                    open_fds(),
                    before,
                    "{name}: sockets of dropped streams leaked"
                );

                // Every provided buffer came back: one stream can cycle through all of them.
                let mut client = std::net::TcpStream::connect(addr).unwrap();
                let server = TcpStream::from_std(listener.accept().unwrap().0);
                let sender = std::thread::spawn(move || client.write_all(&vec![1u8; 256 * 1024]));
                let mut got = 0;
                while got < 256 * 1024 {
                    let buf = uringo::time::timeout(Duration::from_secs(10), server.recv()).await;
                    got += buf
                        .expect("recv stalled: buffers lost")
                        .unwrap()
                        .unwrap()
                        .len();
                }
                sender.join().unwrap().unwrap();
            });
        }
    });
}
