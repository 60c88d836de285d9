//! `TcpListener`: multishot accept (single-shot where the kernel lacks it).

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, IntoRawFd, OwnedFd};
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::{SharedFd, TcpStream};
use crate::op::{coop_proceed, Accept, AcceptMulti, Multi, Op};

/// A TCP socket listening for connections.
///
/// `accept()` keeps one multishot accept armed in the core's ring, so a
/// burst of connections costs one SQE. Dropping the listener cancels it; fds
/// the kernel accepted meanwhile are closed, never leaked.
pub struct TcpListener {
    fd: SharedFd,
    state: RefCell<AcceptState>,
}

#[derive(Default)]
struct AcceptState {
    multi: Option<Multi<AcceptMulti>>,
    single: Option<Op<Accept>>,
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

    fn from_owned(fd: OwnedFd) -> TcpListener {
        TcpListener {
            fd: SharedFd::new(fd.into_raw_fd()),
            state: RefCell::default(),
        }
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        SockRef::from(&self.fd)
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("not an inet socket"))
    }

    /// Accepts a connection. Errors such as EMFILE are returned as they
    /// come; the listener stays usable (the next call re-arms the accept).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let fd = poll_fn(|cx| self.poll_accept(cx)).await?;
        let stream = TcpStream::from_fd(fd);
        let addr = stream.peer_addr()?;
        Ok((stream, addr))
    }

    /// The accepted connections as a [`Stream`](futures_core::Stream),
    /// fed by the same multishot accept as [`accept`](Self::accept). It
    /// never ends; an error item (EMFILE, say) leaves it usable.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<OwnedFd>> {
        std::task::ready!(coop_proceed(cx));
        let multishot = crate::current::driver(|d| d.multishot_accept());
        let mut state = self.state.borrow_mut();
        if !multishot {
            let op = state
                .single
                .get_or_insert_with(|| Op::submit(Accept::new(self.fd.clone())));
            let result = std::task::ready!(std::pin::Pin::new(op).poll(cx));
            state.single = None;
            return Poll::Ready(result.map(|(fd, _)| fd));
        }
        state
            .multi
            .get_or_insert_with(|| Multi::new(AcceptMulti::new(self.fd.clone())))
            .poll_next(cx)
    }
}

use std::future::Future as _;

/// The stream of [`TcpListener::incoming`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl futures_core::Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|accepted| Some(accepted.map(TcpStream::from_fd)))
    }
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener")
            .field("fd", &self.fd.raw())
            .finish()
    }
}
