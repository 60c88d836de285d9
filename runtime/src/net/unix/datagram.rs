//! `UnixDatagram`: Unix datagram sockets, on the datagram I/O `UdpSocket`
//! uses.

use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use socket2::{Socket, Type};

use super::{path_addr, socket, SocketAddr};
use crate::buf::{IoBuf, IoBufMut, RecvBuf};
use crate::net::datagram::Datagram;

/// A Unix domain datagram socket.
///
/// Sends and receives take the buffer by value and hand it back, as with
/// [`UdpSocket`](crate::net::UdpSocket). Dropping it closes the socket once
/// no op uses it; the socket file stays (see the [module docs](super)).
pub struct UnixDatagram {
    io: Datagram,
}

impl UnixDatagram {
    /// Creates the socket file `path` and binds to it.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let socket = socket(Type::DGRAM)?;
        socket.bind(&path_addr(path.as_ref())?)?;
        Ok(Self::from_fd(socket.into()))
    }

    /// A socket bound to no name: it can send, and receive replies only
    /// once connected (or from a peer of a `pair`).
    pub fn unbound() -> io::Result<UnixDatagram> {
        Ok(Self::from_fd(socket(Type::DGRAM)?.into()))
    }

    /// A connected pair of unnamed sockets (socketpair(2)).
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = Socket::pair(socket2::Domain::UNIX, Type::DGRAM.cloexec(), None)?;
        Ok((Self::from_fd(a.into()), Self::from_fd(b.into())))
    }

    /// Wraps a std socket.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> UnixDatagram {
        Self::from_fd(socket.into())
    }

    fn from_fd(fd: OwnedFd) -> UnixDatagram {
        UnixDatagram {
            io: Datagram::new(fd),
        }
    }

    /// Sets the default destination, and receives only from `path` from
    /// now on.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.sock().connect(&path_addr(path.as_ref())?)
    }

    /// Sends `buf` as one datagram to the socket bound at `path`.
    pub async fn send_to<B: IoBuf>(
        &self,
        buf: B,
        path: impl AsRef<Path>,
    ) -> (io::Result<usize>, B) {
        match path_addr(path.as_ref()) {
            Ok(addr) => self.io.send_to(buf, addr).await,
            Err(e) => (Err(e), buf),
        }
    }

    /// Receives one datagram into `buf` (up to its capacity); returns its
    /// length and sender.
    pub async fn recv_from<B: IoBufMut>(&self, buf: B) -> (io::Result<(usize, SocketAddr)>, B) {
        let (result, buf) = self.io.recv_from(buf).await;
        (result.map(|(n, addr)| (n, SocketAddr::new(addr))), buf)
    }

    /// The next datagram in a buffer of the core's pool, with its sender.
    /// See [`UdpSocket::recv_buf_from`](crate::net::UdpSocket::recv_buf_from).
    pub async fn recv_buf_from(&self) -> io::Result<(RecvBuf, SocketAddr)> {
        let (buf, addr) = self.io.recv_buf_from().await?;
        Ok((buf, SocketAddr::new(addr)))
    }

    /// Sends `buf` to the connected peer.
    pub async fn send<B: IoBuf>(&self, buf: B) -> (io::Result<usize>, B) {
        self.io.send(buf).await
    }

    /// Receives a datagram from the connected peer into `buf`.
    pub async fn recv<B: IoBufMut>(&self, buf: B) -> (io::Result<usize>, B) {
        self.io.recv(buf).await
    }

    /// The local address (unnamed if not bound).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(self.io.sock().local_addr()?))
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(self.io.sock().peer_addr()?))
    }

    /// Closes the socket once every op using it has finished.
    pub async fn close(self) -> io::Result<()> {
        self.io.close().await
    }
}

impl std::fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("fd", &self.io.fd().raw())
            .finish()
    }
}
