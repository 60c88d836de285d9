//! `TcpSocket`: a TCP socket configured before it connects or listens
//! (bind to a local address first, keepalive, buffer sizes, reuse), as
//! tokio's `TcpSocket` does, on socket2.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, TcpKeepalive, Type};

use super::stream::{connect_socket, to_inet};
use super::{TcpListener, TcpStream};

/// A TCP socket that has not yet connected or listened.
///
/// ```
/// use uringo::net::{TcpListener, TcpSocket};
///
/// uringo::start(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let socket = TcpSocket::new_v4().unwrap();
///     socket.set_keepalive(true).unwrap();
///     socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let local = socket.local_addr().unwrap();
///     let stream = socket.connect(listener.local_addr().unwrap()).await.unwrap();
///     assert_eq!(stream.local_addr().unwrap(), local);
/// });
/// ```
#[derive(Debug)]
pub struct TcpSocket {
    socket: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket.
    pub fn new_v4() -> io::Result<TcpSocket> {
        Self::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket.
    pub fn new_v6() -> io::Result<TcpSocket> {
        Self::new(Domain::IPV6)
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        let socket = Socket::new(domain, Type::STREAM.cloexec(), Some(Protocol::TCP))?;
        Ok(TcpSocket { socket })
    }

    /// Binds to a local address (port 0: the kernel picks one), before
    /// `connect` (to choose the source address) or `listen`.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.socket.bind(&addr.into())
    }

    /// The local address (after `bind`).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        to_inet(self.socket.local_addr()?)
    }

    /// Sets SO_REUSEADDR: bind to a port in TIME_WAIT.
    pub fn set_reuseaddr(&self, on: bool) -> io::Result<()> {
        self.socket.set_reuse_address(on)
    }

    /// SO_REUSEADDR.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.socket.reuse_address()
    }

    /// Sets SO_REUSEPORT: several sockets may bind the same port (one
    /// listener per core; the kernel spreads connections among them).
    pub fn set_reuseport(&self, on: bool) -> io::Result<()> {
        self.socket.set_reuse_port(on)
    }

    /// SO_REUSEPORT.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.socket.reuse_port()
    }

    /// Sets SO_KEEPALIVE, with the kernel's default timings.
    pub fn set_keepalive(&self, on: bool) -> io::Result<()> {
        self.socket.set_keepalive(on)
    }

    /// SO_KEEPALIVE.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.socket.keepalive()
    }

    /// Turns keepalive on, probing after `idle` without traffic, every
    /// `interval`, `retries` times before the connection is dropped.
    pub fn set_keepalive_params(
        &self,
        idle: Duration,
        interval: Duration,
        retries: u32,
    ) -> io::Result<()> {
        let params = TcpKeepalive::new()
            .with_time(idle)
            .with_interval(interval)
            .with_retries(retries);
        self.socket.set_tcp_keepalive(&params)
    }

    /// Sets SO_SNDBUF (the kernel doubles it, and caps it at
    /// `net.core.wmem_max`).
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.socket.set_send_buffer_size(size as usize)
    }

    /// SO_SNDBUF, as the kernel reports it.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.socket.send_buffer_size().map(|n| n as u32)
    }

    /// Sets SO_RCVBUF (the kernel doubles it, and caps it at
    /// `net.core.rmem_max`).
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.socket.set_recv_buffer_size(size as usize)
    }

    /// SO_RCVBUF, as the kernel reports it.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.socket.recv_buffer_size().map(|n| n as u32)
    }

    /// Sets IP_TTL.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.socket.set_ttl_v4(ttl)
    }

    /// IP_TTL.
    pub fn ttl(&self) -> io::Result<u32> {
        self.socket.ttl_v4()
    }

    /// Sets TCP_NODELAY.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.socket.set_tcp_nodelay(on)
    }

    /// Sets SO_LINGER.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.socket.set_linger(linger)
    }

    /// Connects to `addr`, turning the socket into a stream.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        connect_socket(self.socket, addr).await
    }

    /// Listens (after `bind`), with room for `backlog` connections not yet
    /// accepted.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        self.socket.listen(backlog.min(i32::MAX as u32) as i32)?;
        Ok(TcpListener::from_owned(self.socket.into()))
    }

    /// Wraps a std stream's socket, e.g. to read its options (it is already
    /// connected: only the setters apply).
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        TcpSocket {
            socket: stream.into(),
        }
    }
}
