//! `TcpStream`: owned-buffer reads and writes, and multishot `recv` (the
//! I/O itself is `Conn`, and its methods come from `stream_io_methods!`,
//! both shared with `UnixStream`).

use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::conn::Conn;
use super::lookup::{each_addr, resolve, ToSocketAddrs};
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

    super::conn::stream_io_methods!();

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

    /// Sets SO_LINGER (`Some(ZERO)` makes close send a RST).
    pub fn set_linger(&self, linger: Option<std::time::Duration>) -> io::Result<()> {
        self.conn.sock().set_linger(linger)
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
