//! Write-behind sends: a send whose completion the driver handles itself.
//!
//! An echo or relay hands a received pool buffer to a send and goes back to
//! receiving; waking and polling its task again only to learn that the send
//! finished costs as much as the send itself. So the slot of such a send
//! holds the buffer (its id in the core's pool: no allocation) and the
//! socket, and at the CQE the driver finishes the job: a short send is
//! resubmitted from where it stopped, the buffer goes back to the ring, and
//! the slot is freed. Only a failure is kept (as a `Done` CQE) for the
//! connection's next send to return, and only a connection waiting for the
//! send (the next one must not overtake it) is woken.

use std::io;
use std::task::{Context, Poll, Waker};

use io_uring::{opcode, squeue};
use slab::Slab;

use super::slot::Slot;
use super::{set_waker, Driver};
use crate::buf::RecvBuf;
use crate::driver::{BufPool, Cqe};
use crate::net::{sqe_target, SharedFd};

/// A connection's "no write-behind send to look at" (user_data stays below
/// 2^63, tags below 2^31).
pub(crate) const NO_SEND: u64 = u64::MAX;

/// The op-table entry of a write-behind send in flight.
pub(crate) struct Behind {
    /// Keeps the socket open (and its `close()` waiting) until the send ends.
    fd: SharedFd,
    /// A task waiting for this send to end (the next send of the stream).
    waker: Option<Waker>,
    /// The pool buffer sent from, held until the last CQE.
    bid: u16,
    /// The stream is gone: nobody takes a failure, the slot is freed.
    detached: bool,
    /// Bytes `at..end` of the buffer are still to be sent.
    at: u32,
    end: u32,
}

/// How a CQE leaves a write-behind send.
pub(crate) enum Progress {
    /// A short send: the rest is to be resubmitted.
    Rest,
    /// Ended: the CQE result to keep (negative errno, 0 for WriteZero) if it
    /// failed, and the task to wake.
    Ended(Option<i32>, Option<Waker>),
}

impl Behind {
    /// Its stream is gone: a failure is not kept, nobody is woken.
    pub(crate) fn detach(&mut self) {
        self.detached = true;
        self.waker = None;
    }

    fn sqe(&self, bufs: &BufPool) -> squeue::Entry {
        let ptr = bufs.buf_ptr(self.bid).wrapping_add(self.at as usize);
        let len = self.end - self.at;
        sqe_target!(self.fd, |fd| opcode::Send::new(fd, ptr, len)
            .flags(libc::MSG_NOSIGNAL)
            .build())
    }

    /// Records a CQE: the buffer goes back to `bufs` once the send ends.
    pub(crate) fn advance(&mut self, cqe: Cqe, bufs: Option<&BufPool>) -> Progress {
        let failed = match cqe.result {
            n if n > 0 && self.at + (n as u32) < self.end => {
                self.at += n as u32;
                return Progress::Rest;
            }
            n if n > 0 => None,
            n if n == -libc::EINTR => return Progress::Rest,
            n => Some(n),
        };
        if let Some(bufs) = bufs {
            bufs.recycle(self.bid);
        }
        let failed = failed.filter(|_| !self.detached);
        Progress::Ended(failed, self.waker.take())
    }
}

impl Driver {
    /// Starts a write-behind send of `buf` on `fd`: its user_data, for
    /// [`poll_behind`](Self::poll_behind). `Err(buf)` if `buf` is not a
    /// buffer of this core's provided ring (the caller sends it itself).
    pub(crate) fn start_behind(&mut self, fd: &SharedFd, buf: RecvBuf) -> Result<u64, RecvBuf> {
        let Some(bufs) = &self.bufs else {
            return Err(buf);
        };
        let (bid, at, end) = buf.into_pool_parts(bufs)?;
        let send = Behind {
            fd: fd.clone(),
            waker: None,
            bid,
            detached: false,
            at,
            end,
        };
        let sqe = match &self.fixed {
            Some(fixed) => fixed.building(|| send.sqe(bufs)),
            None => send.sqe(bufs),
        };
        let key = self.submit_slot(Slot::Behind(send), sqe);
        Ok(self.user_data(key))
    }

    /// Whether the write-behind send `user_data` has ended: its failure is
    /// taken (the slot freed); while it runs, `cx` is woken at its end.
    pub(crate) fn poll_behind(&mut self, user_data: u64, cx: &Context<'_>) -> Poll<io::Result<()>> {
        let Some(key) = self.behind_key(user_data) else {
            return Poll::Ready(Ok(()));
        };
        match &mut self.ops[key] {
            Slot::Behind(send) => {
                set_waker(&mut send.waker, cx);
                Poll::Pending
            }
            Slot::Done(cqe) => {
                let error = match cqe.result {
                    0 => io::ErrorKind::WriteZero.into(),
                    errno => io::Error::from_raw_os_error(-errno),
                };
                self.ops.remove(key);
                Poll::Ready(Err(error))
            }
            _ => Poll::Ready(Ok(())),
        }
    }

    /// The stream of write-behind send `user_data` is gone: a kept failure
    /// is dropped, a running send frees its slot at its end.
    pub(crate) fn detach_behind(&mut self, user_data: u64) {
        let Some(key) = self.behind_key(user_data) else {
            return;
        };
        match &mut self.ops[key] {
            Slot::Behind(send) => send.detach(),
            Slot::Done(_) => {
                self.ops.remove(key);
            }
            _ => {}
        }
    }

    /// The slot of `user_data`, if it is still that op's.
    fn behind_key(&self, user_data: u64) -> Option<usize> {
        let key = (user_data & 0xffff_ffff) as usize;
        let current = self.tags.get(key).map(|&t| u64::from(t)) == Some(user_data >> 32);
        (current && self.ops.contains(key)).then_some(key)
    }

    /// Resubmits the rest of the write-behind sends a short send left; at
    /// shutdown (`cancel_all`) ends them instead, as cancelled.
    pub(super) fn resend_behind(&mut self) {
        while let Some(key) = self.reaped.resend.pop() {
            let (Some(Slot::Behind(send)), Some(bufs)) = (self.ops.get(key), &self.bufs) else {
                continue;
            };
            if self.closing {
                bufs.recycle(send.bid);
                self.ops.remove(key);
                continue;
            }
            let sqe = match &self.fixed {
                Some(fixed) => fixed.building(|| send.sqe(bufs)),
                None => send.sqe(bufs),
            };
            let sqe = sqe.user_data(self.user_data(key));
            self.push(&sqe);
        }
    }
}

/// A CQE of a write-behind send (`key`'s slot is `Behind`): see [`Progress`].
/// Returns the task to wake.
pub(crate) fn complete(
    ops: &mut Slab<Slot>,
    key: usize,
    cqe: Cqe,
    bufs: Option<&BufPool>,
    resend: &mut Vec<usize>,
) -> Option<Waker> {
    let Some(Slot::Behind(send)) = ops.get_mut(key) else {
        return None;
    };
    match send.advance(cqe, bufs) {
        Progress::Rest => {
            resend.push(key);
            None
        }
        Progress::Ended(failed, waker) => {
            // Dropping the slot's fd may close the socket (its stream is
            // gone) or wake a `close()` waiting for this send.
            match failed {
                Some(result) => ops[key] = Slot::Done(Cqe::new(result)),
                None => drop(ops.remove(key)),
            }
            waker
        }
    }
}
