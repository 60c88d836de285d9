//! Multishot IORING_OP_RECV into the core's provided-buffer ring.

use std::rc::Rc;

use io_uring::{opcode, squeue, types};

use crate::driver::{BufRing, Cqe, Release};
use crate::net::SharedFd;

/// Keeps the socket open while the op runs; returns buffers that arrive
/// after the stream stopped listening.
pub(crate) struct RecvMulti {
    fd: SharedFd,
    ring: Rc<BufRing>,
}

impl RecvMulti {
    pub(crate) fn new(fd: SharedFd, ring: Rc<BufRing>) -> RecvMulti {
        RecvMulti { fd, ring }
    }

    pub(crate) fn sqe(&self) -> squeue::Entry {
        opcode::RecvMulti::new(types::Fd(self.fd.raw()), self.ring.group()).build()
    }
}

impl Release for RecvMulti {
    fn release(&mut self, cqe: Cqe) {
        if let Some(bid) = cqe.buffer_id() {
            self.ring.taken();
            self.ring.recycle(bid);
        }
    }
}
