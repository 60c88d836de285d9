//! `compat::TcpStream` and its split halves: a native
//! [`net::TcpStream`](crate::net::TcpStream) behind the poll-based I/O
//! traits.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use super::io::{Reader, Writer};
use super::traits::{impl_read, impl_write};
use crate::net;

/// A TCP connection implementing `tokio::io::{AsyncRead, AsyncWrite}`,
/// `futures_io::{AsyncRead, AsyncWrite}` and hyper's `rt::{Read, Write}`.
///
/// Reads copy once, from the provided buffer the kernel filled into the
/// caller's buffer; when the caller's buffer is the smaller, the rest waits
/// in the stream for the next read (holding that one ring buffer until
/// then). Writes copy the caller's bytes into an owned buffer
/// and submit it; `poll_write` returns `Ready(Ok(n))` once `n` bytes are
/// accepted, and waits for that write before accepting the next. An error
/// of an accepted write is returned by the next write, flush or shutdown.
///
/// Cancel safety is the native API's: dropping a read loses nothing (the
/// unread rest of a buffer stays in the stream). Dropping the stream
/// without `poll_flush` cancels a write still in flight, as dropping a
/// native `write_all` future does; its buffer is kept until the kernel lets
/// go. Call `flush` (or `shutdown`) before dropping to be sure it was sent.
#[derive(Debug)]
pub struct TcpStream {
    stream: Rc<net::TcpStream>,
    reader: Reader,
    writer: Writer,
}

impl TcpStream {
    /// Wraps a native stream.
    pub fn new(stream: net::TcpStream) -> TcpStream {
        TcpStream {
            stream: Rc::new(stream),
            reader: Reader::default(),
            writer: Writer::default(),
        }
    }

    /// Opens a connection to `addr`.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        Ok(TcpStream::new(net::TcpStream::connect(addr).await?))
    }

    /// The native stream, for its socket options and addresses.
    pub fn get_ref(&self) -> &net::TcpStream {
        &self.stream
    }

    /// Splits the stream into a read half and a write half, for two tasks
    /// of this core.
    pub fn into_split(self) -> (ReadHalf, WriteHalf) {
        let read = ReadHalf {
            stream: self.stream.clone(),
            reader: self.reader,
        };
        let write = WriteHalf {
            stream: self.stream,
            writer: self.writer,
        };
        (read, write)
    }
}

impl From<net::TcpStream> for TcpStream {
    fn from(stream: net::TcpStream) -> TcpStream {
        TcpStream::new(stream)
    }
}

/// The read half of [`TcpStream::into_split`].
#[derive(Debug)]
pub struct ReadHalf {
    stream: Rc<net::TcpStream>,
    reader: Reader,
}

/// The write half of [`TcpStream::into_split`]. Dropping it shuts down the
/// write side, so the peer sees end of stream (as tokio's owned halves do).
#[derive(Debug)]
pub struct WriteHalf {
    stream: Rc<net::TcpStream>,
    writer: Writer,
}

impl Drop for WriteHalf {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
    }
}

impl_read!(TcpStream);
impl_write!(TcpStream);
impl_read!(ReadHalf);
impl_write!(WriteHalf);
