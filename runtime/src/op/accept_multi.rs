//! Multishot IORING_OP_ACCEPT: one SQE, one CQE per accepted connection.

use io_uring::{opcode, squeue, types};

use crate::driver::{Cqe, Release};
use crate::net::SharedFd;

/// What a multishot accept keeps alive: the listening fd.
pub(crate) struct AcceptMulti {
    fd: SharedFd,
}

impl AcceptMulti {
    pub(crate) fn new(fd: SharedFd) -> AcceptMulti {
        AcceptMulti { fd }
    }

    pub(crate) fn sqe(&self) -> squeue::Entry {
        opcode::AcceptMulti::new(types::Fd(self.fd.raw()))
            .flags(libc::SOCK_CLOEXEC)
            .build()
    }
}

impl Release for AcceptMulti {
    fn release(&mut self, cqe: Cqe) {
        super::accept::close_accepted(cqe);
    }
}
