//! Receiving one datagram and its sender's address into a caller-owned
//! buffer: IORING_OP_RECVMSG, or recvmsg(2) with MSG_DONTWAIT on epoll.

use std::io;

use io_uring::{opcode, squeue, types};
use socket2::{SockAddr, SockAddrStorage};

use super::OneShot;
use crate::buf::IoBufMut;
use crate::driver::{Attempt, Cqe, Interest, Operation, Release};
use crate::net::SharedFd;

/// The message header and what it points at, boxed together so the
/// kernel's pointers stay valid while the op moves (invariant 1).
struct Header {
    msg: libc::msghdr,
    iov: libc::iovec,
    addr: SockAddrStorage,
}

pub(crate) struct RecvMsg<B> {
    fd: SharedFd,
    buf: B,
    flags: i32,
    header: Box<Header>,
}

impl<B: IoBufMut> RecvMsg<B> {
    /// Receives into `buf` (from its start, up to its capacity), passing
    /// `flags` on: MSG_PEEK, or MSG_TRUNC to learn a datagram's full length
    /// (the length returned may then exceed the buffer's).
    pub(crate) fn new(fd: SharedFd, buf: B, flags: i32) -> RecvMsg<B> {
        // SAFETY: msghdr and iovec are plain C structs; all zeroes is a
        // valid (empty) value of each.
        let (msg, iov) = unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
        let header = Box::new(Header {
            msg,
            iov,
            addr: SockAddrStorage::zeroed(),
        });
        RecvMsg {
            fd,
            buf,
            flags,
            header,
        }
    }

    /// Points the header at the buffer and the address storage.
    fn prepare(&mut self) -> *mut libc::msghdr {
        let header = &mut *self.header;
        header.iov = libc::iovec {
            iov_base: self.buf.stable_mut_ptr().cast(),
            iov_len: self.buf.bytes_total(),
        };
        header.msg.msg_iov = &mut header.iov;
        header.msg.msg_iovlen = 1;
        header.msg.msg_namelen = header.addr.size_of();
        // SAFETY: sockaddr_storage is large enough for any sockaddr.
        header.msg.msg_name = unsafe { header.addr.view_as::<libc::sockaddr>() } as *mut _ as _;
        &mut header.msg
    }
}

impl<B: IoBufMut> Release for RecvMsg<B> {}

// SAFETY: the header, its iovec and the address storage are boxed, and the
// buffer's pointer comes from an IoBufMut, so everything the SQE points at
// stays in place while `self` moves; the fd stays open while `self.fd` lives.
unsafe impl<B: IoBufMut> Operation for RecvMsg<B> {
    fn sqe(&mut self) -> squeue::Entry {
        let msg = self.prepare();
        opcode::RecvMsg::new(types::Fd(self.fd.raw()), msg)
            .flags(self.flags as u32)
            .build()
    }

    fn attempt(&mut self) -> Attempt {
        let msg = self.prepare();
        let fd = self.fd.raw();
        // SAFETY: `msg` points at a live msghdr whose buffers are writable.
        let ret = unsafe { libc::recvmsg(fd, msg, self.flags | libc::MSG_DONTWAIT) };
        Attempt::from_syscall(ret, fd, Interest::Read)
    }
}

impl<B: IoBufMut> OneShot for RecvMsg<B> {
    /// The datagram's length (truncated to the buffer unless MSG_TRUNC was
    /// given) and its sender.
    type Output = (io::Result<(usize, SockAddr)>, B);

    fn complete(mut self, cqe: Cqe) -> Self::Output {
        let n = match cqe.into_result() {
            Ok(n) => n as usize,
            Err(e) => return (Err(e), self.buf),
        };
        let written = n.min(self.buf.bytes_total());
        // SAFETY: the kernel wrote this many bytes at the start of the buffer.
        unsafe { self.buf.set_init(written) };
        let Header { msg, addr, .. } = *self.header;
        // SAFETY: the kernel wrote a sockaddr of `msg_namelen` bytes.
        let addr = unsafe { SockAddr::new(addr, msg.msg_namelen) };
        (Ok((n, addr)), self.buf)
    }
}

/// The error for a datagram of `len` bytes that did not fit in `room`.
pub(crate) fn truncated(len: usize, room: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "a datagram of {len} bytes did not fit a {room}-byte receive buffer \
             (use recv_from with a larger buffer, or Builder::recv_buffers)"
        ),
    )
}
