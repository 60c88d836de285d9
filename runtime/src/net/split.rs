//! Owned read and write halves of a `TcpStream`, for a reader task and a
//! writer task on the same core.

use std::io;
use std::net::Shutdown;
use std::rc::Rc;

use super::TcpStream;
use crate::buf::{IoBuf, IoBufMut, RecvBuf};

/// The receiving half of [`TcpStream::into_split`].
#[derive(Debug)]
pub struct ReadHalf(Rc<TcpStream>);

/// The sending half of [`TcpStream::into_split`]. Dropping it shuts down
/// the write side, so the peer sees end of stream.
#[derive(Debug)]
pub struct WriteHalf(Rc<TcpStream>);

pub(super) fn split(stream: TcpStream) -> (ReadHalf, WriteHalf) {
    let stream = Rc::new(stream);
    (ReadHalf(stream.clone()), WriteHalf(stream))
}

impl ReadHalf {
    /// See [`TcpStream::recv`].
    pub async fn recv(&self) -> io::Result<Option<RecvBuf>> {
        self.0.recv().await
    }

    /// See [`TcpStream::read`].
    pub async fn read<B: IoBufMut>(&self, buf: B) -> (io::Result<usize>, B) {
        self.0.read(buf).await
    }
}

impl WriteHalf {
    /// See [`TcpStream::write`].
    pub async fn write<B: IoBuf>(&self, buf: B) -> (io::Result<usize>, B) {
        self.0.write(buf).await
    }

    /// See [`TcpStream::write_all`].
    pub async fn write_all<B: IoBuf>(&self, buf: B) -> (io::Result<()>, B) {
        self.0.write_all(buf).await
    }
}

impl Drop for WriteHalf {
    fn drop(&mut self) {
        let _ = self.0.shutdown(Shutdown::Write);
    }
}
