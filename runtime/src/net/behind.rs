//! Background writes of received buffers (`write_behind`): the send is
//! submitted and the caller goes on; a send that goes through in full
//! (the usual case) wakes nobody, so echoing a message costs its task one
//! poll instead of two. A short send or an error does wake the task, and
//! whatever the stream is polled for next (`recv`, the next background
//! write, `flush_behind`, `close`) sends the rest or keeps the error for
//! the next background write to report.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::SharedFd;
use crate::buf::{IoBuf, RecvBuf};
use crate::op::{Op, Send};

/// How a task polls the background write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// On its way to something else (`recv`): a send that goes through in
    /// full need not wake it.
    Passing,
    /// It waits until the write is done: every completion must wake it.
    ForIt,
}

/// The background write of one stream: at most one send in flight, so the
/// bytes go out in order.
#[derive(Default)]
pub(crate) struct Behind {
    /// The send in flight and the offset in its buffer it started at.
    sending: Option<(Op<Send<RecvBuf>>, usize)>,
    /// What a background write failed with, not yet reported.
    error: Option<io::Error>,
}

impl Behind {
    /// Starts sending `buf`; the previous background write must be done
    /// (`poll_idle` returned Ready).
    pub(crate) fn start(&mut self, fd: &SharedFd, buf: RecvBuf, cx: &mut Context<'_>) {
        debug_assert!(self.sending.is_none(), "a background write in flight");
        self.send_from(fd, buf, 0);
        // Epoll runs the send now; io_uring registers the waker a short
        // send or an error wakes.
        let _ = self.poll_idle(fd, cx, Wait::Passing);
    }

    fn send_from(&mut self, fd: &SharedFd, buf: RecvBuf, offset: usize) {
        let left = i32::try_from(buf.bytes_init() - offset).unwrap_or(-1);
        let mut op = Op::submit(Send::new(fd.clone(), buf, offset));
        op.quiet_on(Some(left));
        self.sending = Some((op, offset));
    }

    /// Drives the send in flight (resending what a short send left):
    /// Ready once none is.
    pub(crate) fn poll_idle(
        &mut self,
        fd: &SharedFd,
        cx: &mut Context<'_>,
        wait: Wait,
    ) -> Poll<()> {
        while let Some((op, offset)) = &mut self.sending {
            if wait == Wait::ForIt {
                op.quiet_on(None);
            }
            let (result, buf) = std::task::ready!(Pin::new(op).poll(cx));
            let mut offset = *offset;
            self.sending = None;
            match super::conn::advance(&mut offset, result) {
                // The buffer goes back to its pool here; nothing more is sent.
                Err(e) => self.error = Some(e),
                Ok(()) if offset < buf.bytes_init() => self.send_from(fd, buf, offset),
                Ok(()) => {}
            }
        }
        Poll::Ready(())
    }

    /// The error of an earlier background write, once.
    pub(crate) fn take_error(&mut self) -> io::Result<()> {
        self.error.take().map_or(Ok(()), Err)
    }
}
