//! Owned read and write halves of a `TcpStream` or `UnixStream`, for a
//! reader task and a writer task on the same core.

use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::conn::Conn;
use super::WriteAll;
use crate::buf::{IoBuf, IoBufMut, RecvBuf};

/// The receiving half of [`TcpStream::into_split`](super::TcpStream::into_split)
/// or [`UnixStream::into_split`](super::UnixStream::into_split).
#[derive(Debug)]
pub struct ReadHalf(Rc<Conn>);

/// The sending half of `into_split`. Dropping it shuts down the write
/// side, so the peer sees end of stream.
#[derive(Debug)]
pub struct WriteHalf(Rc<Conn>);

pub(super) fn split(conn: Conn) -> (ReadHalf, WriteHalf) {
    let conn = Rc::new(conn);
    (ReadHalf(conn.clone()), WriteHalf(conn))
}

impl ReadHalf {
    /// See [`TcpStream::recv`](super::TcpStream::recv).
    pub fn recv(&self) -> impl Future<Output = io::Result<Option<RecvBuf>>> + '_ {
        self.0.recv()
    }

    /// See [`TcpStream::poll_recv`](super::TcpStream::poll_recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<io::Result<Option<RecvBuf>>> {
        self.0.poll_recv(cx)
    }

    /// See [`TcpStream::read`](super::TcpStream::read).
    pub async fn read<B: IoBufMut>(&self, buf: B) -> (io::Result<usize>, B) {
        self.0.read(buf).await
    }

    /// See [`TcpStream::read_exact`](super::TcpStream::read_exact).
    pub async fn read_exact<B: IoBufMut>(&self, buf: B) -> (io::Result<()>, B) {
        self.0.read_exact(buf).await
    }
}

impl WriteHalf {
    /// See [`TcpStream::write`](super::TcpStream::write).
    pub async fn write<B: IoBuf>(&self, buf: B) -> (io::Result<usize>, B) {
        self.0.write(buf).await
    }

    /// See [`TcpStream::write_all`](super::TcpStream::write_all).
    pub fn write_all<B: IoBuf>(&self, buf: B) -> WriteAll<'_, B> {
        self.0.write_all(buf)
    }

    /// See [`TcpStream::write_all_vectored`](super::TcpStream::write_all_vectored).
    pub async fn write_all_vectored<B: IoBuf>(&self, bufs: Vec<B>) -> (io::Result<()>, Vec<B>) {
        self.0.write_all_vectored(bufs).await
    }
}

impl Drop for WriteHalf {
    fn drop(&mut self) {
        let _ = self.0.shutdown(Shutdown::Write);
    }
}
