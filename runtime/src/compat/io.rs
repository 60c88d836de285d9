//! The poll-based read and write state machines behind every compat
//! stream, written once over [`RawStream`] (what a native uringo stream
//! offers) so each stream type only plugs itself in.
//!
//! Reads take the provided buffers `recv()` yields and copy them straight
//! into the caller's buffer (the one copy), keeping the rest of a buffer
//! for the next read. Writes copy the caller's bytes into an owned buffer
//! and submit it at once; the write is then the stream's until it
//! completes, so "accepted" means "will be written" and `poll_flush` waits
//! for it.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{ready, Context, Poll};

use crate::buf::RecvBuf;

/// What the compat layer needs from a native stream.
pub(crate) trait RawStream: 'static {
    /// The native `recv()`: cancel-safe, its op belongs to the stream.
    fn recv(&self) -> impl Future<Output = io::Result<Option<RecvBuf>>> + '_;
    /// The native `write_all` with an owned buffer.
    fn write_all(&self, buf: Vec<u8>) -> impl Future<Output = (io::Result<()>, Vec<u8>)> + '_;
    /// shutdown(2) of the write side.
    fn shutdown_write(&self) -> io::Result<()>;
}

/// `RawStream` for native stream types, which share their I/O methods.
macro_rules! raw_stream {
    ($native:ty) => {
        impl RawStream for $native {
            fn recv(&self) -> impl Future<Output = io::Result<Option<RecvBuf>>> + '_ {
                <$native>::recv(self)
            }
            fn write_all(
                &self,
                buf: Vec<u8>,
            ) -> impl Future<Output = (io::Result<()>, Vec<u8>)> + '_ {
                <$native>::write_all(self, buf)
            }
            fn shutdown_write(&self) -> io::Result<()> {
                self.shutdown(std::net::Shutdown::Write)
            }
        }
    };
}

raw_stream!(crate::net::TcpStream);
raw_stream!(crate::net::UnixStream);

/// The read side: the rest of the last received buffer, if any.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    pending: Option<RecvBuf>,
    offset: usize,
    eof: bool,
}

impl Reader {
    /// Copies up to `room` bytes into the caller's buffer through `put`;
    /// copying nothing (with `room > 0`) means end of stream.
    pub(crate) fn poll_read<S: RawStream>(
        &mut self,
        stream: &S,
        cx: &mut Context<'_>,
        room: usize,
        put: impl FnOnce(&[u8]),
    ) -> Poll<io::Result<()>> {
        if room == 0 {
            return Poll::Ready(Ok(()));
        }
        while self.pending.is_none() && !self.eof {
            // Polling a fresh `recv()` future once and dropping it is what
            // its cancel safety allows: the armed op stays in the stream.
            match ready!(pin!(stream.recv()).poll(cx)) {
                Ok(Some(buf)) if buf.is_empty() => {}
                Ok(Some(buf)) => {
                    self.pending = Some(buf);
                    self.offset = 0;
                }
                Ok(None) => self.eof = true,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        if let Some(buf) = &self.pending {
            let rest = &buf[self.offset..];
            let n = rest.len().min(room);
            put(&rest[..n]);
            self.offset += n;
            if self.offset == buf.len() {
                // Back to the ring as soon as it is consumed.
                self.pending = None;
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The largest write accepted at once; a larger one is accepted in part.
const MAX_WRITE: usize = 256 * 1024;
/// A write buffer up to this size is kept for the next write.
const KEEP_BUFFER: usize = 64 * 1024;

type WriteFuture = Pin<Box<dyn Future<Output = (io::Result<()>, Vec<u8>)>>>;

/// The write side: at most one owned-buffer write in flight.
#[derive(Default)]
pub(crate) struct Writer {
    in_flight: Option<WriteFuture>,
    spare: Vec<u8>,
    shut_down: bool,
}

impl Writer {
    /// Waits for the write in flight, then accepts (copies and submits)
    /// as much of `bufs` as one write takes.
    pub(crate) fn poll_write<S: RawStream>(
        &mut self,
        stream: &Rc<S>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_flush(cx))?;
        if self.shut_down {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after shutdown",
            )));
        }
        let mut buf = std::mem::take(&mut self.spare);
        buf.clear();
        for slice in bufs {
            let room = MAX_WRITE - buf.len();
            buf.extend_from_slice(&slice[..slice.len().min(room)]);
            if buf.len() == MAX_WRITE {
                break;
            }
        }
        let accepted = buf.len();
        if accepted == 0 {
            self.spare = buf;
            return Poll::Ready(Ok(0));
        }
        let stream = stream.clone();
        self.in_flight = Some(Box::pin(async move { stream.write_all(buf).await }));
        // Submit now; an error is reported by the next call.
        let _ = self.poll_flush(cx);
        Poll::Ready(Ok(accepted))
    }

    /// Ready once every accepted byte is written (or writing failed).
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(write) = self.in_flight.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let (result, buf) = ready!(write.as_mut().poll(cx));
        self.in_flight = None;
        if buf.capacity() <= KEEP_BUFFER {
            self.spare = buf;
        }
        Poll::Ready(result)
    }

    /// Flushes, then shuts down the write side (once).
    pub(crate) fn poll_shutdown<S: RawStream>(
        &mut self,
        stream: &S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(self.poll_flush(cx))?;
        if !self.shut_down {
            self.shut_down = true;
            stream.shutdown_write()?;
        }
        Poll::Ready(Ok(()))
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("in_flight", &self.in_flight.is_some())
            .field("shut_down", &self.shut_down)
            .finish()
    }
}
