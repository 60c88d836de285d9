//! `TcpStream`: owned-buffer reads and writes, and multishot `recv`.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{IntoRawFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

use super::SharedFd;
use crate::buf::{IoBuf, IoBufMut, RecvBuf};
use crate::op::{coop_proceed, Connect, Multi, Op, Recv, RecvMulti, Send};

/// A TCP connection.
///
/// Reads and writes take the buffer by value and give it back with the
/// result (`let (res, buf) = stream.read(buf).await`), because the kernel
/// uses it after the call returns to the executor. Dropping an I/O future
/// early is safe: the op is cancelled and its buffer is kept until the
/// kernel lets go. Dropping the stream closes the socket once no op uses it.
pub struct TcpStream {
    fd: SharedFd,
    recv: RefCell<RecvState>,
}

#[derive(Default)]
struct RecvState {
    multi: Option<Multi<RecvMulti>>,
    single: Option<Op<Recv<Vec<u8>>>>,
    eof: bool,
}

impl TcpStream {
    /// Opens a connection to `addr`.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.cloexec(),
            Some(Protocol::TCP),
        )?;
        let socket = Op::submit(Connect::new(socket, SockAddr::from(addr))).await?;
        Ok(Self::from_fd(socket.into()))
    }

    /// Wraps a connected std stream.
    pub fn from_std(stream: std::net::TcpStream) -> TcpStream {
        Self::from_fd(stream.into())
    }

    pub(crate) fn from_fd(fd: OwnedFd) -> TcpStream {
        TcpStream {
            fd: SharedFd::new(fd.into_raw_fd()),
            recv: RefCell::default(),
        }
    }

    /// Reads into `buf` (from its start, up to its capacity).
    ///
    /// Cancel safety: if this future is dropped (for example by `timeout`),
    /// bytes the kernel already read into `buf` are lost with it. [`recv`]
    /// is cancel-safe: its op belongs to the stream, not to the future.
    ///
    /// [`recv`]: TcpStream::recv
    pub async fn read<B: IoBufMut>(&self, buf: B) -> (io::Result<usize>, B) {
        Op::submit(Recv::new(self.fd.clone(), buf)).await
    }

    /// Writes some of `buf`; returns how much.
    pub async fn write<B: IoBuf>(&self, buf: B) -> (io::Result<usize>, B) {
        Op::submit(Send::new(self.fd.clone(), buf, 0)).await
    }

    /// Writes all of `buf`.
    pub async fn write_all<B: IoBuf>(&self, buf: B) -> (io::Result<()>, B) {
        let total = buf.bytes_init();
        let mut buf = buf;
        let mut offset = 0;
        while offset < total {
            let (result, returned) = Op::submit(Send::new(self.fd.clone(), buf, offset)).await;
            buf = returned;
            match result {
                Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), buf),
                Ok(n) => offset += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (Err(e), buf),
            }
        }
        (Ok(()), buf)
    }

    /// Receives the next chunk of bytes, `None` once the peer has closed
    /// its side.
    ///
    /// The bytes arrive in buffers of the core's pool: with io_uring's
    /// provided buffers one multishot recv stays armed and the kernel fills
    /// them as data arrives, with no SQE per read; on epoll each recv reads
    /// into a free buffer of the pool. Hold [`RecvBuf`]s briefly: each one
    /// is a pool buffer that no connection on this core can use until it is
    /// dropped. One task at a
    /// time should call `recv` on a stream.
    pub async fn recv(&self) -> io::Result<Option<RecvBuf>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<io::Result<Option<RecvBuf>>> {
        std::task::ready!(coop_proceed(cx));
        let mut state = self.recv.borrow_mut();
        if state.eof {
            return Poll::Ready(Ok(None));
        }
        let (pool, buf_size) = crate::current::driver(|d| (d.recv_pool(), d.recv_buf_size()));
        let Some(pool) = pool else {
            return self.poll_recv_single(&mut state, buf_size, cx);
        };
        let multi = state
            .multi
            .get_or_insert_with(|| Multi::new(RecvMulti::new(self.fd.clone(), pool)));
        let item = std::task::ready!(multi.poll_next(cx));
        if matches!(item, Ok(None)) {
            state.eof = true;
            state.multi = None;
        }
        Poll::Ready(item)
    }

    fn poll_recv_single(
        &self,
        state: &mut RecvState,
        buf_size: usize,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<RecvBuf>>> {
        let op = state.single.get_or_insert_with(|| {
            Op::submit(Recv::new(self.fd.clone(), Vec::with_capacity(buf_size)))
        });
        let (result, buf) = std::task::ready!(Pin::new(op).poll(cx));
        state.single = None;
        Poll::Ready(match result {
            Ok(0) => {
                state.eof = true;
                Ok(None)
            }
            Ok(_) => Ok(Some(RecvBuf::from_vec(buf))),
            Err(e) => Err(e),
        })
    }

    /// Sets TCP_NODELAY.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        SockRef::from(&self.fd).set_tcp_nodelay(nodelay)
    }

    /// Whether TCP_NODELAY is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        SockRef::from(&self.fd).tcp_nodelay()
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        to_inet(SockRef::from(&self.fd).local_addr()?)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        to_inet(SockRef::from(&self.fd).peer_addr()?)
    }

    /// Shuts down the read, write or both halves.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        SockRef::from(&self.fd).shutdown(how)
    }

    /// Sets SO_LINGER (`Some(ZERO)` makes close send a RST).
    pub fn set_linger(&self, linger: Option<std::time::Duration>) -> io::Result<()> {
        SockRef::from(&self.fd).set_linger(linger)
    }

    /// Splits the stream into a receiving and a sending half that can be
    /// moved into two tasks of this core.
    pub fn into_split(self) -> (super::ReadHalf, super::WriteHalf) {
        super::split::split(self)
    }

    /// Closes the socket once every op using it has finished, through the
    /// ring, and reports the result of close.
    pub async fn close(self) -> io::Result<()> {
        let TcpStream { fd, recv } = self;
        drop(recv);
        fd.close().await
    }
}

fn to_inet(addr: SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an inet socket"))
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("fd", &self.fd.raw())
            .finish()
    }
}
