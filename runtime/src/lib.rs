//! # uringo
//!
//! A thread-per-core runtime on io_uring with goroutine-like tasks.
//!
//! - One thread per core, pinned, each with its own io_uring. Cores share
//!   nothing by default; tasks never migrate.
//! - [`spawn`] starts a task (Go's `go f()`): one allocation, and its
//!   future need not be `Send`. A task waiting on I/O, a timer or another
//!   task is parked until its completion arrives; its siblings keep running.
//! - [`spawn_on`] runs work on another core; wakers work from any thread.
//! - I/O is completion-based with owned buffers: `let (res, buf) =
//!   stream.read(buf).await`. Dropping an I/O future early is always safe:
//!   the op is cancelled in the kernel and its buffer is kept until the
//!   kernel lets go.
//!
//! ```
//! use std::time::Duration;
//!
//! uringo::start(async {
//!     // A goroutine printing while main sleeps.
//!     let greeter = uringo::spawn(async {
//!         for i in 0..3 {
//!             println!("hello from a task ({i})");
//!             uringo::time::sleep(Duration::from_millis(1)).await;
//!         }
//!         "done"
//!     });
//!     uringo::time::sleep(Duration::from_millis(10)).await;
//!     assert_eq!(greeter.await, "done");
//!
//!     // An echo round trip over TCP on loopback.
//!     let listener = uringo::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     uringo::spawn(async move {
//!         let (conn, _) = listener.accept().await.unwrap();
//!         while let Some(bytes) = conn.recv().await.unwrap() {
//!             let (res, _) = conn.write_all(bytes).await; // the received buffer itself
//!             res.unwrap();
//!         }
//!     });
//!     let client = uringo::net::TcpStream::connect(addr).await.unwrap();
//!     let (res, _) = client.write_all(b"ping".to_vec()).await;
//!     res.unwrap();
//!     let (n, buf) = client.read(vec![0u8; 16]).await;
//!     assert_eq!(&buf[..n.unwrap()], b"ping");
//! });
//! ```
//!
//! ## What the runtime guarantees
//!
//! 1. Memory the kernel may write (buffers, sockaddrs) outlives a dropped
//!    I/O future: it stays in the op table until the op's last completion,
//!    and an fd produced for a cancelled accept or connect is closed.
//! 2. Multishot accept and recv run until the kernel ends them and are
//!    re-armed; a recv that ran out of provided buffers waits for one to
//!    come back, losing no data.
//! 3. No completion is lost: the CQ is larger than the SQ, a full SQ is
//!    submitted and reaped before more is pushed, overflow is flushed.
//! 4. A `Waker` may be woken from any thread; a parked core is woken
//!    (MSG_RING from a core, eventfd otherwise) only when it is parked.
//! 5. Tasks never migrate between cores.
//! 6. No task starves its siblings: a bounded batch of tasks per tick, a
//!    budget for results that are ready at once, a stall detector.
//! 7. Dropping the runtime cancels every task and drains every ring before
//!    anything the kernel might touch is freed.
//! 8. Kernel features are probed; each has a fallback, and `Builder`
//!    switches force them so tests cover them. Where io_uring cannot be set
//!    up at all (ENOSYS, a seccomp profile, `kernel.io_uring_disabled`),
//!    [`Backend::Auto`] runs the same API on epoll and logs why.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod affinity;
pub mod blocking;
pub mod buf;
mod builder;
pub mod chan;
#[cfg(feature = "tokio-io")]
pub mod compat;
pub mod context;
mod current;
mod driver;
pub mod errgroup;
mod executor;
pub mod net;
pub mod op;
mod runtime;
#[doc(hidden)]
pub mod select;
mod shim;
pub mod signal;
mod stats;
pub mod sync;
pub mod task;
pub mod time;
mod xcore;

use std::future::Future;

pub use blocking::spawn_blocking;
pub use builder::{Builder, BACKEND_ENV};
pub use chan::chan;
pub use driver::{Backend, Features};
pub use runtime::Runtime;
pub use stats::{features, stats, CoreStats};
pub use task::{dump, JoinHandle};
pub use xcore::{core_id, cores, spawn_on};

/// Runs `future` on a runtime with the default [`Builder`] (one pinned core
/// per CPU) and returns its output: the one-line entry point.
///
/// # Panics
/// If the runtime cannot start (the message says why; without io_uring the
/// default [`Backend::Auto`] runs on epoll instead).
#[track_caller]
pub fn start<F: Future>(future: F) -> F::Output {
    match Builder::new().build() {
        Ok(runtime) => runtime.block_on(future),
        Err(e) => panic!("uringo: cannot start the runtime: {e}"),
    }
}

/// Spawns a task on the current core (like Go's `go f()`). The future need
/// not be `Send`: it lives and dies on this core.
///
/// # Panics
/// Outside a runtime thread.
#[track_caller]
pub fn spawn<F: Future + 'static>(future: F) -> JoinHandle<F::Output> {
    executor::spawn(future)
}

/// Yields to the core's other tasks once.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}
