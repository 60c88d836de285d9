//! The I/O of a datagram socket, shared by `UdpSocket` and `UnixDatagram`:
//! owned-buffer `send_to`/`recv_from` (sendmsg/recvmsg), `send`/`recv` on
//! a connected socket, and `recv_buf_from`, fed by one multishot recvmsg
//! into the core's buffer pool where the kernel has it. Addresses are
//! socket2's `SockAddr` here; the public types turn them into their own.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use socket2::{SockAddr, SockRef};

use super::SharedFd;
use crate::buf::{IoBuf, IoBufMut, RecvBuf};
use crate::op::{
    coop_proceed, datagram_truncated, Multi, Op, Recv, RecvMsg, RecvMsgMulti, Send, SendMsg,
    RECVMSG_PAYLOAD_AT,
};

pub(crate) struct Datagram {
    fd: SharedFd,
    recv: RefCell<RecvState>,
}

#[derive(Default)]
struct RecvState {
    multi: Option<Multi<RecvMsgMulti>>,
    single: Option<Op<RecvMsg<Vec<u8>>>>,
}

impl Datagram {
    pub(crate) fn new(fd: OwnedFd) -> Datagram {
        Datagram {
            fd: SharedFd::new(fd.into_raw_fd()),
            recv: RefCell::default(),
        }
    }

    pub(crate) fn fd(&self) -> &SharedFd {
        &self.fd
    }

    pub(crate) fn sock(&self) -> SockRef<'_> {
        SockRef::from(&self.fd)
    }

    pub(crate) async fn send_to<B: IoBuf>(&self, buf: B, addr: SockAddr) -> (io::Result<usize>, B) {
        let op = SendMsg::new(self.fd.clone(), vec![buf], 0, Some(addr));
        let (result, mut bufs) = Op::submit(op).await;
        (result, bufs.pop().expect("the op gives its buffer back"))
    }

    pub(crate) async fn recv_from<B: IoBufMut>(
        &self,
        buf: B,
    ) -> (io::Result<(usize, SockAddr)>, B) {
        Op::submit(RecvMsg::new(self.fd.clone(), buf, 0)).await
    }

    pub(crate) async fn peek_from<B: IoBufMut>(
        &self,
        buf: B,
    ) -> (io::Result<(usize, SockAddr)>, B) {
        Op::submit(RecvMsg::new(self.fd.clone(), buf, libc::MSG_PEEK)).await
    }

    pub(crate) async fn send<B: IoBuf>(&self, buf: B) -> (io::Result<usize>, B) {
        Op::submit(Send::new(self.fd.clone(), buf, 0)).await
    }

    pub(crate) async fn recv<B: IoBufMut>(&self, buf: B) -> (io::Result<usize>, B) {
        Op::submit(Recv::new(self.fd.clone(), buf)).await
    }

    pub(crate) async fn recv_buf_from(&self) -> io::Result<(RecvBuf, SockAddr)> {
        poll_fn(|cx| self.poll_recv_buf_from(cx)).await
    }

    fn poll_recv_buf_from(&self, cx: &mut Context<'_>) -> Poll<io::Result<(RecvBuf, SockAddr)>> {
        std::task::ready!(coop_proceed(cx));
        let mut state = self.recv.borrow_mut();
        let (pool, buf_size) = crate::current::driver(|d| (d.recv_pool(), d.recv_buf_size()));
        // A pool buffer must hold the header and the address before the payload.
        match pool.filter(|pool| pool.buf_size() as usize > RECVMSG_PAYLOAD_AT) {
            Some(pool) => state
                .multi
                .get_or_insert_with(|| Multi::new(RecvMsgMulti::new(self.fd.clone(), pool)))
                .poll_next(cx),
            None => {
                let op = state.single.get_or_insert_with(|| {
                    let buf = Vec::with_capacity(buf_size);
                    Op::submit(RecvMsg::new(self.fd.clone(), buf, libc::MSG_TRUNC))
                });
                let (result, buf) = std::task::ready!(Pin::new(op).poll(cx));
                state.single = None;
                Poll::Ready(match result {
                    Ok((n, _)) if n > buf.len() => Err(datagram_truncated(n, buf.len())),
                    Ok((_, addr)) => Ok((RecvBuf::from_vec(buf), addr)),
                    Err(e) => Err(e),
                })
            }
        }
    }

    pub(crate) async fn close(self) -> io::Result<()> {
        let Datagram { fd, recv } = self;
        drop(recv);
        fd.close().await
    }
}
