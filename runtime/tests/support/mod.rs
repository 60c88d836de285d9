//! Shared helpers for the runtime's integration tests.
#![allow(dead_code)]

pub mod stalls;

use std::net::SocketAddr;
use std::rc::Rc;

use uringo::net::{TcpListener, TcpStream};

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Builders for every backend and fallback combination the TCP tests run
/// under: io_uring with each of its fallbacks forced, and epoll.
pub fn builders() -> Vec<(&'static str, uringo::Builder)> {
    let base = || {
        uringo::Builder::new()
            .cores(2)
            .pin(false)
            .backend(uringo::Backend::IoUring)
    };
    vec![
        ("default", base()),
        ("no-multishot", base().multishot(false)),
        ("no-provided-buffers", base().provided_buffers(false)),
        ("no-defer-taskrun", base().defer_taskrun(false)),
        ("no-msg-ring", base().msg_ring(false)),
        ("no-fixed-files", base().fixed_files(0)),
        (
            "all-fallbacks",
            base()
                .multishot(false)
                .provided_buffers(false)
                .defer_taskrun(false)
                .msg_ring(false)
                .fixed_files(0),
        ),
        ("epoll", base().backend(uringo::Backend::Epoll)),
    ]
}

/// Whether the current core runs on epoll (where nothing of an op is ever
/// in the kernel, so the io_uring lifetime checks do not apply).
pub fn on_epoll() -> bool {
    uringo::features().backend == uringo::Backend::Epoll
}

/// Spawns an echo server on the current core: every chunk `recv` yields is
/// written back as is. Returns its address.
pub fn spawn_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    uringo::spawn(async move {
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                continue;
            };
            uringo::spawn(echo_conn(Rc::new(conn)));
        }
    });
    addr
}

pub async fn echo_conn(conn: Rc<TcpStream>) {
    while let Ok(Some(bytes)) = conn.recv().await {
        let (res, _) = conn.write_all(bytes).await;
        if res.is_err() {
            return;
        }
    }
}

/// Number of open fds of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Runs `f` (which builds and drives its own runtime) on a fresh thread and
/// fails the test if it has not finished within `limit`: a lost wakeup or a
/// starved core shows up as a failure instead of a hung test run.
pub fn within<T: Send + 'static>(
    limit: std::time::Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let out = f();
        let _ = done_tx.send(());
        out
    });
    match done_rx.recv_timeout(limit) {
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: not finished after {limit:?}")
        }
        _ => match thread.join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        },
    }
}

/// Serialises the tests of one binary that count open fds (the test
/// harness runs tests on parallel threads of one process).
pub fn fd_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Drives the ring (one NOP round trip at a time) until `done()` holds;
/// panics after `rounds` trips. Each trip is one io_uring_enter, so this
/// waits for completions without sleeping.
pub async fn tick_until(rounds: usize, what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..rounds {
        if done() {
            return;
        }
        uringo::op::nop().await.unwrap();
    }
    assert!(
        done(),
        "{what}: still not true after {rounds} trips through the ring"
    );
}

/// Ops in the current core's ring.
pub fn ops_in_flight() -> u64 {
    uringo::stats().ops_in_flight
}

/// Polls `fut` once with the current task's waker.
pub async fn poll_once<F: std::future::Future + Unpin>(fut: &mut F) -> std::task::Poll<F::Output> {
    std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut *fut).poll(cx))).await
}

/// A waker that only records that it was woken (from any thread).
pub struct FlagWaker(pub std::sync::atomic::AtomicBool);

impl std::task::Wake for FlagWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A waker that records being woken, and the flag to read it back.
pub fn flag_waker() -> (std::task::Waker, std::sync::Arc<FlagWaker>) {
    let flag = std::sync::Arc::new(FlagWaker(std::sync::atomic::AtomicBool::new(false)));
    (std::task::Waker::from(flag.clone()), flag)
}

impl FlagWaker {
    pub fn woken(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A read buffer carrying an `Arc` token: the token's strong count tells a
/// test whether the buffer is still alive (e.g. kept by the op table after
/// its future was dropped).
pub struct ArcBuf {
    pub bytes: Vec<u8>,
    pub token: std::sync::Arc<()>,
}

impl ArcBuf {
    pub fn new(capacity: usize, token: &std::sync::Arc<()>) -> ArcBuf {
        ArcBuf {
            bytes: Vec::with_capacity(capacity),
            token: token.clone(),
        }
    }
}

// SAFETY: the bytes live in the Vec's heap allocation, which moves only on
// reallocation, and nothing here reallocates.
unsafe impl uringo::buf::IoBuf for ArcBuf {
    fn stable_ptr(&self) -> *const u8 {
        self.bytes.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.bytes.len()
    }
}

// SAFETY: as for IoBuf; the Vec's whole capacity is writable and set_init
// only grows the length over bytes the kernel wrote.
unsafe impl uringo::buf::IoBufMut for ArcBuf {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.bytes.as_mut_ptr()
    }
    fn bytes_total(&mut self) -> usize {
        self.bytes.capacity()
    }
    /// # Safety
    /// The trait's contract: the first `n` bytes were written.
    unsafe fn set_init(&mut self, n: usize) {
        if self.bytes.len() < n {
            // SAFETY: the caller promises the first n bytes were written.
            unsafe { self.bytes.set_len(n) };
        }
    }
}

/// A connected pair (client, server side), made with std calls so that no
/// op of the ring is involved in setting it up.
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (TcpStream::from_std(client), TcpStream::from_std(server))
}

/// Runs the future `f(name)` builds on a fresh runtime of every builder of
/// [`builders`], all within `limit`.
pub fn on_each_builder<F, Fut>(limit: std::time::Duration, what: &'static str, f: F)
where
    F: Fn(&'static str) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    within(limit, what, move || {
        for (name, builder) in builders() {
            let rt = builder.build().unwrap();
            rt.block_on(f(name));
        }
    });
}

/// A runtime of `cores` unpinned cores (tests share the machine), on the
/// default backend (`URINGO_BACKEND` picks it).
pub fn runtime(cores: usize) -> uringo::Runtime {
    uringo::Builder::new()
        .cores(cores)
        .pin(false)
        .build()
        .expect("runtime")
}

/// A listener whose accept queue is full: further SYNs are dropped, so a
/// connect to it stays in flight (retransmitting) until cancelled. Keep all
/// three values alive for as long as the queue must stay full.
pub fn full_listener() -> (socket2::Socket, std::net::TcpStream, SocketAddr) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let filler = std::net::TcpStream::connect(addr).unwrap();
    (socket, filler, addr)
}
