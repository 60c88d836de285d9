//! Compatibility with the tokio ecosystem (feature `tokio-io`): hyper,
//! axum and anything else written against the tokio or futures I/O traits
//! run on uringo.
//!
//! - [`TcpStream`] and [`UnixStream`] (and their split halves) implement
//!   `tokio::io::{AsyncRead, AsyncWrite}`, `futures_io::{AsyncRead,
//!   AsyncWrite}` and hyper's own `rt::{Read, Write}`, on top of the native
//!   owned-buffer API: reads copy once, out of the kernel-filled provided
//!   buffer; writes submit an owned copy of the caller's bytes.
//! - [`LocalExecutor`] and [`Timer`] are hyper's runtime hooks: tasks on the
//!   current core, sleeps on its timer wheel.
//! - [`serve`] runs an axum `Router` on every core with graceful shutdown:
//!
//! ```no_run
//! use axum::{routing::get, Router};
//!
//! fn main() -> std::io::Result<()> {
//!     let app = Router::new().route("/", get(|| async { "hello" }));
//!     uringo::start(uringo::compat::serve("0.0.0.0:3000".parse().unwrap(), app))
//! }
//! ```
//!
//! A tokio program differs in two lines: `#[tokio::main]` becomes
//! `uringo::start`, and `axum::serve(listener, app)` becomes
//! `uringo::compat::serve(addr, app)`. Handlers run on the core that
//! accepted their connection, as any uringo task does.
//!
//! The layer uses only the native stream API, so it runs on both backends
//! (io_uring, with or without multishot and provided buffers, and epoll).

mod drain;
mod io;
mod rt;
mod serve;
mod stream;
mod tcp;
mod traits;
pub mod unix;

pub use rt::{LocalExecutor, Timer};
pub use serve::{serve, Server};
pub use tcp::{ReadHalf, TcpStream, WriteHalf};
pub use unix::UnixStream;
