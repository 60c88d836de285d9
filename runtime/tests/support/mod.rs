//! Shared helpers for the runtime's integration tests.
#![allow(dead_code)]

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

/// Builders for every fallback combination the TCP tests run under.
pub fn builders() -> Vec<(&'static str, uringo::Builder)> {
    let base = || uringo::Builder::new().cores(2).pin(false);
    vec![
        ("default", base()),
        ("no-multishot", base().multishot(false)),
        ("no-provided-buffers", base().provided_buffers(false)),
        ("no-defer-taskrun", base().defer_taskrun(false)),
        ("no-msg-ring", base().msg_ring(false)),
    ]
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
