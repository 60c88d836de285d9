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
//! See `DESIGN.md` in the repository for the invariants the runtime keeps.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod blocking;
pub mod buf;
mod builder;
pub mod chan;
mod driver;
mod executor;
pub mod net;
pub mod op;
mod runtime;
#[doc(hidden)]
pub mod select;
pub mod signal;
mod stats;
mod sync;
mod task;
pub mod time;
mod xcore;

use std::future::Future;

pub use blocking::spawn_blocking;
pub use builder::Builder;
pub use chan::chan;
pub use driver::Features;
pub use runtime::Runtime;
pub use stats::{features, stats, CoreStats};
pub use task::JoinHandle;
pub use xcore::{core_id, cores, spawn_on};

/// Runs `future` on a runtime with the default [`Builder`] (one pinned core
/// per CPU) and returns its output: the one-line entry point.
///
/// # Panics
/// If the runtime cannot start (the message says why: no io_uring, denied
/// by seccomp, disabled by sysctl).
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
