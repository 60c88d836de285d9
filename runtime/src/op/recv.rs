//! Receiving into a caller-owned buffer: IORING_OP_RECV, or recv(2) with
//! MSG_DONTWAIT on epoll.

use std::io;

use io_uring::{opcode, squeue, types};

use super::OneShot;
use crate::buf::IoBufMut;
use crate::driver::{Attempt, Cqe, Interest, Operation, Release};
use crate::net::SharedFd;

pub(crate) struct Recv<B> {
    fd: SharedFd,
    buf: B,
}

impl<B: IoBufMut> Recv<B> {
    pub(crate) fn new(fd: SharedFd, buf: B) -> Recv<B> {
        Recv { fd, buf }
    }

    fn len(&mut self) -> usize {
        self.buf.bytes_total().min(u32::MAX as usize)
    }
}

impl<B: IoBufMut> Release for Recv<B> {}

// SAFETY: the buffer pointer comes from an IoBufMut, whose contract keeps
// it valid and in place while `self` (which owns the buffer) is moved; the
// fd stays open while `self.fd` lives.
unsafe impl<B: IoBufMut> Operation for Recv<B> {
    fn sqe(&mut self) -> squeue::Entry {
        let len = self.len() as u32;
        opcode::Recv::new(types::Fd(self.fd.raw()), self.buf.stable_mut_ptr(), len).build()
    }

    fn attempt(&mut self) -> Attempt {
        let len = self.len();
        let fd = self.fd.raw();
        // SAFETY: the buffer has `len` writable bytes (IoBufMut's contract).
        let ret = unsafe {
            libc::recv(
                fd,
                self.buf.stable_mut_ptr().cast(),
                len,
                libc::MSG_DONTWAIT,
            )
        };
        Attempt::from_syscall(ret, fd, Interest::Read)
    }
}

impl<B: IoBufMut> OneShot for Recv<B> {
    type Output = (io::Result<usize>, B);

    fn complete(mut self, cqe: Cqe) -> Self::Output {
        let result = cqe.into_result().map(|n| n as usize);
        if let Ok(n) = result {
            // SAFETY: the kernel wrote n bytes at the start of the buffer.
            unsafe { self.buf.set_init(n) };
        }
        (result, self.buf)
    }
}
