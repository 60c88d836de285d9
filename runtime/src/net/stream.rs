//! `TcpStream`: owned-buffer reads and writes, and multishot `recv`.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{IntoRawFd, OwnedFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

use super::SharedFd;
use crate::buf::{IoBuf, IoBufMut, RecvBuf};
use crate::driver::BufRing;
use crate::op::{coop_proceed, Connect, MultiOp, Op, Recv, RecvMulti, Send};

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
    multi: Option<MultiOp<RecvMulti>>,
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
    /// With provided buffers this keeps one multishot recv armed: the kernel
    /// fills buffers from the core's ring as data arrives, with no SQE per
    /// read. Hold [`RecvBuf`]s briefly: each one is a ring buffer that no
    /// connection on this core can use until it is dropped. One task at a
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
        let (ring, buf_size) = crate::executor::with_current(|core| {
            let driver = core.driver.borrow();
            let size = driver
                .bufs
                .as_ref()
                .map_or(16 * 1024, |b| b.buf_size() as usize);
            (
                driver
                    .bufs
                    .clone()
                    .filter(|_| driver.features.multishot_recv),
                size,
            )
        });
        match ring {
            Some(ring) => self.poll_recv_multi(&mut state, ring, cx),
            None => self.poll_recv_single(&mut state, buf_size, cx),
        }
    }

    fn poll_recv_multi(
        &self,
        state: &mut RecvState,
        ring: Rc<BufRing>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<RecvBuf>>> {
        loop {
            if state.multi.is_none() {
                if ring.available() == 0 {
                    // ENOBUFS: wait for a buffer to come back (invariant 2).
                    ring.wait_for_buffer(cx);
                    return Poll::Pending;
                }
                let data = RecvMulti::new(self.fd.clone(), ring.clone());
                state.multi = Some(MultiOp::submit(data.sqe(), data));
            }
            let multi = state.multi.as_mut().expect("armed above");
            let Some(cqe) = std::task::ready!(multi.poll_next(cx)) else {
                state.multi = None;
                continue;
            };
            if !cqe.more() {
                state.multi = None;
            }
            if let Some(bid) = cqe.buffer_id() {
                ring.taken();
                if cqe.result > 0 {
                    return Poll::Ready(Ok(Some(RecvBuf::from_ring(
                        ring,
                        bid,
                        cqe.result as usize,
                    ))));
                }
                ring.recycle(bid);
            }
            match cqe.result {
                0 => {
                    state.eof = true;
                    return Poll::Ready(Ok(None));
                }
                r if r == -libc::ENOBUFS => continue,
                r if r < 0 => return Poll::Ready(Err(io::Error::from_raw_os_error(-r))),
                _ => continue,
            }
        }
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
