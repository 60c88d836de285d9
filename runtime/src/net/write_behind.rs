//! `write_behind`: a send of a received buffer that the stream's task does
//! not wait for.
//!
//! An echo or a relay sends back the very buffer the kernel filled. With
//! `write_all` its task is woken and polled once for the receive and once
//! more for the send's completion; with `write_behind` the driver ends the
//! send itself (io_uring: `driver/uring/behind.rs`), returning the buffer
//! to its ring, so the task runs once per message. The stream keeps one
//! word: the send in flight, which its next send waits for, and which is
//! how a failure reaches the stream (that next send returns it). At most
//! one such send is in flight per stream, so sends stay in order.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::conn::Conn;
use super::WriteAll;
use crate::buf::RecvBuf;
use crate::current;
use crate::driver::{Driver, NO_SEND};

/// A stream's write-behind send in flight (its user_data), if any.
pub(crate) struct SendBehind(Cell<u64>);

impl Default for SendBehind {
    fn default() -> SendBehind {
        SendBehind(Cell::new(NO_SEND))
    }
}

impl SendBehind {
    /// Ready once no write-behind send of the stream is in flight, with the
    /// failure of the last one if it failed; `cx`, if given, is woken when
    /// the one in flight ends.
    pub(crate) fn poll_ended(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.0.get() == NO_SEND {
            return Poll::Ready(Ok(()));
        }
        current::driver(|d| self.poll_ended_in(d, cx))
    }

    fn poll_ended_in(&self, driver: &mut Driver, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let user_data = self.0.get();
        if user_data == NO_SEND {
            return Poll::Ready(Ok(()));
        }
        let polled = driver.poll_behind(user_data, cx);
        if polled.is_ready() {
            self.0.set(NO_SEND);
        }
        polled
    }

    /// Waits until no write-behind send of the stream is in flight.
    pub(crate) async fn ended(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_ended(cx)).await
    }
}

impl Drop for SendBehind {
    fn drop(&mut self) {
        let user_data = self.0.get();
        if user_data != NO_SEND {
            current::try_driver(|d| d.detach_behind(user_data));
        }
    }
}

/// The future of `write_behind`: waits for the stream's previous
/// write-behind send to end, then starts this one (or, where the driver
/// cannot end it itself, sends it as `write_all` does). Kept as small as
/// `WriteAll`: it sits in every echoing connection task.
#[must_use = "futures do nothing unless polled"]
pub struct WriteBehind<'a>(State<'a>);

enum State<'a> {
    Start(&'a Conn, RecvBuf),
    Sending(WriteAll<'a, RecvBuf>),
    Done,
}

impl<'a> WriteBehind<'a> {
    pub(crate) fn new(conn: &'a Conn, buf: RecvBuf) -> WriteBehind<'a> {
        WriteBehind(State::Start(conn, buf))
    }
}

impl Future for WriteBehind<'_> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let conn = match &mut self.0 {
            State::Sending(write) => return Pin::new(write).poll(cx).map(|(result, _)| result),
            State::Start(conn, _) => *conn,
            State::Done => panic!("WriteBehind polled after completion"),
        };
        let behind = conn.behind();
        // One visit to the driver: the previous send's end, then this one's start.
        let started = current::driver(|d| -> Poll<io::Result<Option<RecvBuf>>> {
            std::task::ready!(behind.poll_ended_in(d, cx))?;
            let State::Start(_, buf) = std::mem::replace(&mut self.0, State::Done) else {
                unreachable!("matched above");
            };
            if buf.is_empty() {
                return Poll::Ready(Ok(None));
            }
            Poll::Ready(Ok(match d.start_behind(conn.fd(), buf) {
                Ok(user_data) => {
                    behind.0.set(user_data);
                    None
                }
                Err(buf) => Some(buf),
            }))
        });
        match std::task::ready!(started) {
            Err(e) => {
                self.0 = State::Done; // the buffer goes back to its pool
                Poll::Ready(Err(e))
            }
            Ok(None) => Poll::Ready(Ok(())),
            Ok(Some(buf)) => {
                let mut write = conn.write_all(buf);
                let polled = Pin::new(&mut write).poll(cx).map(|(result, _)| result);
                self.0 = State::Sending(write);
                polled
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// It is in every echoing connection task, in place of a `WriteAll`
    /// (README "Memory"): it must cost no more.
    #[test]
    fn write_behind_is_no_larger_than_write_all() {
        let behind = std::mem::size_of::<WriteBehind<'_>>();
        let write_all = std::mem::size_of::<WriteAll<'_, RecvBuf>>();
        assert!(
            behind <= write_all,
            "WriteBehind is {behind} bytes, WriteAll {write_all}"
        );
    }
}
