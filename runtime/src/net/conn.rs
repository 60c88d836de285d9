//! The I/O of a connected stream socket, shared by `TcpStream` and
//! `UnixStream`: owned-buffer reads and writes, `peek`, `read_exact`,
//! vectored writes, and the multishot `recv` into the core's buffer pool.
//! The public types add what differs (how to connect, addresses, options).

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io;
use std::net::Shutdown;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use socket2::SockRef;

use super::SharedFd;
use crate::buf::{IoBuf, IoBufMut, RecvBuf};
use crate::op::{coop_proceed, Multi, Op, Recv, RecvMulti, Send, SendMsg};

/// The public I/O of a stream type whose `conn` field is a [`Conn`]
/// (`TcpStream`, `UnixStream`): written once, so the two cannot drift.
macro_rules! stream_io_methods {
    () => {
        /// Reads into `buf` (from its start, up to its capacity).
        ///
        /// Cancel safety: if this future is dropped (for example by
        /// `timeout`), bytes the kernel already read into `buf` are lost
        /// with it. [`recv`](Self::recv) is cancel-safe: its op belongs to
        /// the stream, not to the future.
        pub async fn read<B: $crate::buf::IoBufMut>(&self, buf: B) -> (std::io::Result<usize>, B) {
            self.conn.read(buf).await
        }

        /// Reads until `buf` is full (up to its capacity); an
        /// [`UnexpectedEof`](std::io::ErrorKind::UnexpectedEof) error if the
        /// peer closes first (the bytes read so far are in `buf`).
        pub async fn read_exact<B: $crate::buf::IoBufMut>(
            &self,
            buf: B,
        ) -> (std::io::Result<()>, B) {
            self.conn.read_exact(buf).await
        }

        /// Like [`read`](Self::read), but leaves the bytes in the socket, so
        /// the next read or recv sees them again (MSG_PEEK).
        pub async fn peek<B: $crate::buf::IoBufMut>(&self, buf: B) -> (std::io::Result<usize>, B) {
            self.conn.peek(buf).await
        }

        /// Writes some of `buf`; returns how much.
        pub async fn write<B: $crate::buf::IoBuf>(&self, buf: B) -> (std::io::Result<usize>, B) {
            self.conn.write(buf).await
        }

        /// Writes all of `buf`.
        pub async fn write_all<B: $crate::buf::IoBuf>(&self, buf: B) -> (std::io::Result<()>, B) {
            self.conn.write_all(buf).await
        }

        /// Writes all bytes of `bufs`, in order, without copying them into
        /// one buffer: one sendmsg(2) with an iovec per buffer, repeated
        /// from where a short write stopped.
        pub async fn write_all_vectored<B: $crate::buf::IoBuf>(
            &self,
            bufs: Vec<B>,
        ) -> (std::io::Result<()>, Vec<B>) {
            self.conn.write_all_vectored(bufs).await
        }

        /// Receives the next chunk of bytes, `None` once the peer has
        /// closed its side.
        ///
        /// The bytes arrive in buffers of the core's pool: with io_uring's
        /// provided buffers one multishot recv stays armed and the kernel
        /// fills them as data arrives, with no SQE per read; on epoll each
        /// recv reads into a free buffer of the pool. Hold
        /// [`RecvBuf`](crate::buf::RecvBuf)s briefly: each one is a pool
        /// buffer that no connection on this core can use until it is
        /// dropped. One task at a time should call `recv` on a stream.
        pub async fn recv(&self) -> std::io::Result<Option<$crate::buf::RecvBuf>> {
            self.conn.recv().await
        }

        /// Shuts down the read, write or both halves.
        pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
            self.conn.shutdown(how)
        }

        /// Splits the stream into a receiving and a sending half that can
        /// be moved into two tasks of this core.
        pub fn into_split(self) -> ($crate::net::ReadHalf, $crate::net::WriteHalf) {
            $crate::net::split::split(self.conn)
        }

        /// Closes the socket once every op using it has finished, through
        /// the driver, and reports the result of close.
        pub async fn close(self) -> std::io::Result<()> {
            self.conn.close().await
        }
    };
}

pub(crate) use stream_io_methods;

pub(crate) struct Conn {
    fd: SharedFd,
    recv: RefCell<RecvState>,
}

#[derive(Default)]
struct RecvState {
    armed: Armed,
    eof: bool,
}

/// The receive op of a stream: the multishot recv into the core's pool, or
/// (where the driver has no pool for it) one single-shot recv at a time.
/// One or the other, so a connection pays for the larger only.
#[derive(Default)]
enum Armed {
    #[default]
    Idle,
    Multi(Multi<RecvMulti>),
    Single(Op<Recv<Vec<u8>>>),
}

impl Conn {
    /// Takes over a connected socket.
    pub(crate) fn new(fd: OwnedFd) -> Conn {
        let fd = SharedFd::new(fd.into_raw_fd());
        fd.register_fixed();
        Conn {
            fd,
            recv: RefCell::default(),
        }
    }

    pub(crate) fn fd(&self) -> &SharedFd {
        &self.fd
    }

    pub(crate) fn sock(&self) -> SockRef<'_> {
        SockRef::from(&self.fd)
    }

    pub(crate) async fn read<B: IoBufMut>(&self, buf: B) -> (io::Result<usize>, B) {
        Op::submit(Recv::new(self.fd.clone(), buf)).await
    }

    pub(crate) async fn peek<B: IoBufMut>(&self, buf: B) -> (io::Result<usize>, B) {
        Op::submit(Recv::new(self.fd.clone(), buf).flags(libc::MSG_PEEK)).await
    }

    /// Reads until `buf` is full (its whole capacity); UnexpectedEof if the
    /// peer closes first.
    pub(crate) async fn read_exact<B: IoBufMut>(&self, mut buf: B) -> (io::Result<()>, B) {
        let total = buf.bytes_total();
        let mut filled = 0;
        while filled < total {
            let (result, returned) = Op::submit(Recv::new(self.fd.clone(), buf).at(filled)).await;
            buf = returned;
            match result {
                Ok(0) => {
                    let e = io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("end of stream after {filled} of {total} bytes"),
                    );
                    return (Err(e), buf);
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (Err(e), buf),
            }
        }
        (Ok(()), buf)
    }

    pub(crate) async fn write<B: IoBuf>(&self, buf: B) -> (io::Result<usize>, B) {
        Op::submit(Send::new(self.fd.clone(), buf, 0)).await
    }

    pub(crate) async fn write_all<B: IoBuf>(&self, buf: B) -> (io::Result<()>, B) {
        let total = buf.bytes_init();
        let mut buf = buf;
        let mut offset = 0;
        while offset < total {
            let (result, returned) = Op::submit(Send::new(self.fd.clone(), buf, offset)).await;
            buf = returned;
            if let Err(e) = advance(&mut offset, result) {
                return (Err(e), buf);
            }
        }
        (Ok(()), buf)
    }

    /// Writes all bytes of `bufs`, in order, with as few sendmsg calls as
    /// the kernel takes.
    pub(crate) async fn write_all_vectored<B: IoBuf>(
        &self,
        bufs: Vec<B>,
    ) -> (io::Result<()>, Vec<B>) {
        let total: usize = bufs.iter().map(IoBuf::bytes_init).sum();
        let mut bufs = bufs;
        let mut offset = 0;
        while offset < total {
            let op = SendMsg::new(self.fd.clone(), bufs, offset, None);
            let (result, returned) = Op::submit(op).await;
            bufs = returned;
            if let Err(e) = advance(&mut offset, result) {
                return (Err(e), bufs);
            }
        }
        (Ok(()), bufs)
    }

    pub(crate) async fn recv(&self) -> io::Result<Option<RecvBuf>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<io::Result<Option<RecvBuf>>> {
        std::task::ready!(coop_proceed(cx));
        let mut state = self.recv.borrow_mut();
        if state.eof {
            return Poll::Ready(Ok(None));
        }
        if matches!(state.armed, Armed::Idle) {
            let (pool, buf_size) = crate::current::driver(|d| (d.recv_pool(), d.recv_buf_size()));
            state.armed = match pool {
                Some(pool) => Armed::Multi(Multi::new(RecvMulti::new(self.fd.clone(), pool))),
                None => {
                    let buf = Vec::with_capacity(buf_size);
                    Armed::Single(Op::submit(Recv::new(self.fd.clone(), buf)))
                }
            };
        }
        let item = match &mut state.armed {
            Armed::Multi(multi) => std::task::ready!(multi.poll_next(cx)),
            Armed::Single(op) => {
                let (result, buf) = std::task::ready!(Pin::new(op).poll(cx));
                state.armed = Armed::Idle;
                match result {
                    Ok(0) => Ok(None),
                    Ok(_) => Ok(Some(RecvBuf::from_vec(buf))),
                    Err(e) => Err(e),
                }
            }
            Armed::Idle => unreachable!("armed above"),
        };
        if matches!(item, Ok(None)) {
            state.eof = true;
            state.armed = Armed::Idle;
        }
        Poll::Ready(item)
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock().shutdown(how)
    }

    /// Closes the socket once every op using it has finished.
    pub(crate) async fn close(self) -> io::Result<()> {
        let Conn { fd, recv } = self;
        drop(recv);
        fd.close().await
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("fd", &self.fd.raw()).finish()
    }
}

/// Counts the bytes a send wrote towards `offset`; a send of nothing is
/// WriteZero, EINTR is retried.
fn advance(offset: &mut usize, sent: io::Result<usize>) -> io::Result<()> {
    match sent {
        Ok(0) => Err(io::ErrorKind::WriteZero.into()),
        Ok(n) => {
            *offset += n;
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
        Err(e) => Err(e),
    }
}
