//! Receiving into a caller-owned buffer: IORING_OP_RECV, or recv(2) with
//! MSG_DONTWAIT on epoll. The bytes land after the buffer's first `offset`
//! bytes (so `read_exact` can fill the rest); `flags` such as MSG_PEEK are
//! passed on.

use std::io;

use io_uring::{opcode, squeue};

use super::OneShot;
use crate::buf::IoBufMut;
use crate::driver::{Attempt, Cqe, Interest, Operation, Release};
use crate::net::{sqe_target, SharedFd};

pub(crate) struct Recv<B> {
    fd: SharedFd,
    buf: B,
    offset: usize,
    flags: i32,
}

impl<B: IoBufMut> Recv<B> {
    pub(crate) fn new(fd: SharedFd, buf: B) -> Recv<B> {
        Recv {
            fd,
            buf,
            offset: 0,
            flags: 0,
        }
    }

    /// Receives into `buf[offset..]` (up to its capacity) instead.
    pub(crate) fn at(mut self, offset: usize) -> Recv<B> {
        self.offset = offset;
        self
    }

    /// Passes `flags` (MSG_PEEK, MSG_WAITALL) to the receive.
    pub(crate) fn flags(mut self, flags: i32) -> Recv<B> {
        self.flags = flags;
        self
    }

    /// Where the bytes go and how many may come.
    fn dest(&mut self) -> (*mut u8, usize) {
        let total = self.buf.bytes_total();
        let offset = self.offset.min(total);
        // SAFETY: offset is within the buffer's capacity.
        let ptr = unsafe { self.buf.stable_mut_ptr().add(offset) };
        (ptr, (total - offset).min(u32::MAX as usize))
    }
}

impl<B: IoBufMut> Release for Recv<B> {}

// SAFETY: the buffer pointer comes from an IoBufMut, whose contract keeps
// it valid and in place while `self` (which owns the buffer) is moved; the
// fd stays open while `self.fd` lives.
unsafe impl<B: IoBufMut> Operation for Recv<B> {
    fn sqe(&mut self) -> squeue::Entry {
        let (ptr, len) = self.dest();
        let flags = self.flags;
        sqe_target!(self.fd, |fd| opcode::Recv::new(fd, ptr, len as u32)
            .flags(flags)
            .build())
    }

    fn attempt(&mut self) -> Attempt {
        let (ptr, len) = self.dest();
        let fd = self.fd.raw();
        // SAFETY: `len` bytes at `ptr` are writable (IoBufMut's contract).
        let ret = unsafe { libc::recv(fd, ptr.cast(), len, self.flags | libc::MSG_DONTWAIT) };
        Attempt::from_syscall(ret, fd, Interest::Read)
    }
}

impl<B: IoBufMut> OneShot for Recv<B> {
    type Output = (io::Result<usize>, B);

    fn complete(mut self, cqe: Cqe) -> Self::Output {
        let result = cqe.into_result().map(|n| n as usize);
        if let Ok(n) = result {
            // SAFETY: the bytes before `offset` were initialised by the
            // caller (or are the caller's to vouch for: `at` is only used
            // over initialised bytes), and the kernel wrote n after them.
            unsafe { self.buf.set_init(self.offset + n) };
        }
        (result, self.buf)
    }
}
