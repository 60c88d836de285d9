//! `compat::TcpStream` and its split halves: a native
//! [`net::TcpStream`](crate::net::TcpStream) behind the poll-based I/O
//! traits.

use std::io;
use std::net::SocketAddr;

use crate::net;

super::stream::compat_stream!(TcpStream, net::TcpStream, ReadHalf, WriteHalf);

impl TcpStream {
    /// Opens a connection to `addr`.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        Ok(TcpStream::new(net::TcpStream::connect(addr).await?))
    }
}
