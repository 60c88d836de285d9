//! TCP over the core's ring.
//!
//! Sockets belong to the core that made them (`!Send`): their ops live in
//! that core's ring. To share a stream between a reader and a writer task
//! on the same core, put it in an `Rc`.

mod listener;
mod reuseport;
mod shared_fd;
mod split;
mod stream;

pub use listener::{Incoming, TcpListener};
pub(crate) use shared_fd::SharedFd;
pub use split::{ReadHalf, WriteHalf};
pub use stream::TcpStream;
