//! Receiving into the core's buffer pool as a stream: multishot
//! IORING_OP_RECV into the provided-buffer ring, or on epoll recv(2) with
//! MSG_DONTWAIT into a buffer lent from the same pool. Each completion
//! becomes a [`RecvBuf`]; a dry pool (ENOBUFS) ends the op, and it is
//! re-armed once a buffer comes back (invariant 2: no data lost, no busy
//! loop).

use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use io_uring::{opcode, squeue};

use crate::buf::RecvBuf;
use crate::driver::{Attempt, BufPool, Cqe, Interest, MultiShot, Operation, Release};
use crate::net::{sqe_target, SharedFd};

/// Keeps the socket open while the op runs; returns buffers that arrive
/// after the stream stopped listening.
pub(crate) struct RecvMulti {
    fd: SharedFd,
    pool: Rc<BufPool>,
}

impl RecvMulti {
    pub(crate) fn new(fd: SharedFd, pool: Rc<BufPool>) -> RecvMulti {
        RecvMulti { fd, pool }
    }
}

impl Release for RecvMulti {
    fn release(&mut self, cqe: Cqe) {
        release_buffer(&self.pool, cqe);
    }
}

/// Gives back the pool buffer a completion of an abandoned op carries.
pub(super) fn release_buffer(pool: &BufPool, cqe: Cqe) {
    if let Some(bid) = cqe.buffer_id() {
        pool.claimed(bid);
        pool.recycle(bid);
    }
}

/// Ready when the pool has a free buffer, so a recv into it may be armed.
pub(super) fn poll_free_buffer(pool: &BufPool, cx: &Context<'_>) -> Poll<()> {
    if pool.available() == 0 {
        pool.wait_for_buffer(cx);
        return Poll::Pending;
    }
    Poll::Ready(())
}

// SAFETY: the SQE carries no pointer (the kernel picks a buffer of the
// registered ring, which outlives the op); the fd stays open while
// `self.fd` lives.
unsafe impl Operation for RecvMulti {
    fn sqe(&mut self) -> squeue::Entry {
        let group = self.pool.group();
        sqe_target!(self.fd, |fd| opcode::RecvMulti::new(fd, group).build())
    }

    fn attempt(&mut self) -> Attempt {
        let Some(bid) = self.pool.lend() else {
            return Attempt::Done(Cqe::new(-libc::ENOBUFS));
        };
        let fd = self.fd.raw();
        let size = self.pool.buf_size() as usize;
        // SAFETY: `lend` made us the holder of buffer `bid`, which has
        // `size` writable bytes.
        let ret =
            unsafe { libc::recv(fd, self.pool.buf_ptr(bid).cast(), size, libc::MSG_DONTWAIT) };
        match Attempt::from_syscall(ret, fd, Interest::Read) {
            Attempt::Done(cqe) if cqe.result > 0 => Attempt::Done(cqe.with_buffer(bid).with_more()),
            other => {
                // Nothing received (EOF, error, or would block): the buffer
                // goes back untouched.
                self.pool.unlend(bid);
                other
            }
        }
    }
}

impl MultiShot for RecvMulti {
    /// Bytes, `None` at end of stream, or an error.
    type Item = io::Result<Option<RecvBuf>>;

    fn poll_arm(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        poll_free_buffer(&self.pool, cx)
    }

    fn item(&mut self, cqe: Cqe) -> Option<Self::Item> {
        if let Some(bid) = cqe.buffer_id() {
            self.pool.claimed(bid);
            if cqe.result > 0 {
                let buf = RecvBuf::from_pool(self.pool.clone(), bid, cqe.result as usize);
                return Some(Ok(Some(buf)));
            }
            self.pool.recycle(bid);
        }
        match cqe.result {
            0 => Some(Ok(None)),
            // The pool ran dry: the op has ended; re-armed when a buffer is back.
            r if r == -libc::ENOBUFS => None,
            // The driver throttled a stream holding too many unread buffers:
            // re-armed once they are taken (the data waits in the socket).
            r if r == -libc::ECANCELED => None,
            r if r < 0 => Some(Err(io::Error::from_raw_os_error(-r))),
            _ => None,
        }
    }
}
