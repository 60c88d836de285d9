//! `UdpSocket`: datagrams over the core's driver, with owned buffers.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::OwnedFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::datagram::Datagram;
use super::stream::to_inet;
use crate::buf::{IoBuf, IoBufMut, RecvBuf};

/// A UDP socket.
///
/// As with [`TcpStream`](super::TcpStream), sends and receives take the
/// buffer by value and hand it back with the result. A receive reads one
/// datagram; a datagram longer than the buffer is truncated to it, as with
/// std (`recv_buf_from` reports that as an error instead). Dropping the
/// socket closes it once no op uses it; dropping a pending receive cancels
/// it, and its buffer is kept until the kernel lets go.
///
/// ```
/// use uringo::net::UdpSocket;
///
/// uringo::start(async {
///     let server = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let client = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let (res, _) = client.send_to(b"ping".to_vec(), server.local_addr().unwrap()).await;
///     res.unwrap();
///     let (res, buf) = server.recv_from(Vec::with_capacity(1500)).await;
///     let (n, from) = res.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], client.local_addr().unwrap()));
/// });
/// ```
pub struct UdpSocket {
    io: Datagram,
}

impl UdpSocket {
    /// Opens a socket bound to `addr` (port 0: the kernel picks one).
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::DGRAM.cloexec(),
            Some(Protocol::UDP),
        )?;
        socket.bind(&addr.into())?;
        Ok(Self::from_fd(socket.into()))
    }

    /// Wraps a bound std socket.
    pub fn from_std(socket: std::net::UdpSocket) -> UdpSocket {
        Self::from_fd(socket.into())
    }

    fn from_fd(fd: OwnedFd) -> UdpSocket {
        UdpSocket {
            io: Datagram::new(fd),
        }
    }

    /// Sets the default destination, and receives only from `addr` from
    /// now on (connect(2) on a datagram socket: no packet is sent).
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.io.sock().connect(&addr.into())
    }

    /// Sends `buf` as one datagram to `addr`; returns the bytes sent.
    pub async fn send_to<B: IoBuf>(&self, buf: B, addr: SocketAddr) -> (io::Result<usize>, B) {
        self.io.send_to(buf, SockAddr::from(addr)).await
    }

    /// Receives one datagram into `buf` (up to its capacity); returns its
    /// length and sender.
    pub async fn recv_from<B: IoBufMut>(&self, buf: B) -> (io::Result<(usize, SocketAddr)>, B) {
        let (result, buf) = self.io.recv_from(buf).await;
        (result.and_then(|(n, addr)| Ok((n, to_inet(addr)?))), buf)
    }

    /// Like [`recv_from`](Self::recv_from), but leaves the datagram queued
    /// (MSG_PEEK).
    pub async fn peek_from<B: IoBufMut>(&self, buf: B) -> (io::Result<(usize, SocketAddr)>, B) {
        let (result, buf) = self.io.peek_from(buf).await;
        (result.and_then(|(n, addr)| Ok((n, to_inet(addr)?))), buf)
    }

    /// Receives the next datagram into a buffer of the core's pool, with
    /// its sender.
    ///
    /// With io_uring (Linux 6.0 and provided buffers) one multishot recvmsg
    /// stays armed for the socket and the kernel fills pool buffers as
    /// datagrams arrive, with no SQE per datagram; elsewhere each call is
    /// one recvmsg. A pool buffer holds a datagram of up to
    /// [`Builder::recv_buffers`](crate::Builder::recv_buffers)' size less
    /// 144 bytes (for the kernel's header and the address); a longer one
    /// is an [`InvalidData`](io::ErrorKind::InvalidData) error naming its
    /// length, and the socket stays usable. Cancel-safe: the op belongs to
    /// the socket. Use either this or `recv_from` on a socket, not both.
    pub async fn recv_buf_from(&self) -> io::Result<(RecvBuf, SocketAddr)> {
        let (buf, addr) = self.io.recv_buf_from().await?;
        Ok((buf, to_inet(addr)?))
    }

    /// Sends `buf` to the connected peer.
    pub async fn send<B: IoBuf>(&self, buf: B) -> (io::Result<usize>, B) {
        self.io.send(buf).await
    }

    /// Receives a datagram from the connected peer into `buf`.
    pub async fn recv<B: IoBufMut>(&self, buf: B) -> (io::Result<usize>, B) {
        self.io.recv(buf).await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        to_inet(self.io.sock().local_addr()?)
    }

    /// The connected peer's address (ENOTCONN if not connected).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        to_inet(self.io.sock().peer_addr()?)
    }

    /// Sets SO_BROADCAST: whether datagrams may go to a broadcast address.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.sock().set_broadcast(on)
    }

    /// SO_BROADCAST.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.sock().broadcast()
    }

    /// Sets IP_TTL, the time-to-live of outgoing datagrams.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.sock().set_ttl_v4(ttl)
    }

    /// IP_TTL.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.sock().ttl_v4()
    }

    /// Joins the IPv4 multicast group `group` on the interface with
    /// address `interface` (`UNSPECIFIED`: the kernel's choice).
    pub fn join_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.sock().join_multicast_v4(&group, &interface)
    }

    /// Leaves a group joined with [`join_multicast_v4`](Self::join_multicast_v4).
    pub fn leave_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.sock().leave_multicast_v4(&group, &interface)
    }

    /// Joins the IPv6 multicast group `group` on interface index
    /// `interface` (0: the kernel's choice).
    pub fn join_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.sock().join_multicast_v6(&group, interface)
    }

    /// Leaves a group joined with [`join_multicast_v6`](Self::join_multicast_v6).
    pub fn leave_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.sock().leave_multicast_v6(&group, interface)
    }

    /// Sets IP_MULTICAST_LOOP: whether this host's own multicast datagrams
    /// come back to it.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.sock().set_multicast_loop_v4(on)
    }

    /// Sets IP_MULTICAST_TTL.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.sock().set_multicast_ttl_v4(ttl)
    }

    /// Takes the pending socket error (SO_ERROR), such as an ICMP port
    /// unreachable reported for an earlier send on a connected socket.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.sock().take_error()
    }

    /// Closes the socket once every op using it has finished.
    pub async fn close(self) -> io::Result<()> {
        self.io.close().await
    }
}

impl std::fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpSocket")
            .field("fd", &self.io.fd().raw())
            .finish()
    }
}
