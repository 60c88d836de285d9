//! Closing an fd: IORING_OP_CLOSE, or close(2) on epoll.

use std::io;

use io_uring::{opcode, squeue, types};

use super::OneShot;
use crate::driver::{Attempt, Cqe, Operation, Release};

pub(crate) struct Close {
    fd: i32,
}

impl Close {
    /// Takes ownership of `fd`: it is closed by the kernel. The caller has
    /// told the driver to forget it.
    pub(crate) fn new(fd: i32) -> Close {
        Close { fd }
    }
}

impl Release for Close {}

// SAFETY: the SQE carries no pointer; the fd is ours until the close.
unsafe impl Operation for Close {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Close::new(types::Fd(self.fd)).build()
    }

    fn attempt(&mut self) -> Attempt {
        // SAFETY: we own the fd and nothing uses it any more.
        Attempt::Done(Cqe::from_libc(unsafe { libc::close(self.fd) } as isize))
    }
}

impl OneShot for Close {
    type Output = io::Result<()>;
    fn complete(self, cqe: Cqe) -> Self::Output {
        cqe.into_result().map(drop)
    }
}
