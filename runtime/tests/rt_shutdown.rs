//! Invariant 7: dropping a runtime with ops in flight cancels its tasks,
//! drains every ring and frees everything, without leaking fds and without
//! freeing memory the kernel may still write.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{builders, fd_lock, full_listener, open_fds, tcp_pair, within, ArcBuf};
use uringo::net::{TcpListener, TcpStream};

/// Counts the futures dropped (cancelled) at shutdown.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

const READS: usize = 20;
const RECVS: usize = 5;
const SLEEPS: usize = 5;
/// Tasks `park_work` spawns on each core.
const TASKS_PER_CORE: usize = READS + RECVS + SLEEPS + 2;

/// Spawns on the current core tasks that each keep an op in flight (a read
/// with an `ArcBuf`, a multishot recv, a sleep, an accept, a connect that
/// cannot complete) and never finish, plus one that keeps the peers open.
async fn park_work(token: Arc<()>, dropped: Arc<AtomicUsize>, full: SocketAddr) -> usize {
    let mut peers = Vec::new();
    for _ in 0..READS {
        let (client, server) = tcp_pair();
        let guard = DropGuard(dropped.clone());
        let buf = ArcBuf::new(4096, &token);
        uringo::spawn(async move {
            let _guard = guard;
            let (res, _) = server.read(buf).await;
            panic!("read completed during the test: {res:?}");
        });
        peers.push(client);
    }
    for _ in 0..RECVS {
        let (client, server) = tcp_pair();
        let guard = DropGuard(dropped.clone());
        uringo::spawn(async move {
            let _guard = guard;
            let got = server.recv().await;
            panic!("recv completed during the test: {got:?}");
        });
        peers.push(client);
    }
    for _ in 0..SLEEPS {
        let guard = DropGuard(dropped.clone());
        uringo::spawn(async move {
            let _guard = guard;
            uringo::time::sleep(Duration::from_secs(3600)).await;
        });
    }
    let guard = DropGuard(dropped.clone());
    uringo::spawn(async move {
        let _guard = guard;
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let _ = listener.accept().await;
        panic!("nobody connects to this listener");
    });
    let guard = DropGuard(dropped.clone());
    uringo::spawn(async move {
        let _guard = guard;
        let _ = TcpStream::connect(full).await;
        panic!("connect to a full accept queue completed");
    });
    // One trip through the ring: every op above is now in the kernel.
    uringo::op::nop().await.unwrap();
    let in_flight = uringo::stats().ops_in_flight as usize;
    if support::on_epoll() {
        assert_eq!(in_flight, 0, "epoll puts nothing in the kernel");
    } else {
        assert!(in_flight >= READS + RECVS + 2, "ops not in flight");
    }
    let count = peers.len();
    uringo::spawn(async move {
        let _peers = peers;
        std::future::pending::<()>().await
    });
    count
}

#[test]
fn dropping_a_runtime_with_ops_in_flight_frees_everything() {
    let _fds = fd_lock();
    within(Duration::from_secs(60), "runtime drop", || {
        for (name, builder) in builders() {
            let before = open_fds();
            let (full, filler, full_addr) = full_listener();
            let token = Arc::new(());
            let dropped = Arc::new(AtomicUsize::new(0));
            let rt = builder.build().unwrap();

            let (t, d) = (token.clone(), dropped.clone());
            let remote = rt.spawn_on(1, move || park_work(t, d, full_addr));
            let (t, d) = (token.clone(), dropped.clone());
            let (peers, remote_peers, never) = rt.block_on(async move {
                let peers = park_work(t, d, full_addr).await;
                let remote_peers = remote.await;
                // A task awaiting a task of the other core.
                let never = uringo::spawn_on(1, std::future::pending::<()>);
                let waiter = uringo::spawn(never);
                uringo::op::nop().await.unwrap();
                (peers, remote_peers, waiter)
            });
            assert_eq!(
                (peers, remote_peers),
                (READS + RECVS, READS + RECVS),
                "{name}"
            );
            assert!(
                Arc::strong_count(&token) > 2 * READS,
                "{name}: reads hold their buffers"
            );
            assert!(!never.is_finished());

            let start = Instant::now();
            drop(rt);
            let took = start.elapsed();
            assert!(
                took < Duration::from_secs(2),
                "{name}: drop took {took:?} (ops never drained?)"
            );
            assert_eq!(
                Arc::strong_count(&token),
                1,
                "{name}: buffers of in-flight reads not freed"
            );
            assert_eq!(
                dropped.load(Ordering::SeqCst),
                2 * TASKS_PER_CORE,
                "{name}: tasks not cancelled"
            );
            assert!(
                never.is_finished(),
                "{name}: a cancelled task's handle must report it finished"
            );
            drop((never, full, filler));
            assert_eq!(
                open_fds(),
                before,
                "{name}: fds leaked (rings, eventfds, sockets)"
            );
        }
    });
}

/// A task whose drop spawns another task: shutdown cancels that one too.
#[test]
fn tasks_spawned_while_shutdown_cancels_are_cancelled_too() {
    let _fds = fd_lock();
    within(Duration::from_secs(30), "spawn during shutdown", || {
        struct SpawnOnDrop(Arc<AtomicUsize>, usize);
        impl Drop for SpawnOnDrop {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
                if self.1 > 0 {
                    let next = SpawnOnDrop(self.0.clone(), self.1 - 1);
                    uringo::spawn(async move {
                        let _next = next;
                        std::future::pending::<()>().await
                    });
                }
            }
        }
        let dropped = Arc::new(AtomicUsize::new(0));
        let rt = uringo::Builder::new().cores(1).pin(false).build().unwrap();
        let d = dropped.clone();
        rt.block_on(async move {
            uringo::spawn(async move {
                let _chain = SpawnOnDrop(d, 10);
                std::future::pending::<()>().await
            });
            uringo::yield_now().await;
        });
        drop(rt);
        assert_eq!(dropped.load(Ordering::SeqCst), 11);
    });
}
