//! Sockets over the core's driver: TCP ([`TcpListener`], [`TcpStream`],
//! [`TcpSocket`]), UDP ([`UdpSocket`]), Unix domain sockets ([`unix`]), and
//! name resolution ([`lookup_host`]).
//!
//! Sockets belong to the core that made them (`!Send`): their ops live in
//! that core's driver. To share a stream between a reader and a writer task
//! on the same core, put it in an `Rc`.

mod acceptor;
mod conn;
mod datagram;
mod listener;
mod lookup;
mod reuseport;
mod shared_fd;
mod sock_diag;
mod socket;
mod split;
mod stream;
mod udp;
pub mod unix;
mod write_all;
mod write_behind;

pub use acceptor::Incoming;
pub use listener::TcpListener;
pub use lookup::{lookup_host, ToSocketAddrs};
pub(crate) use shared_fd::{sqe_target, SharedFd};
pub use socket::TcpSocket;
pub use split::{ReadHalf, WriteHalf};
pub use stream::TcpStream;
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
pub use write_all::WriteAll;
pub use write_behind::WriteBehind;
