//! `compat::unix::UnixStream` and its split halves: a native
//! [`crate::net::UnixStream`] behind the poll-based I/O
//! traits, exactly as the TCP stream.

use std::io;
use std::path::Path;

use crate::net;

super::stream::compat_stream!(UnixStream, net::UnixStream, ReadHalf, WriteHalf);

impl UnixStream {
    /// Connects to the socket bound at `path`.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        Ok(UnixStream::new(net::UnixStream::connect(path).await?))
    }

    /// A connected pair of unnamed sockets (socketpair(2)).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = net::UnixStream::pair()?;
        Ok((UnixStream::new(a), UnixStream::new(b)))
    }
}
