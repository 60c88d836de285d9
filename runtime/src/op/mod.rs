//! Operations, one per file, each runnable on both backends.
//!
//! Each op is a struct that owns everything the kernel reads or writes while
//! it runs (fd, buffer, sockaddr) and implements the driver's op contract
//! (`crate::driver::Operation` and `OneShot` or `MultiShot`): its io_uring
//! SQE, its epoll attempt, and how its completion becomes a result.
//! `Op` is the future of a one-shot op, `Multi` the stream of a
//! multishot one. Dropping either before the op is done hands the struct to
//! the driver (io_uring keeps it in the op table until the kernel lets go),
//! so the kernel never writes to freed memory.

mod accept;
mod accept_multi;
mod close;
mod connect;
mod nop;
mod recv;
mod recv_multi;
mod recvmsg;
mod recvmsg_multi;
mod send;
mod sendmsg;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) use accept::Accept;
pub(crate) use accept_multi::AcceptMulti;
pub(crate) use close::Close;
pub(crate) use connect::Connect;
pub use nop::nop;
pub(crate) use recv::Recv;
pub(crate) use recv_multi::RecvMulti;
pub(crate) use recvmsg::{truncated as datagram_truncated, RecvMsg};
pub(crate) use recvmsg_multi::{RecvMsgMulti, PAYLOAD_AT as RECVMSG_PAYLOAD_AT};
pub(crate) use send::Send;
pub(crate) use sendmsg::SendMsg;

use crate::current;
use crate::driver::{MultiShot, OneShot, Operation, Ticket};
use crate::task::WaitOn;

/// What a task waiting on the op is parked on, as task dumps show it.
pub(crate) trait Kind {
    const WAIT_ON: WaitOn;
}

impl Kind for Accept {
    const WAIT_ON: WaitOn = WaitOn::IoAccept;
}
impl Kind for AcceptMulti {
    const WAIT_ON: WaitOn = WaitOn::IoAccept;
}
impl Kind for Close {
    const WAIT_ON: WaitOn = WaitOn::IoClose;
}
impl Kind for Connect {
    const WAIT_ON: WaitOn = WaitOn::IoConnect;
}
impl Kind for nop::Nop {
    const WAIT_ON: WaitOn = WaitOn::IoNop;
}
impl<B> Kind for Recv<B> {
    const WAIT_ON: WaitOn = WaitOn::IoRecv;
}
impl Kind for RecvMulti {
    const WAIT_ON: WaitOn = WaitOn::IoRecv;
}
impl<B> Kind for RecvMsg<B> {
    const WAIT_ON: WaitOn = WaitOn::IoRecvMsg;
}
impl Kind for RecvMsgMulti {
    const WAIT_ON: WaitOn = WaitOn::IoRecvMsg;
}
impl<B> Kind for Send<B> {
    const WAIT_ON: WaitOn = WaitOn::IoSend;
}
impl<B> Kind for SendMsg<B> {
    const WAIT_ON: WaitOn = WaitOn::IoSendMsg;
}

/// A submitted one-shot op; a future of its output.
pub(crate) struct Op<T: OneShot + 'static> {
    ticket: Option<Ticket>,
    data: Option<T>,
}

impl<T: OneShot + 'static> Op<T> {
    pub(crate) fn submit(mut data: T) -> Op<T> {
        let ticket = current::driver(|d| d.start(&mut data));
        Op {
            ticket: Some(ticket),
            data: Some(data),
        }
    }
}

impl<T: OneShot> Unpin for Op<T> {}

impl<T: OneShot + Kind + 'static> Future for Op<T> {
    type Output = T::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Output> {
        crate::task::wait_tag::set(T::WAIT_ON);
        let this = &mut *self;
        let (Some(ticket), Some(data)) = (this.ticket.as_mut(), this.data.as_mut()) else {
            panic!("Op polled after completion");
        };
        let cqe = std::task::ready!(current::driver(|d| d.poll_op(ticket, data, cx)));
        this.ticket = None;
        let data = this.data.take().expect("checked above");
        Poll::Ready(data.complete(cqe))
    }
}

impl<T: OneShot + 'static> Drop for Op<T> {
    fn drop(&mut self) {
        if let (Some(ticket), Some(data)) = (self.ticket.take(), self.data.take()) {
            abandon(ticket, data);
        }
    }
}

/// Hands the resources of a dropped in-flight op to the driver. If no
/// driver can take them (runtime gone), they are leaked rather than freed
/// under the kernel.
fn abandon<T: Operation + 'static>(ticket: Ticket, data: T) {
    let mut data = Some(data);
    let leftover = current::try_driver(|d| {
        let data = data.take().expect("taken once");
        d.abandon(ticket, Box::new(data))
    });
    match leftover {
        // The driver let go: free them here, with the driver released.
        Some(leftover) => drop(leftover),
        None => std::mem::forget(data),
    }
}

/// A multishot op as a stream of items; it re-arms itself when the kernel
/// ends it (and [`MultiShot::poll_arm`] allows), so it never ends on its own.
pub(crate) struct Multi<T: MultiShot + 'static> {
    ticket: Option<Ticket>,
    data: Option<T>,
}

impl<T: MultiShot + Kind + 'static> Multi<T> {
    pub(crate) fn new(data: T) -> Multi<T> {
        Multi {
            ticket: None,
            data: Some(data),
        }
    }

    /// The next item.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<T::Item> {
        crate::task::wait_tag::set(T::WAIT_ON);
        let data = self.data.as_mut().expect("a live Multi has its data");
        loop {
            let ticket = match &mut self.ticket {
                Some(ticket) => ticket,
                None => {
                    std::task::ready!(data.poll_arm(cx));
                    self.ticket.insert(current::driver(|d| d.start(data)))
                }
            };
            match std::task::ready!(current::driver(|d| d.poll_multi(ticket, data, cx))) {
                None => self.ticket = None,
                Some(cqe) => {
                    if let Some(item) = data.item(cqe) {
                        return Poll::Ready(item);
                    }
                }
            }
        }
    }
}

impl<T: MultiShot + 'static> Drop for Multi<T> {
    fn drop(&mut self) {
        if let (Some(ticket), Some(data)) = (self.ticket.take(), self.data.take()) {
            abandon(ticket, data);
        }
    }
}

/// Spends one unit of the running task's budget on a result that was ready
/// without waiting; once spent, the task yields (invariant 6).
pub(crate) fn coop_proceed(cx: &Context<'_>) -> Poll<()> {
    if current::spend_budget() {
        Poll::Ready(())
    } else {
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
