//! Name resolution: [`lookup_host`] and the [`ToSocketAddrs`] that
//! `TcpStream::connect` takes.
//!
//! getaddrinfo(3) blocks, so a host name is resolved on the blocking pool
//! (`spawn_blocking`) with std's resolver, while the core runs other tasks.
//! A literal address (`"127.0.0.1:80"`, a `SocketAddr`) is parsed on the
//! spot, with no thread involved.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// What [`lookup_host`] and [`TcpStream::connect`](super::TcpStream::connect)
/// accept: a socket address, an `(ip, port)` pair, or a `"host:port"` /
/// `(host, port)` to resolve. Implemented for the same types as std's
/// `ToSocketAddrs`; sealed, because how a value resolves is this crate's
/// business.
pub trait ToSocketAddrs: sealed::Resolve {}

mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// How a value resolves.
    pub enum Resolution {
        /// Known without a lookup.
        Ready(io::Result<Vec<SocketAddr>>),
        /// `"host:port"` for std's resolver.
        HostPort(String),
        /// A host and a port for std's resolver.
        Host(String, u16),
    }

    pub trait Resolve {
        fn resolution(&self) -> Resolution;
    }
}

use sealed::Resolution;

/// Resolves `host` (`"example.com:80"`, `("localhost", 8080)`, or a literal
/// address) to its socket addresses, in the order the resolver gives them.
/// Host names are looked up on the blocking pool.
///
/// ```
/// uringo::start(async {
///     let addrs: Vec<_> = uringo::net::lookup_host("localhost:80").await.unwrap().collect();
///     assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
/// });
/// ```
pub async fn lookup_host<A: ToSocketAddrs>(host: A) -> io::Result<std::vec::IntoIter<SocketAddr>> {
    resolve(&host).await.map(Vec::into_iter)
}

/// The addresses `addr` names, resolved as [`lookup_host`] does.
pub(crate) async fn resolve<A: ToSocketAddrs + ?Sized>(addr: &A) -> io::Result<Vec<SocketAddr>> {
    let lookup = match addr.resolution() {
        Resolution::Ready(addrs) => return addrs,
        Resolution::HostPort(s) => {
            crate::blocking::spawn_blocking(move || std::net::ToSocketAddrs::to_socket_addrs(&s))
        }
        Resolution::Host(h, port) => crate::blocking::spawn_blocking(move || {
            std::net::ToSocketAddrs::to_socket_addrs(&(h.as_str(), port))
        }),
    };
    Ok(lookup.await?.collect())
}

/// Runs `attempt` on each address in turn and returns the first success,
/// or the last error (as tokio's and Go's dialers do).
pub(crate) async fn each_addr<T, F, Fut>(addrs: Vec<SocketAddr>, mut attempt: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in addrs {
        match attempt(addr).await {
            Ok(value) => return Ok(value),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

/// A host:port string: a literal address is parsed here, anything else
/// goes to the resolver.
fn host_port(s: &str) -> Resolution {
    match s.parse::<SocketAddr>() {
        Ok(addr) => Resolution::Ready(Ok(vec![addr])),
        Err(_) => Resolution::HostPort(s.to_owned()),
    }
}

fn host_and_port(host: &str, port: u16) -> Resolution {
    match host.parse::<IpAddr>() {
        Ok(ip) => Resolution::Ready(Ok(vec![SocketAddr::new(ip, port)])),
        Err(_) => Resolution::Host(host.to_owned(), port),
    }
}

macro_rules! ready_addrs {
    ($($ty:ty),*) => {$(
        impl sealed::Resolve for $ty {
            fn resolution(&self) -> Resolution {
                Resolution::Ready(std::net::ToSocketAddrs::to_socket_addrs(self).map(Vec::from_iter))
            }
        }
        impl ToSocketAddrs for $ty {}
    )*};
}

ready_addrs!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl sealed::Resolve for [SocketAddr] {
    fn resolution(&self) -> Resolution {
        Resolution::Ready(Ok(self.to_vec()))
    }
}
impl ToSocketAddrs for [SocketAddr] {}

impl sealed::Resolve for str {
    fn resolution(&self) -> Resolution {
        host_port(self)
    }
}
impl ToSocketAddrs for str {}

impl sealed::Resolve for String {
    fn resolution(&self) -> Resolution {
        host_port(self)
    }
}
impl ToSocketAddrs for String {}

impl sealed::Resolve for (&str, u16) {
    fn resolution(&self) -> Resolution {
        host_and_port(self.0, self.1)
    }
}
impl ToSocketAddrs for (&str, u16) {}

impl sealed::Resolve for (String, u16) {
    fn resolution(&self) -> Resolution {
        host_and_port(&self.0, self.1)
    }
}
impl ToSocketAddrs for (String, u16) {}

impl<T: ToSocketAddrs + ?Sized> sealed::Resolve for &T {
    fn resolution(&self) -> Resolution {
        (**self).resolution()
    }
}
impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
