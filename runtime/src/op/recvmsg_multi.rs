//! Receiving datagrams into the core's buffer pool as a stream: multishot
//! IORING_OP_RECVMSG into the provided-buffer ring (Linux 6.0), or on epoll
//! recvmsg(2) with MSG_DONTWAIT into a buffer lent from the same pool.
//!
//! The kernel lays each buffer out as a header (`io_uring_recvmsg_out`),
//! the sender's address in a fixed-size field, then the payload; the epoll
//! attempt writes the same layout, so [`RecvMsgMulti::item`] parses both
//! alike. A dry pool (ENOBUFS) ends the op until a buffer comes back
//! (invariant 2), as for `RecvMulti`.

use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use io_uring::{opcode, squeue, types};
use socket2::{SockAddr, SockAddrStorage};

use crate::buf::RecvBuf;
use crate::driver::{Attempt, BufPool, Cqe, Interest, MultiShot, Operation, Release};
use crate::net::SharedFd;

/// `struct io_uring_recvmsg_out` (include/uapi/linux/io_uring.h).
#[repr(C)]
#[derive(Clone, Copy)]
struct OutHeader {
    namelen: u32,
    controllen: u32,
    payloadlen: u32,
    flags: u32,
}

const HEADER: usize = std::mem::size_of::<OutHeader>();
/// The address field: room for any sockaddr (inet6, unix).
const NAME: usize = std::mem::size_of::<libc::sockaddr_storage>();
/// Where the payload starts in a buffer.
pub(crate) const PAYLOAD_AT: usize = HEADER + NAME;

pub(crate) struct RecvMsgMulti {
    fd: SharedFd,
    pool: Rc<BufPool>,
    /// The kernel reads the name and control lengths from it for every
    /// datagram; boxed so it stays put (invariant 1).
    msg: Box<libc::msghdr>,
}

impl RecvMsgMulti {
    /// The pool's buffers must be larger than [`PAYLOAD_AT`].
    pub(crate) fn new(fd: SharedFd, pool: Rc<BufPool>) -> RecvMsgMulti {
        debug_assert!(pool.buf_size() as usize > PAYLOAD_AT);
        // SAFETY: msghdr is a plain C struct; all zeroes is a valid value.
        let mut msg: Box<libc::msghdr> = Box::new(unsafe { std::mem::zeroed() });
        msg.msg_namelen = NAME as libc::socklen_t;
        RecvMsgMulti { fd, pool, msg }
    }

    /// One recvmsg into buffer `bid`, which `lend` made ours, laid out as the
    /// kernel lays out a multishot completion's buffer.
    fn recv_into(&mut self, bid: u16) -> Attempt {
        let fd = self.fd.raw();
        let base = self.pool.buf_ptr(bid);
        let size = self.pool.buf_size() as usize;
        // SAFETY: the buffer has `size` > PAYLOAD_AT writable bytes.
        let (name, payload) = unsafe { (base.add(HEADER), base.add(PAYLOAD_AT)) };
        let mut iov = libc::iovec {
            iov_base: payload.cast(),
            iov_len: size - PAYLOAD_AT,
        };
        // SAFETY: as in `new`.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = name.cast();
        msg.msg_namelen = NAME as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        // SAFETY: `msg` points into the buffer we hold and at `iov`, both
        // live for the call. MSG_TRUNC: the return value is the datagram's
        // full length, as the kernel reports it in `payloadlen`.
        let ret = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT | libc::MSG_TRUNC) };
        let cqe = match Attempt::from_syscall(ret, fd, Interest::Read) {
            Attempt::Done(cqe) if cqe.result >= 0 => cqe,
            other => return other,
        };
        let header = OutHeader {
            namelen: msg.msg_namelen,
            controllen: 0,
            payloadlen: cqe.result as u32,
            flags: msg.msg_flags as u32,
        };
        // SAFETY: the header fits before the name field; unaligned write.
        unsafe { base.cast::<OutHeader>().write_unaligned(header) };
        let written = (cqe.result as usize).min(size - PAYLOAD_AT);
        Attempt::Done(
            Cqe::new((PAYLOAD_AT + written) as i32)
                .with_buffer(bid)
                .with_more(),
        )
    }

    /// The datagram in buffer `bid` (a completion handed it to us), whose
    /// first `len` bytes the kernel filled.
    fn datagram(&self, bid: u16, len: usize) -> io::Result<(RecvBuf, SockAddr)> {
        // SAFETY: we hold buffer `bid` until it is recycled or handed out.
        let bytes = unsafe { self.pool.bytes(bid, len) };
        if len < PAYLOAD_AT {
            self.pool.recycle(bid);
            return Err(io::Error::other(
                "recvmsg completion shorter than its header",
            ));
        }
        // SAFETY: the buffer starts with a header (checked above); unaligned read.
        let header = unsafe { bytes.as_ptr().cast::<OutHeader>().read_unaligned() };
        let payload = len - PAYLOAD_AT;
        if header.flags & libc::MSG_TRUNC as u32 != 0 {
            self.pool.recycle(bid);
            return Err(super::recvmsg::truncated(
                header.payloadlen as usize,
                payload,
            ));
        }
        let mut storage = SockAddrStorage::zeroed();
        let namelen = (header.namelen as usize).min(NAME);
        // SAFETY: the name field holds `namelen` <= NAME bytes, and the
        // storage has room for NAME bytes.
        let addr = unsafe {
            let dest: *mut libc::sockaddr_storage = storage.view_as();
            std::ptr::copy_nonoverlapping(bytes[HEADER..].as_ptr(), dest.cast(), namelen);
            SockAddr::new(storage, namelen as libc::socklen_t)
        };
        let buf = RecvBuf::from_pool_at(self.pool.clone(), bid, PAYLOAD_AT, payload);
        Ok((buf, addr))
    }
}

impl Release for RecvMsgMulti {
    fn release(&mut self, cqe: Cqe) {
        super::recv_multi::release_buffer(&self.pool, cqe);
    }
}

// SAFETY: the SQE points only at the boxed msghdr (stable while `self`
// moves); the kernel picks buffers of the registered ring, which outlives
// the op; the fd stays open while `self.fd` lives.
unsafe impl Operation for RecvMsgMulti {
    fn sqe(&mut self) -> squeue::Entry {
        // MSG_TRUNC: `payloadlen` is a truncated datagram's full length.
        opcode::RecvMsgMulti::new(types::Fd(self.fd.raw()), &*self.msg, self.pool.group())
            .flags(libc::MSG_TRUNC as u32)
            .build()
    }

    fn attempt(&mut self) -> Attempt {
        let Some(bid) = self.pool.lend() else {
            return Attempt::Done(Cqe::new(-libc::ENOBUFS));
        };
        let attempt = self.recv_into(bid);
        if !matches!(attempt, Attempt::Done(cqe) if cqe.buffer_id().is_some()) {
            // Nothing received: the buffer goes back untouched.
            self.pool.unlend(bid);
        }
        attempt
    }
}

impl MultiShot for RecvMsgMulti {
    /// A datagram and its sender, or an error.
    type Item = io::Result<(RecvBuf, SockAddr)>;

    fn poll_arm(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        super::recv_multi::poll_free_buffer(&self.pool, cx)
    }

    fn item(&mut self, cqe: Cqe) -> Option<Self::Item> {
        if let Some(bid) = cqe.buffer_id() {
            self.pool.claimed(bid);
            if cqe.result >= 0 {
                return Some(self.datagram(bid, cqe.result as usize));
            }
            self.pool.recycle(bid);
        }
        match cqe.result {
            // The pool ran dry: the op has ended; re-armed when a buffer is back.
            r if r == -libc::ENOBUFS => None,
            // The driver throttled a stream holding too many unread buffers:
            // re-armed once they are taken (the data waits in the socket).
            r if r == -libc::ECANCELED => None,
            r if r < 0 => Some(Err(io::Error::from_raw_os_error(-r))),
            _ => None,
        }
    }
}
