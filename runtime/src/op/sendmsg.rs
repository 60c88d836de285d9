//! Sending from caller-owned buffers with sendmsg: one datagram to an
//! address (`send_to`), or several buffers in one call (vectored writes).
//! IORING_OP_SENDMSG, or sendmsg(2) with MSG_DONTWAIT on epoll;
//! MSG_NOSIGNAL, so a closed peer is an EPIPE error, not a SIGPIPE.

use std::io;

use io_uring::{opcode, squeue};
use socket2::SockAddr;

use super::OneShot;
use crate::buf::IoBuf;
use crate::driver::{Attempt, Cqe, Interest, Operation, Release};
use crate::net::{sqe_target, SharedFd};

/// The message header and the destination, boxed together so the kernel's
/// pointers stay valid while the op moves (invariant 1).
struct Header {
    msg: libc::msghdr,
    addr: Option<SockAddr>,
}

pub(crate) struct SendMsg<B> {
    fd: SharedFd,
    bufs: Vec<B>,
    /// Bytes of `bufs` already sent (a vectored write resumes after them).
    offset: usize,
    /// The kernel reads these while the op runs; a heap allocation that is
    /// rebuilt only before submission.
    iovecs: Vec<libc::iovec>,
    header: Box<Header>,
}

impl<B: IoBuf> SendMsg<B> {
    /// Sends the bytes of `bufs` after the first `offset`, in order, to
    /// `addr` if given (else to the connected peer).
    pub(crate) fn new(fd: SharedFd, bufs: Vec<B>, offset: usize, addr: Option<SockAddr>) -> Self {
        // SAFETY: msghdr is a plain C struct; all zeroes is a valid value.
        let msg = unsafe { std::mem::zeroed() };
        SendMsg {
            fd,
            iovecs: Vec::with_capacity(bufs.len()),
            bufs,
            offset,
            header: Box::new(Header { msg, addr }),
        }
    }

    /// Points the iovecs at the unsent bytes and the header at them and at
    /// the destination.
    fn prepare(&mut self) -> *const libc::msghdr {
        self.iovecs.clear();
        let mut skip = self.offset;
        for buf in &self.bufs {
            let len = buf.bytes_init();
            if skip >= len {
                skip -= len;
                continue;
            }
            self.iovecs.push(libc::iovec {
                // SAFETY: skip < len, so the pointer stays within the buffer.
                iov_base: unsafe { buf.stable_ptr().add(skip) } as *mut _,
                iov_len: len - skip,
            });
            skip = 0;
        }
        let iov_max = libc::UIO_MAXIOV as usize;
        let header = &mut *self.header;
        header.msg.msg_iov = self.iovecs.as_mut_ptr();
        header.msg.msg_iovlen = self.iovecs.len().min(iov_max) as _;
        if let Some(addr) = &header.addr {
            header.msg.msg_name = addr.as_ptr() as *mut _;
            header.msg.msg_namelen = addr.len();
        }
        &header.msg
    }
}

impl<B: IoBuf> Release for SendMsg<B> {}

// SAFETY: the header and the destination are boxed, the iovecs live in a
// Vec's heap allocation that is not touched again until the op completes,
// and the buffers' pointers come from IoBufs, so everything the SQE points
// at stays in place while `self` moves; the fd stays open while `self.fd`
// lives.
unsafe impl<B: IoBuf> Operation for SendMsg<B> {
    fn sqe(&mut self) -> squeue::Entry {
        let msg = self.prepare();
        sqe_target!(self.fd, |fd| opcode::SendMsg::new(fd, msg)
            .flags(libc::MSG_NOSIGNAL as u32)
            .build())
    }

    fn attempt(&mut self) -> Attempt {
        let msg = self.prepare();
        let fd = self.fd.raw();
        let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        // SAFETY: `msg` points at a live header whose iovecs and address
        // point at readable memory the op owns.
        let ret = unsafe { libc::sendmsg(fd, msg, flags) };
        Attempt::from_syscall(ret, fd, Interest::Write)
    }
}

impl<B: IoBuf> OneShot for SendMsg<B> {
    /// Bytes sent by this call, and the buffers back.
    type Output = (io::Result<usize>, Vec<B>);

    fn complete(self, cqe: Cqe) -> Self::Output {
        (cqe.into_result().map(|n| n as usize), self.bufs)
    }
}
