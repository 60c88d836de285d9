//! `TcpListener`: multishot accept (single-shot where the kernel lacks it).

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};

use socket2::{Domain, Protocol, Socket, Type};

use super::acceptor::{Acceptor, Incoming};
use super::stream::to_inet;
use super::TcpStream;

/// A TCP socket listening for connections.
///
/// On io_uring `accept()` keeps one multishot accept armed in the core's
/// ring, so a burst of connections costs one SQE (on epoll, each accept is a
/// non-blocking accept4). Dropping the listener cancels it; fds the kernel
/// accepted meanwhile are closed, never leaked.
pub struct TcpListener {
    acceptor: Acceptor,
}

impl TcpListener {
    /// Binds to `addr` (with SO_REUSEADDR) and listens.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        Self::bind_with(addr, false)
    }

    /// Binds to `addr` with SO_REUSEPORT too, so that one listener per core
    /// can share the port and the kernel spreads connections among them.
    ///
    /// Fails with `AddrInUse`, as a plain bind would, if another process
    /// already listens on the address: only this process's listeners share it.
    pub fn bind_reuseport(addr: SocketAddr) -> io::Result<TcpListener> {
        Self::bind_with(addr, true)
    }

    fn bind_with(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.cloexec(),
            Some(Protocol::TCP),
        )?;
        socket.set_reuse_address(true)?;
        if reuse_port {
            socket.set_reuse_port(true)?;
        }
        socket.bind(&addr.into())?;
        socket.listen(4096)?;
        if reuse_port {
            let bound = socket.local_addr()?.as_socket().unwrap_or(addr);
            super::reuseport::refuse_foreign_listener(bound, socket.as_fd())?;
        }
        Ok(Self::from_owned(socket.into()))
    }

    /// Wraps a bound, listening std listener.
    pub fn from_std(listener: std::net::TcpListener) -> TcpListener {
        Self::from_owned(listener.into())
    }

    pub(crate) fn from_owned(fd: OwnedFd) -> TcpListener {
        TcpListener {
            acceptor: Acceptor::new(fd),
        }
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        to_inet(self.acceptor.sock().local_addr()?)
    }

    /// Accepts a connection. Errors such as EMFILE are returned as they
    /// come; the listener stays usable (the next call re-arms the accept).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let fd = poll_fn(|cx| self.acceptor.poll_accept(cx)).await?;
        let stream = TcpStream::from_fd(fd);
        let addr = stream.peer_addr()?;
        Ok((stream, addr))
    }

    /// The accepted connections as a [`Stream`](futures_core::Stream),
    /// fed by the same multishot accept as [`accept`](Self::accept). It
    /// never ends; an error item (EMFILE, say) leaves it usable.
    pub fn incoming(&self) -> Incoming<'_, TcpStream> {
        Incoming::new(&self.acceptor, TcpStream::from_fd)
    }
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener")
            .field("fd", &self.acceptor.fd().raw())
            .finish()
    }
}
