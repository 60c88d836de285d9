//! [`WriteAll`], the future of `write_all` on a stream: one send at a
//! time, each from where the last one stopped, in one flat struct.
//!
//! Written by hand because it sits in every connection task that echoes or
//! relays: as an `async fn` it nested a send future inside a loop future
//! inside the public method's future, each keeping its own copy of the
//! buffer, and an idle connection task paid for all of them (README
//! "Memory"). This one holds the send and what it needs to go on.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::conn::Conn;
use crate::buf::IoBuf;
use crate::op::{Op, Send};

/// Writes all of a buffer to a stream; the output is the result and the
/// buffer. Nothing is sent until it is first polled. Dropping it cancels
/// the send in flight (the buffer is kept until the kernel lets go); how
/// much was written by then is unknown, as with any cancelled write.
#[must_use = "futures do nothing unless polled"]
pub struct WriteAll<'a, B: IoBuf> {
    conn: &'a Conn,
    /// Bytes of the buffer already written.
    offset: usize,
    state: State<B>,
}

enum State<B: IoBuf> {
    /// Between sends: the buffer, taken once the future completes.
    Between(Option<B>),
    Sending(Op<Send<B>>),
}

impl<'a, B: IoBuf> WriteAll<'a, B> {
    pub(crate) fn new(conn: &'a Conn, buf: B) -> WriteAll<'a, B> {
        WriteAll {
            conn,
            offset: 0,
            state: State::Between(Some(buf)),
        }
    }
}

// Nothing in it is pinned: the op is a plain value the driver finds by its
// ticket, and the buffer's memory is its own (IoBuf's contract).
impl<B: IoBuf> Unpin for WriteAll<'_, B> {}

impl<B: IoBuf> Future for WriteAll<'_, B> {
    type Output = (io::Result<()>, B);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Between(buf) => {
                    // After the stream's write-behind send, if one is in flight.
                    let ended = std::task::ready!(this.conn.behind().poll_ended(cx));
                    let buf = buf.take().expect("WriteAll polled after completion");
                    if let Err(e) = ended {
                        return Poll::Ready((Err(e), buf));
                    }
                    if this.offset >= buf.bytes_init() {
                        return Poll::Ready((Ok(()), buf));
                    }
                    let send = Send::new(this.conn.fd().clone(), buf, this.offset);
                    this.state = State::Sending(Op::submit(send));
                }
                State::Sending(op) => {
                    let (sent, buf) = std::task::ready!(Pin::new(op).poll(cx));
                    if let Err(e) = advance(&mut this.offset, sent) {
                        this.state = State::Between(None);
                        return Poll::Ready((Err(e), buf));
                    }
                    this.state = State::Between(Some(buf));
                }
            }
        }
    }
}

/// Counts the bytes a send wrote towards `offset`; a send of nothing is
/// WriteZero, EINTR is retried.
pub(super) fn advance(offset: &mut usize, sent: io::Result<usize>) -> io::Result<()> {
    match sent {
        Ok(0) => Err(io::ErrorKind::WriteZero.into()),
        Ok(n) => {
            *offset += n;
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::net::{TcpListener, TcpStream};

    /// A buffer larger than the socket takes in one send is written in several, each from
    /// where the last stopped (the bytes' pattern shows any gap or repeat); an empty one
    /// completes at once.
    #[test]
    fn writes_every_byte_in_order_across_short_sends() {
        let rt = crate::Builder::new().cores(1).build().expect("runtime");
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
            let client = TcpStream::connect(listener.local_addr().expect("addr"))
                .await
                .expect("connect");
            let (server, _) = listener.accept().await.expect("accept");
            let (res, empty) = client.write_all(Vec::<u8>::new()).await;
            assert!(res.is_ok() && empty.is_empty());
            let data: Vec<u8> = (0..8usize << 20).map(|i| (i % 251) as u8).collect();
            let expected = data.clone();
            let writer = crate::spawn(async move {
                let (res, buf) = client.write_all(data).await;
                res.expect("write_all");
                buf.len()
            });
            let mut got = Vec::with_capacity(expected.len());
            while got.len() < expected.len() {
                let (n, buf) = server.read(vec![0u8; 64 * 1024]).await;
                let n = n.expect("read");
                assert!(n > 0, "closed after {} bytes", got.len());
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(writer.await, expected.len(), "the buffer comes back whole");
            assert!(got == expected, "bytes differ");
        });
    }
}
