//! IORING_OP_ACCEPT, single shot (the fallback without multishot accept).

use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd};

use io_uring::{opcode, squeue, types};
use socket2::{SockAddr, SockAddrStorage};

use super::OneShot;
use crate::driver::{Cqe, Release};
use crate::net::SharedFd;

pub(crate) struct Accept {
    fd: SharedFd,
    addr: Box<(SockAddrStorage, libc::socklen_t)>,
}

impl Accept {
    pub(crate) fn new(fd: SharedFd) -> Accept {
        let storage = SockAddrStorage::zeroed();
        let len = storage.size_of();
        Accept {
            fd,
            addr: Box::new((storage, len)),
        }
    }
}

impl Release for Accept {
    fn release(&mut self, cqe: Cqe) {
        close_accepted(cqe);
    }
}

/// Closes the fd a CQE of a cancelled accept produced (invariant 1).
pub(super) fn close_accepted(cqe: Cqe) {
    if cqe.result >= 0 {
        // SAFETY: the kernel created this fd for us and nobody else has it.
        drop(unsafe { OwnedFd::from_raw_fd(cqe.result) });
    }
}

impl OneShot for Accept {
    type Output = io::Result<(OwnedFd, Option<SocketAddr>)>;

    fn sqe(&mut self) -> squeue::Entry {
        let (storage, len) = &mut *self.addr;
        // SAFETY: sockaddr_storage is large enough for any sockaddr.
        let addr: *mut libc::sockaddr = unsafe { storage.view_as::<libc::sockaddr>() };
        opcode::Accept::new(types::Fd(self.fd.raw()), addr, len)
            .flags(libc::SOCK_CLOEXEC)
            .build()
    }

    fn complete(self, cqe: Cqe) -> Self::Output {
        let fd = cqe.into_result()? as i32;
        // SAFETY: the kernel created this fd for us.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let (storage, len) = *self.addr;
        // SAFETY: the kernel wrote a sockaddr of `len` bytes into storage.
        let addr = unsafe { SockAddr::new(storage, len) };
        Ok((fd, addr.as_socket()))
    }
}
