//! Unix domain sockets: [`UnixListener`] and [`UnixStream`] (the same
//! owned-buffer and `recv()` API as TCP, on the same shared code), and
//! [`UnixDatagram`].
//!
//! Paths only: Linux's abstract names (a leading NUL) are not supported.
//! As with std and tokio, dropping a bound socket does **not** remove its
//! file: remove it yourself (`std::fs::remove_file`) when done, or before
//! binding the path again (bind fails with `AddrInUse` while it exists).

mod addr;
mod datagram;
mod listener;
mod stream;

use std::io;
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

pub use addr::SocketAddr;
pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use stream::UnixStream;

/// A new close-on-exec Unix socket of type `ty`.
fn socket(ty: Type) -> io::Result<Socket> {
    Socket::new(Domain::UNIX, ty.cloexec(), None)
}

/// The socket address of `path`.
fn path_addr(path: &Path) -> io::Result<SockAddr> {
    SockAddr::unix(path)
}
