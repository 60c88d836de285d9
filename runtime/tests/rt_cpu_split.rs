//! `URINGO_CPU_SPLIT=1`: a core's thread CPU split into the part inside
//! io_uring_enter and the rest (user space), each going where the work
//! went. One test in this binary: it sets the variable for the process.

mod support;

use std::time::Duration;

use support::within;
use uringo::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(60);

/// What a core spent since `before`: (user ns, enter ns).
fn spent_since(before: &uringo::CoreStats) -> (u64, u64) {
    let now = uringo::stats();
    let user = now.user_cpu_ns().expect("split measured") - before.user_cpu_ns().unwrap();
    let enter = now.enter_cpu_ns.unwrap() - before.enter_cpu_ns.unwrap();
    (user, enter)
}

/// Burns `ns` of this thread's CPU in user space.
fn spin_cpu(ns: u64) {
    let start = uringo::stats().thread_cpu_ns;
    let mut x = 1u64;
    while uringo::stats().thread_cpu_ns - start < ns {
        for _ in 0..10_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

/// Pushes `total` bytes through a loopback TCP connection on this core in
/// 1 MiB sends and reads: the kernel copies every byte twice, inside the
/// ring's enters, for a handful of ops per MiB.
async fn copy_through_kernel(total: usize) {
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let reader = uringo::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut buf = Vec::with_capacity(1 << 20);
        let mut got = 0;
        while got < total {
            let (n, back) = stream.read(buf).await;
            let n = n.unwrap();
            assert!(n > 0, "peer closed after {got} bytes");
            got += n;
            buf = back;
            buf.clear();
        }
    });
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut chunk = vec![7u8; 1 << 20];
    for _ in 0..total >> 20 {
        let (result, back) = stream.write_all(chunk).await;
        result.unwrap();
        chunk = back;
    }
    reader.await;
}

#[test]
fn enter_cpu_and_user_cpu_go_where_the_work_went() {
    std::env::set_var("URINGO_CPU_SPLIT", "1");
    within(LIMIT, "cpu split", || {
        let rt = uringo::Builder::new()
            .cores(1)
            .pin(false)
            .backend(uringo::Backend::IoUring)
            .build()
            .unwrap();
        rt.block_on(async {
            let before = uringo::stats();
            assert!(before.enter_cpu_ns.is_some(), "URINGO_CPU_SPLIT=1 measures");
            spin_cpu(100_000_000);
            let (user, enter) = spent_since(&before);
            assert!(
                user >= 100_000_000,
                "a spin of 100 ms is user CPU: {user} ns"
            );
            assert!(
                enter < user / 10,
                "a spin spends nothing in enter: {enter} ns of {user}"
            );

            let before = uringo::stats();
            copy_through_kernel(256 << 20).await;
            let (user, enter) = spent_since(&before);
            assert!(
                enter > user,
                "copying 256 MiB through the kernel is enter CPU: {enter} ns, user {user} ns"
            );
        });

        let epoll = uringo::Builder::new()
            .cores(1)
            .pin(false)
            .backend(uringo::Backend::Epoll)
            .build()
            .unwrap();
        epoll.block_on(async {
            let stats = uringo::stats();
            assert_eq!(stats.enter_cpu_ns, None, "epoll does not measure it");
            assert!(stats.thread_cpu_ns > 0, "the thread clock is read anyway");
        });
    });
}
