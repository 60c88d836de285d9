//! `TcpStream`: owned-buffer reads and writes, and multishot `recv` (the
//! I/O itself is [`Conn`], shared with `UnixStream`).

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::OwnedFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::conn::Conn;
use super::lookup::{each_addr, resolve, ToSocketAddrs};
use crate::buf::{IoBuf, IoBufMut, RecvBuf};
use crate::op::{Connect, Op};

/// A TCP connection.
///
/// Reads and writes take the buffer by value and give it back with the
/// result (`let (res, buf) = stream.read(buf).await`), because the kernel
/// uses it after the call returns to the executor. Dropping an I/O future
/// early is safe: the op is cancelled and its buffer is kept until the
/// kernel lets go. Dropping the stream closes the socket once no op uses it.
pub struct TcpStream {
    conn: Conn,
}

impl TcpStream {
    /// Opens a connection to `addr`: a socket address, or a host name and
    /// port (`"localhost:8080"`) resolved on the blocking pool. Each
    /// resolved address is tried in turn; the first connection wins, and if
    /// none does the last error is returned.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let addrs = resolve(&addr).await?;
        each_addr(addrs, |addr| async move {
            let socket = Socket::new(
                Domain::for_address(addr),
                Type::STREAM.cloexec(),
                Some(Protocol::TCP),
            )?;
            connect_socket(socket, addr).await
        })
        .await
    }

    /// Wraps a connected std stream.
    pub fn from_std(stream: std::net::TcpStream) -> TcpStream {
        Self::from_fd(stream.into())
    }

    pub(crate) fn from_fd(fd: OwnedFd) -> TcpStream {
        TcpStream {
            conn: Conn::new(fd),
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
        self.conn.read(buf).await
    }

    /// Reads until `buf` is full (up to its capacity); an
    /// [`UnexpectedEof`](io::ErrorKind::UnexpectedEof) error if the peer
    /// closes first (the bytes read so far are in `buf`).
    pub async fn read_exact<B: IoBufMut>(&self, buf: B) -> (io::Result<()>, B) {
        self.conn.read_exact(buf).await
    }

    /// Like [`read`](Self::read), but leaves the bytes in the socket, so the
    /// next read or recv sees them again (MSG_PEEK).
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

    /// Writes all bytes of `bufs`, in order, without copying them into one
    /// buffer: one sendmsg(2) with an iovec per buffer, repeated from where
    /// a short write stopped.
    pub async fn write_all_vectored<B: IoBuf>(&self, bufs: Vec<B>) -> (io::Result<()>, Vec<B>) {
        self.conn.write_all_vectored(bufs).await
    }

    /// Receives the next chunk of bytes, `None` once the peer has closed
    /// its side.
    ///
    /// The bytes arrive in buffers of the core's pool: with io_uring's
    /// provided buffers one multishot recv stays armed and the kernel fills
    /// them as data arrives, with no SQE per read; on epoll each recv reads
    /// into a free buffer of the pool. Hold [`RecvBuf`]s briefly: each one
    /// is a pool buffer that no connection on this core can use until it is
    /// dropped. One task at a time should call `recv` on a stream.
    pub async fn recv(&self) -> io::Result<Option<RecvBuf>> {
        self.conn.recv().await
    }

    /// Sets TCP_NODELAY.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.conn.sock().set_tcp_nodelay(nodelay)
    }

    /// Whether TCP_NODELAY is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.conn.sock().tcp_nodelay()
    }

    /// Sets IP_TTL, the time-to-live of outgoing packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.conn.sock().set_ttl_v4(ttl)
    }

    /// IP_TTL.
    pub fn ttl(&self) -> io::Result<u32> {
        self.conn.sock().ttl_v4()
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        to_inet(self.conn.sock().local_addr()?)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        to_inet(self.conn.sock().peer_addr()?)
    }

    /// Shuts down the read, write or both halves.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.conn.shutdown(how)
    }

    /// Sets SO_LINGER (`Some(ZERO)` makes close send a RST).
    pub fn set_linger(&self, linger: Option<std::time::Duration>) -> io::Result<()> {
        self.conn.sock().set_linger(linger)
    }

    /// Splits the stream into a receiving and a sending half that can be
    /// moved into two tasks of this core.
    pub fn into_split(self) -> (super::ReadHalf, super::WriteHalf) {
        super::split::split(self.conn)
    }

    /// Closes the socket once every op using it has finished, through the
    /// ring, and reports the result of close.
    pub async fn close(self) -> io::Result<()> {
        self.conn.close().await
    }
}

/// Connects `socket` (fresh, or configured by a `TcpSocket`) to `addr`.
pub(crate) async fn connect_socket(socket: Socket, addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = Op::submit(Connect::new(socket, SockAddr::from(addr))).await?;
    Ok(TcpStream::from_fd(socket.into()))
}

pub(crate) fn to_inet(addr: SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an inet socket"))
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("fd", &self.conn.fd().raw())
            .finish()
    }
}
