//! The address of a Unix socket: a path, or unnamed.

use std::fmt;
use std::path::Path;

use socket2::SockAddr;

/// The address of a Unix domain socket: the path it is bound to, or
/// unnamed (a socket never bound, such as a connecting client or one end of
/// a `pair()`). Like `std::os::unix::net::SocketAddr`, which has no public
/// constructor.
#[derive(Clone)]
pub struct SocketAddr {
    addr: SockAddr,
}

impl SocketAddr {
    pub(crate) fn new(addr: SockAddr) -> SocketAddr {
        SocketAddr { addr }
    }

    /// The path, if the socket is bound to one.
    pub fn as_pathname(&self) -> Option<&Path> {
        self.addr.as_pathname()
    }

    /// Whether the socket has no name.
    pub fn is_unnamed(&self) -> bool {
        // recvmsg reports a sender without a name with a length of 0 (no
        // family either), which socket2 does not count as unnamed.
        self.as_pathname().is_none() && self.addr.as_abstract_namespace().is_none()
    }
}

impl fmt::Debug for SocketAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_pathname() {
            Some(path) => write!(f, "{path:?} (pathname)"),
            None => f.write_str("(unnamed)"),
        }
    }
}
