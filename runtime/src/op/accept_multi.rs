//! Accepting connections as a stream: multishot IORING_OP_ACCEPT (one SQE,
//! one CQE per connection), or repeated non-blocking accept4(2) on epoll.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use io_uring::{opcode, squeue, types};

use crate::driver::{Attempt, Cqe, MultiShot, Operation, Release};
use crate::net::SharedFd;

/// What a multishot accept keeps alive: the listening fd.
pub(crate) struct AcceptMulti {
    fd: SharedFd,
}

impl AcceptMulti {
    pub(crate) fn new(fd: SharedFd) -> AcceptMulti {
        AcceptMulti { fd }
    }
}

impl Release for AcceptMulti {
    fn release(&mut self, cqe: Cqe) {
        super::accept::close_accepted(cqe);
    }
}

// SAFETY: the SQE carries no pointer; the fd stays open while `self.fd` lives.
unsafe impl Operation for AcceptMulti {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::AcceptMulti::new(types::Fd(self.fd.raw()))
            .flags(libc::SOCK_CLOEXEC)
            .build()
    }

    fn attempt(&mut self) -> Attempt {
        match super::accept::try_accept(&self.fd, std::ptr::null_mut(), std::ptr::null_mut()) {
            // Like the kernel's multishot accept: on after a success, ended
            // by an error.
            Attempt::Done(cqe) if cqe.result >= 0 => Attempt::Done(cqe.with_more()),
            other => other,
        }
    }
}

impl MultiShot for AcceptMulti {
    type Item = io::Result<OwnedFd>;

    fn item(&mut self, cqe: Cqe) -> Option<Self::Item> {
        Some(cqe.into_result().map(|fd| {
            // SAFETY: the kernel created this fd for us.
            unsafe { OwnedFd::from_raw_fd(fd as i32) }
        }))
    }
}
