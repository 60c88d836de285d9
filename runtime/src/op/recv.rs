//! IORING_OP_RECV into a caller-owned buffer.

use std::io;

use io_uring::{opcode, squeue, types};

use super::OneShot;
use crate::buf::IoBufMut;
use crate::driver::{Cqe, Release};
use crate::net::SharedFd;

pub(crate) struct Recv<B> {
    fd: SharedFd,
    buf: B,
}

impl<B: IoBufMut> Recv<B> {
    pub(crate) fn new(fd: SharedFd, buf: B) -> Recv<B> {
        Recv { fd, buf }
    }
}

impl<B: IoBufMut> Release for Recv<B> {}

impl<B: IoBufMut> OneShot for Recv<B> {
    type Output = (io::Result<usize>, B);

    fn sqe(&mut self) -> squeue::Entry {
        let len = self.buf.bytes_total().min(u32::MAX as usize) as u32;
        opcode::Recv::new(types::Fd(self.fd.raw()), self.buf.stable_mut_ptr(), len).build()
    }

    fn complete(mut self, cqe: Cqe) -> Self::Output {
        let result = cqe.into_result().map(|n| n as usize);
        if let Ok(n) = result {
            // SAFETY: the kernel wrote n bytes at the start of the buffer.
            unsafe { self.buf.set_init(n) };
        }
        (result, self.buf)
    }
}
