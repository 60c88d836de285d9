//! Sending from a caller-owned buffer: IORING_OP_SEND, or send(2) with
//! MSG_DONTWAIT on epoll. MSG_NOSIGNAL: a closed peer is an EPIPE error,
//! not a SIGPIPE.

use std::io;

use io_uring::{opcode, squeue};

use super::OneShot;
use crate::buf::IoBuf;
use crate::driver::{Attempt, Cqe, Interest, Operation, Release};
use crate::net::{sqe_target, SharedFd};

pub(crate) struct Send<B> {
    fd: SharedFd,
    buf: B,
    offset: usize,
}

impl<B: IoBuf> Send<B> {
    /// Sends `buf[offset..]`.
    pub(crate) fn new(fd: SharedFd, buf: B, offset: usize) -> Send<B> {
        Send { fd, buf, offset }
    }

    /// The pointer and length of the bytes left to send.
    fn rest(&self) -> (*const u8, usize) {
        let offset = self.offset.min(self.buf.bytes_init());
        let len = (self.buf.bytes_init() - offset).min(u32::MAX as usize);
        // SAFETY: offset is within the initialized bytes.
        (unsafe { self.buf.stable_ptr().add(offset) }, len)
    }
}

impl<B: IoBuf> Release for Send<B> {}

// SAFETY: the buffer pointer comes from an IoBuf, whose contract keeps it
// valid and in place while `self` (which owns the buffer) is moved; the fd
// stays open while `self.fd` lives.
unsafe impl<B: IoBuf> Operation for Send<B> {
    fn sqe(&mut self) -> squeue::Entry {
        let (ptr, len) = self.rest();
        sqe_target!(self.fd, |fd| opcode::Send::new(fd, ptr, len as u32)
            .flags(libc::MSG_NOSIGNAL)
            .build())
    }

    fn attempt(&mut self) -> Attempt {
        let (ptr, len) = self.rest();
        let fd = self.fd.raw();
        let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        // SAFETY: `len` initialized bytes are readable at `ptr` (IoBuf's contract).
        let ret = unsafe { libc::send(fd, ptr.cast(), len, flags) };
        Attempt::from_syscall(ret, fd, Interest::Write)
    }
}

impl<B: IoBuf> OneShot for Send<B> {
    type Output = (io::Result<usize>, B);

    fn complete(self, cqe: Cqe) -> Self::Output {
        (cqe.into_result().map(|n| n as usize), self.buf)
    }
}
