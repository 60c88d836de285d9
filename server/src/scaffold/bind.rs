//! Resolving `--listen` to one concrete address before the cores bind.
//!
//! Every core binds its own SO_REUSEPORT listener, so with port 0 each would get a different
//! port. Instead a bound (not listening) SO_REUSEPORT socket is made first: it fixes the port,
//! keeps it ours while the cores bind to it, and, never listening, is never handed connections.
//!
//! SO_REUSEPORT would also let a second server of the same user bind a port the first one
//! listens on, and the kernel would split the connections between them. So before reserving,
//! a plain bind (SO_REUSEADDR only) checks that nothing listens there: if something does, the
//! server refuses to start with "address in use".

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;

/// Holds the port until every core has bound.
pub struct Reservation {
    _socket: Socket,
    addr: SocketAddr,
}

impl Reservation {
    pub fn new(addr: SocketAddr) -> io::Result<Reservation> {
        if addr.port() != 0 {
            refuse_in_use(addr)?;
        }
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.cloexec(),
            Some(Protocol::TCP),
        )?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        socket.bind(&addr.into())?;
        let addr = socket
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("listen address is not an IP address"))?;
        Ok(Reservation {
            _socket: socket,
            addr,
        })
    }

    /// The address with the port resolved.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Fails with `AddrInUse` if a socket already listens on `addr`.
fn refuse_in_use(addr: SocketAddr) -> io::Result<()> {
    let probe = Socket::new(Domain::for_address(addr), Type::STREAM.cloexec(), None)?;
    // SO_REUSEADDR: a connection in TIME_WAIT does not count as "in use"; a listener does.
    probe.set_reuse_address(true)?;
    probe.bind(&addr.into()).map_err(|e| match e.kind() {
        io::ErrorKind::AddrInUse => io::Error::new(
            e.kind(),
            format!("{addr} is already in use (is another server running?)"),
        ),
        _ => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reuseport_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        s.set_reuse_address(true)?;
        s.set_reuse_port(true)?;
        s.bind(&addr.into())?;
        s.listen(16)?;
        Ok(s.into())
    }

    #[test]
    fn port_zero_resolves_and_listeners_can_share_it() {
        let r = Reservation::new("127.0.0.1:0".parse().unwrap()).unwrap();
        assert_ne!(r.addr().port(), 0);
        let _a = reuseport_listener(r.addr()).unwrap();
        let _b = reuseport_listener(r.addr()).unwrap();
        std::net::TcpStream::connect(r.addr()).unwrap();
    }

    #[test]
    fn an_address_someone_listens_on_is_refused() {
        let taken = reuseport_listener("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = taken.local_addr().unwrap();
        let err = Reservation::new(addr).err().expect("refused");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains("already in use"), "{err}");
        drop(taken);
        assert!(Reservation::new(addr).is_ok(), "free again once it closed");
    }

    #[test]
    fn reserved_port_is_not_free_for_a_plain_bind() {
        let r = Reservation::new("127.0.0.1:0".parse().unwrap()).unwrap();
        let plain = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        assert!(plain.bind(&r.addr().into()).is_err());
    }
}
