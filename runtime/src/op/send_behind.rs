//! A send nobody waits for (write-behind): submitted, then left to the
//! driver, which drops the buffer at the send's completion. A task that
//! echoes or relays saves the wake and the poll that awaiting each send
//! costs, half of its scheduling work per message.
//!
//! A stream keeps a [`Behind`]: the state of the one write-behind it may
//! have in flight at a time, so its bytes go out in order, and the error of
//! one that failed reaches the caller's next write-behind or flush.

use std::cell::{Cell, OnceCell};
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use io_uring::squeue;

use super::{OneShot, Send};
use crate::buf::IoBuf;
use crate::driver::{Attempt, Cqe, Operation, Release};

/// A stream's write-behind state; allocated at its first write-behind.
#[derive(Default)]
pub(crate) struct Behind(OnceCell<Rc<State>>);

#[derive(Default)]
pub(crate) struct State {
    busy: Cell<bool>,
    /// The result and length of a write-behind that failed, not yet reported.
    failed: Cell<Option<(i32, usize)>>,
    /// The task waiting for the write-behind in flight to finish.
    waiter: Cell<Option<Waker>>,
}

impl Behind {
    /// Ready once no write-behind is in flight, with the error of the last
    /// one if it failed (each error is reported once).
    pub(crate) fn poll_idle(&self, cx: &Context<'_>) -> Poll<io::Result<()>> {
        let Some(state) = self.0.get() else {
            return Poll::Ready(Ok(()));
        };
        if state.busy.get() {
            state.waiter.set(Some(cx.waker().clone()));
            return Poll::Pending;
        }
        Poll::Ready(match state.failed.take() {
            None => Ok(()),
            Some((result, len)) => Err(failure(result, len)),
        })
    }

    /// The write-behind of `send`; the stream is busy until it completes.
    pub(crate) fn op<B: IoBuf>(&self, send: Send<B>) -> SendBehind<B> {
        let state = self.0.get_or_init(Rc::default).clone();
        state.busy.set(true);
        SendBehind {
            len: send.len(),
            send: send.wait_all(),
            state,
        }
    }
}

impl State {
    fn finish(&self, result: i32, len: usize) {
        self.busy.set(false);
        if usize::try_from(result) != Ok(len) {
            self.failed.set(Some((result, len)));
        }
        if let Some(waiter) = self.waiter.take() {
            waiter.wake();
        }
    }
}

fn failure(result: i32, len: usize) -> io::Error {
    if result < 0 {
        io::Error::from_raw_os_error(-result)
    } else {
        io::Error::new(
            io::ErrorKind::WriteZero,
            format!("the socket took {result} of {len} bytes of a write-behind"),
        )
    }
}

/// A [`Send`] of a whole buffer (MSG_WAITALL) that reports to its stream's
/// [`Behind`] instead of to a waiting future.
pub(crate) struct SendBehind<B> {
    send: Send<B>,
    len: usize,
    state: Rc<State>,
}

impl<B: IoBuf> Release for SendBehind<B> {
    fn release(&mut self, cqe: Cqe) {
        self.state.finish(cqe.result, self.len);
    }
}

// SAFETY: the SQE is the one of the owned `Send`, whose contract this
// keeps: the send (with its buffer and fd) lives as long as `self`.
unsafe impl<B: IoBuf> Operation for SendBehind<B> {
    fn sqe(&mut self) -> squeue::Entry {
        self.send.sqe()
    }

    fn attempt(&mut self) -> Attempt {
        self.send.attempt()
    }
}

impl<B: IoBuf> OneShot for SendBehind<B> {
    type Output = ();

    fn complete(mut self, cqe: Cqe) {
        self.release(cqe);
    }
}
