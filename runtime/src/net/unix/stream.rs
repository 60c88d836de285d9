//! `UnixStream`: a Unix stream connection with the same I/O as
//! `TcpStream`: both hold a `Conn` and take their I/O methods from
//! `stream_io_methods!`.

use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use socket2::{Socket, Type};

use super::{path_addr, socket, SocketAddr};
use crate::net::conn::Conn;
use crate::op::{Connect, Op};

/// A Unix domain stream connection.
///
/// The same I/O as [`TcpStream`](crate::net::TcpStream): owned-buffer
/// `read`/`write`, `write_all`, `read_exact`, `peek`,
/// `write_all_vectored`, and `recv()` into the core's buffer pool. Dropping
/// an I/O future cancels its op (its buffer is kept until the kernel lets
/// go); dropping the stream closes the socket once no op uses it.
pub struct UnixStream {
    conn: Conn,
}

impl UnixStream {
    /// Connects to the socket bound at `path`. `NotFound` if no socket
    /// file is there, `ConnectionRefused` if nothing listens on it; while
    /// the listener's backlog is full the kernel may refuse at once with
    /// `WouldBlock` (Unix sockets cannot wait for room without blocking),
    /// as Go's and tokio's dialers report it.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = path_addr(path.as_ref())?;
        let socket = Op::submit(Connect::new(socket(Type::STREAM)?, addr)).await?;
        Ok(Self::from_fd(socket.into()))
    }

    /// A connected pair of unnamed sockets (socketpair(2)).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = Socket::pair(socket2::Domain::UNIX, Type::STREAM.cloexec(), None)?;
        Ok((Self::from_fd(a.into()), Self::from_fd(b.into())))
    }

    /// Wraps a connected std stream.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> UnixStream {
        Self::from_fd(stream.into())
    }

    pub(crate) fn from_fd(fd: OwnedFd) -> UnixStream {
        UnixStream {
            conn: Conn::new(fd),
        }
    }

    crate::net::conn::stream_io_methods!();

    /// The local address (unnamed for a connecting client).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(self.conn.sock().local_addr()?))
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(self.conn.sock().peer_addr()?))
    }
}

impl std::fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixStream")
            .field("fd", &self.conn.fd().raw())
            .finish()
    }
}
