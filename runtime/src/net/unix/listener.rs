//! `UnixListener`: accepting Unix stream connections, with the accept
//! machinery `TcpListener` uses.

use std::future::poll_fn;
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use socket2::Type;

use super::{path_addr, socket, SocketAddr, UnixStream};
use crate::net::acceptor::{Acceptor, Incoming};

/// A Unix domain socket listening for connections.
///
/// `accept()` keeps one multishot accept armed (single-shot where the
/// kernel lacks it). Dropping the listener cancels it and closes any
/// connection the kernel accepted meanwhile; it does not remove the socket
/// file (see the [module docs](super)).
pub struct UnixListener {
    acceptor: Acceptor,
}

impl UnixListener {
    /// Creates the socket file `path` and listens on it. `AddrInUse` if
    /// the file exists.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let socket = socket(Type::STREAM)?;
        socket.bind(&path_addr(path.as_ref())?)?;
        socket.listen(1024)?;
        Ok(Self::from_fd(socket.into()))
    }

    /// Wraps a bound, listening std listener.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> UnixListener {
        Self::from_fd(listener.into())
    }

    fn from_fd(fd: OwnedFd) -> UnixListener {
        UnixListener {
            acceptor: Acceptor::new(fd),
        }
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(self.acceptor.sock().local_addr()?))
    }

    /// Accepts a connection; the address is the peer's (usually unnamed).
    /// Errors such as EMFILE are returned as they come; the listener stays
    /// usable.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let fd = poll_fn(|cx| self.acceptor.poll_accept(cx)).await?;
        let stream = UnixStream::from_fd(fd);
        let addr = stream.peer_addr()?;
        Ok((stream, addr))
    }

    /// The accepted connections as a [`Stream`](futures_core::Stream); it
    /// never ends, and an error item leaves it usable.
    pub fn incoming(&self) -> Incoming<'_, UnixStream> {
        Incoming::new(&self.acceptor, UnixStream::from_fd)
    }
}

impl std::fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixListener")
            .field("fd", &self.acceptor.fd().raw())
            .finish()
    }
}
