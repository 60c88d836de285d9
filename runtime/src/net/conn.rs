//! The I/O of a connected stream socket, shared by `TcpStream` and
//! `UnixStream`: owned-buffer reads and writes, `peek`, `read_exact`,
//! vectored writes, and the multishot `recv` into the core's buffer pool.
//! The public types add what differs (how to connect, addresses, options).

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::io;
use std::net::Shutdown;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use socket2::SockRef;

use super::write_all::{advance, WriteAll};
use super::write_behind::{SendBehind, WriteBehind};
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

        /// Writes all of `buf`; the output is the result and `buf`.
        pub fn write_all<B: $crate::buf::IoBuf>(&self, buf: B) -> $crate::net::WriteAll<'_, B> {
            self.conn.write_all(buf)
        }

        /// Sends all of `buf`, a buffer [`recv`](Self::recv) returned, without
        /// waiting for the send to finish: once the stream's previous
        /// `write_behind` send has ended (sends stay in order), this one is
        /// started and the future is ready. On io_uring the driver completes
        /// the send (a short one from where it stopped) and gives the buffer
        /// back to the ring; a failure is returned by the stream's next
        /// write, `write_all` or `write_behind` (receiving goes on as it
        /// would). `close` waits for the send; `shutdown` does not (a
        /// send still in flight then fails). Elsewhere (epoll, or a buffer
        /// not in the ring) it is `write_all`.
        pub fn write_behind(&self, buf: $crate::buf::RecvBuf) -> $crate::net::WriteBehind<'_> {
            self.conn.write_behind(buf)
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
        pub fn recv(
            &self,
        ) -> impl std::future::Future<Output = std::io::Result<Option<$crate::buf::RecvBuf>>> + '_ {
            std::future::poll_fn(|cx| self.conn.poll_recv(cx))
        }

        /// [`recv`](Self::recv) as a poll, for a hand-written future: the
        /// next chunk if one is there, else `Pending` with `cx`'s waker kept
        /// to be woken when one comes.
        pub fn poll_recv(
            &self,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<Option<$crate::buf::RecvBuf>>> {
            self.conn.poll_recv(cx)
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
        /// the driver, and reports the result of close. The receive op, if
        /// one is armed, is cancelled at once.
        pub fn close(self) -> impl std::future::Future<Output = std::io::Result<()>> {
            self.conn.close()
        }
    };
}

pub(crate) use stream_io_methods;

pub(crate) struct Conn {
    fd: SharedFd,
    /// Taken out while `poll_recv` runs (a `Cell`, not a `RefCell`: no
    /// borrow flag, so the stream has room for the write-behind word).
    recv: Cell<RecvState>,
    behind: SendBehind,
}

/// The receive side of a stream: the multishot recv into the core's pool,
/// or (where the driver has no pool for it) one single-shot recv at a time,
/// boxed so that a connection pays for the smaller. Kept small: it is in
/// every connection, idle or not.
#[derive(Default)]
enum RecvState {
    #[default]
    Idle,
    Multi(Multi<RecvMulti>),
    Single(Box<Op<Recv<Vec<u8>>>>),
    /// The peer closed its side; every later recv is `None`.
    Ended,
}

impl Conn {
    /// Takes over a connected socket.
    pub(crate) fn new(fd: OwnedFd) -> Conn {
        let fd = SharedFd::new(fd.into_raw_fd());
        fd.register_fixed();
        Conn {
            fd,
            recv: Cell::default(),
            behind: SendBehind::default(),
        }
    }

    pub(crate) fn fd(&self) -> &SharedFd {
        &self.fd
    }

    /// The stream's write-behind send in flight, if any.
    pub(crate) fn behind(&self) -> &SendBehind {
        &self.behind
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
        if let Err(e) = self.behind.ended().await {
            return (Err(e), buf);
        }
        Op::submit(Send::new(self.fd.clone(), buf, 0)).await
    }

    pub(crate) fn write_all<B: IoBuf>(&self, buf: B) -> WriteAll<'_, B> {
        WriteAll::new(self, buf)
    }

    pub(crate) fn write_behind(&self, buf: RecvBuf) -> WriteBehind<'_> {
        WriteBehind::new(self, buf)
    }

    /// Writes all bytes of `bufs`, in order, with as few sendmsg calls as
    /// the kernel takes.
    pub(crate) async fn write_all_vectored<B: IoBuf>(
        &self,
        bufs: Vec<B>,
    ) -> (io::Result<()>, Vec<B>) {
        if let Err(e) = self.behind.ended().await {
            return (Err(e), bufs);
        }
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

    pub(crate) fn recv(&self) -> impl Future<Output = io::Result<Option<RecvBuf>>> + '_ {
        poll_fn(|cx| self.poll_recv(cx))
    }

    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<io::Result<Option<RecvBuf>>> {
        std::task::ready!(coop_proceed(cx));
        let mut state = self.recv.take();
        let polled = self.poll_recv_state(&mut state, cx);
        let idle = self.recv.replace(state);
        debug_assert!(matches!(idle, RecvState::Idle));
        std::mem::forget(idle); // what `take` left: nothing to drop
        polled
    }

    fn poll_recv_state(
        &self,
        state: &mut RecvState,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<RecvBuf>>> {
        if matches!(*state, RecvState::Idle) {
            let (pool, buf_size) = crate::current::driver(|d| (d.recv_pool(), d.recv_buf_size()));
            *state = match pool {
                Some(pool) => RecvState::Multi(Multi::new(RecvMulti::new(self.fd.clone(), pool))),
                None => {
                    let buf = Vec::with_capacity(buf_size);
                    RecvState::Single(Box::new(Op::submit(Recv::new(self.fd.clone(), buf))))
                }
            };
        }
        let item = match &mut *state {
            RecvState::Multi(multi) => std::task::ready!(multi.poll_next(cx)),
            RecvState::Single(op) => {
                let (result, buf) = std::task::ready!(Pin::new(&mut **op).poll(cx));
                *state = RecvState::Idle;
                match result {
                    Ok(0) => Ok(None),
                    Ok(_) => Ok(Some(RecvBuf::from_vec(buf))),
                    Err(e) => Err(e),
                }
            }
            RecvState::Ended => return Poll::Ready(Ok(None)),
            RecvState::Idle => unreachable!("armed above"),
        };
        if matches!(item, Ok(None)) {
            *state = RecvState::Ended;
        }
        Poll::Ready(item)
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock().shutdown(how)
    }

    /// Closes the socket once every op using it has finished (a
    /// write-behind send included; its failure, if any, is not reported).
    /// The receive op is cancelled at once; the future holds the fd only.
    pub(crate) fn close(self) -> impl Future<Output = io::Result<()>> {
        let Conn { fd, recv, behind } = self;
        drop((recv, behind));
        fd.close()
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("fd", &self.fd.raw()).finish()
    }
}

#[cfg(test)]
mod tests {
    /// Every connection holds a `Conn`, idle or not (README "Memory"): 88 bytes before the
    /// single-shot recv was boxed and end of stream folded into the receive state; the
    /// write-behind word took the place of the receive state's `RefCell` flag.
    #[test]
    fn conn_stays_small() {
        let size = std::mem::size_of::<super::Conn>();
        assert!(size <= 48, "Conn is {size} bytes");
    }
}
