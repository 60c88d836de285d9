//! IORING_OP_SEND from a caller-owned buffer (MSG_NOSIGNAL: a closed peer
//! is an EPIPE error, not a SIGPIPE).

use std::io;

use io_uring::{opcode, squeue, types};

use super::OneShot;
use crate::buf::IoBuf;
use crate::driver::{Cqe, Release};
use crate::net::SharedFd;

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
}

impl<B: IoBuf> Release for Send<B> {}

impl<B: IoBuf> OneShot for Send<B> {
    type Output = (io::Result<usize>, B);

    fn sqe(&mut self) -> squeue::Entry {
        let offset = self.offset.min(self.buf.bytes_init());
        let len = (self.buf.bytes_init() - offset).min(u32::MAX as usize) as u32;
        // SAFETY: offset is within the initialized bytes.
        let ptr = unsafe { self.buf.stable_ptr().add(offset) };
        opcode::Send::new(types::Fd(self.fd.raw()), ptr, len)
            .flags(libc::MSG_NOSIGNAL)
            .build()
    }

    fn complete(self, cqe: Cqe) -> Self::Output {
        (cqe.into_result().map(|n| n as usize), self.buf)
    }
}
