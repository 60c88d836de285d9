//! io_uring operations, one per file.
//!
//! Each op is a struct that owns everything the kernel reads or writes while
//! it runs (fd, buffer, sockaddr). `Op` submits it and, when the CQE comes,
//! turns it into a result with the resources handed back. Dropping an `Op`
//! before that moves the struct into the op table (see
//! `driver/slot.rs`), so the kernel never writes to freed memory.

mod accept;
mod accept_multi;
mod close;
mod connect;
mod nop;
mod recv;
mod recv_multi;
mod send;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use io_uring::squeue;

pub(crate) use accept::Accept;
pub(crate) use accept_multi::AcceptMulti;
pub(crate) use close::Close;
pub(crate) use connect::Connect;
pub use nop::nop;
pub(crate) use recv::Recv;
pub(crate) use recv_multi::RecvMulti;
pub(crate) use send::Send;

use crate::driver::{Cqe, Release};
use crate::executor::with_current;

/// A one-shot operation.
pub(crate) trait OneShot: Release + Sized {
    type Output;
    /// The SQE; pointers in it must point into `self`'s heap-owned fields.
    fn sqe(&mut self) -> squeue::Entry;
    /// Builds the result from the CQE, handing back the resources.
    fn complete(self, cqe: Cqe) -> Self::Output;
}

/// A submitted one-shot op; a future of its output.
pub(crate) struct Op<T: OneShot> {
    key: usize,
    data: Option<T>,
}

impl<T: OneShot> Op<T> {
    pub(crate) fn submit(mut data: T) -> Op<T> {
        let sqe = data.sqe();
        let key = with_current(|core| core.driver.borrow_mut().submit(sqe));
        Op {
            key,
            data: Some(data),
        }
    }
}

impl<T: OneShot> Unpin for Op<T> {}

impl<T: OneShot> Future for Op<T> {
    type Output = T::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Output> {
        crate::task::wait_tag::set(crate::task::WaitOn::Io);
        let key = self.key;
        let cqe = std::task::ready!(with_current(|core| core
            .driver
            .borrow_mut()
            .poll_op(key, cx)));
        let data = self.data.take().expect("Op polled after completion");
        Poll::Ready(data.complete(cqe))
    }
}

impl<T: OneShot> Drop for Op<T> {
    fn drop(&mut self) {
        if let Some(data) = self.data.take() {
            orphan(self.key, data);
        }
    }
}

/// Hands the resources of a dropped in-flight op to the driver. If no
/// driver can take them (runtime gone), they are leaked rather than freed
/// under the kernel.
fn orphan<T: Release>(key: usize, data: T) {
    let mut data = Some(data);
    crate::executor::try_with_current(|core| {
        if let Ok(mut driver) = core.driver.try_borrow_mut() {
            if let Some(data) = data.take() {
                driver.orphan(key, Box::new(data));
            }
        }
    });
    if let Some(data) = data {
        std::mem::forget(data);
    }
}

/// A multishot op that yields CQEs until one comes without MORE.
pub(crate) struct MultiOp<T: Release> {
    key: usize,
    data: Option<T>,
}

impl<T: Release> MultiOp<T> {
    pub(crate) fn submit(sqe: squeue::Entry, data: T) -> MultiOp<T> {
        let key = with_current(|core| core.driver.borrow_mut().submit(sqe));
        MultiOp {
            key,
            data: Some(data),
        }
    }

    /// The next CQE, or None once the op has ended (re-arm to continue).
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Cqe>> {
        crate::task::wait_tag::set(crate::task::WaitOn::Io);
        let key = self.key;
        let next = std::task::ready!(with_current(|core| core
            .driver
            .borrow_mut()
            .poll_multi(key, cx)));
        if next.is_none() {
            self.data = None;
        }
        Poll::Ready(next)
    }
}

impl<T: Release> Drop for MultiOp<T> {
    fn drop(&mut self) {
        if let Some(data) = self.data.take() {
            orphan(self.key, data);
        }
    }
}

/// Spends one unit of the running task's budget on a result that was ready
/// without waiting; once spent, the task yields (invariant 6).
pub(crate) fn coop_proceed(cx: &Context<'_>) -> Poll<()> {
    let exhausted = crate::executor::try_with_current(|core| {
        let left = core.budget.get();
        if left == 0 {
            true
        } else {
            core.budget.set(left - 1);
            false
        }
    });
    if exhausted == Some(true) {
        cx.waker().wake_by_ref();
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}
