//! Accepting one connection: IORING_OP_ACCEPT single shot (the fallback
//! without multishot accept), or accept4(2) on a non-blocking listener on
//! epoll.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd};

use io_uring::{opcode, squeue, types};
use socket2::{SockAddr, SockAddrStorage};

use super::OneShot;
use crate::driver::{Attempt, Cqe, Interest, Operation, Release};
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

    fn addr_ptrs(&mut self) -> (*mut libc::sockaddr, *mut libc::socklen_t) {
        let (storage, len) = &mut *self.addr;
        // SAFETY: sockaddr_storage is large enough for any sockaddr.
        let addr: *mut libc::sockaddr = unsafe { storage.view_as::<libc::sockaddr>() };
        (addr, len)
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

/// One non-blocking accept4 on `listener` (epoll), writing the peer's
/// address to `addr`/`len` if given.
pub(super) fn try_accept(
    listener: &SharedFd,
    addr: *mut libc::sockaddr,
    len: *mut libc::socklen_t,
) -> Attempt {
    if let Err(e) = listener.set_nonblocking() {
        return Attempt::Done(Cqe::new(-e.raw_os_error().unwrap_or(libc::EIO)));
    }
    let flags = libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
    // SAFETY: addr/len are null or point at a live sockaddr_storage and its
    // length, which accept4 writes within.
    let ret = unsafe { libc::accept4(listener.raw(), addr, len, flags) };
    Attempt::from_syscall(ret as isize, listener.raw(), Interest::Read)
}

// SAFETY: the sockaddr storage and its length are boxed, so they stay in
// place while `self` moves; the listening fd stays open while `self.fd` lives.
unsafe impl Operation for Accept {
    fn sqe(&mut self) -> squeue::Entry {
        let (addr, len) = self.addr_ptrs();
        opcode::Accept::new(types::Fd(self.fd.raw()), addr, len)
            .flags(libc::SOCK_CLOEXEC)
            .build()
    }

    fn attempt(&mut self) -> Attempt {
        let (addr, len) = self.addr_ptrs();
        try_accept(&self.fd, addr, len)
    }
}

impl OneShot for Accept {
    type Output = io::Result<(OwnedFd, Option<SocketAddr>)>;

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
