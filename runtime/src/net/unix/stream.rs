//! `UnixStream`: a Unix stream connection with the same I/O as
//! `TcpStream` (both are a [`Conn`](crate::net::conn)).

use std::io;
use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::path::Path;

use socket2::{Socket, Type};

use super::{path_addr, socket, SocketAddr};
use crate::buf::{IoBuf, IoBufMut, RecvBuf};
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
    /// Connects to the socket bound at `path`.
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

    /// Reads into `buf` (from its start, up to its capacity). See
    /// [`TcpStream::read`](crate::net::TcpStream::read).
    pub async fn read<B: IoBufMut>(&self, buf: B) -> (io::Result<usize>, B) {
        self.conn.read(buf).await
    }

    /// Reads until `buf` is full; `UnexpectedEof` if the peer closes first.
    pub async fn read_exact<B: IoBufMut>(&self, buf: B) -> (io::Result<()>, B) {
        self.conn.read_exact(buf).await
    }

    /// Reads without taking the bytes from the socket (MSG_PEEK).
    pub async fn peek<B: IoBufMut>(&self, buf: B) -> (io::Result<usize>, B) {
        self.conn.peek(buf).await
    }

    /// Writes some of `buf`; returns how much.
    pub async fn write<B: IoBuf>(&self, buf: B) -> (io::Result<usize>, B) {
        self.conn.write(buf).await
    }

    /// Writes all of `buf`.
    pub async fn write_all<B: IoBuf>(&self, buf: B) -> (io::Result<()>, B) {
        self.conn.write_all(buf).await
    }

    /// Writes all bytes of `bufs`, in order, with one sendmsg per try.
    pub async fn write_all_vectored<B: IoBuf>(&self, bufs: Vec<B>) -> (io::Result<()>, Vec<B>) {
        self.conn.write_all_vectored(bufs).await
    }

    /// The next chunk of bytes, `None` once the peer has closed its side.
    /// See [`TcpStream::recv`](crate::net::TcpStream::recv).
    pub async fn recv(&self) -> io::Result<Option<RecvBuf>> {
        self.conn.recv().await
    }

    /// The local address (unnamed for a connecting client).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(self.conn.sock().local_addr()?))
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(self.conn.sock().peer_addr()?))
    }

    /// Shuts down the read, write or both halves.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.conn.shutdown(how)
    }

    /// Splits the stream into a receiving and a sending half that can be
    /// moved into two tasks of this core (the same halves as TCP's).
    pub fn into_split(self) -> (crate::net::ReadHalf, crate::net::WriteHalf) {
        crate::net::split::split(self.conn)
    }

    /// Closes the socket once every op using it has finished.
    pub async fn close(self) -> io::Result<()> {
        self.conn.close().await
    }
}

impl std::fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixStream")
            .field("fd", &self.conn.fd().raw())
            .finish()
    }
}
