//! Compatibility with the tokio ecosystem (feature `tokio-io`): hyper,
//! axum and anything else written against the tokio or futures I/O traits
//! run on uringo.
//!
//! - [`TcpStream`] (and its split halves) implements
//!   `tokio::io::{AsyncRead, AsyncWrite}`, `futures_io::{AsyncRead,
//!   AsyncWrite}` and hyper's own `rt::{Read, Write}`, on top of the native
//!   owned-buffer API: reads copy once, out of the kernel-filled provided
//!   buffer; writes submit an owned copy of the caller's bytes. The Unix
//!   stream gets the same impls through the same state machines once the
//!   native `net::UnixStream` exists.

mod io;
mod tcp;
mod traits;

pub use tcp::{ReadHalf, TcpStream, WriteHalf};
