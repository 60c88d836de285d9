//! The `send` and `recv` futures, and what dropping them does.
//!
//! A future first tries to complete under the lock; if it cannot, it parks a
//! waiter and remembers its key. A later poll either finds the waiter
//! completed (collect the result, free it) or refreshes its waker.
//!
//! Cancellation (drop before completion) under the same lock:
//! - a parked sender is unlinked and its value dropped, never delivered;
//! - a parked receiver is unlinked; if a sender had already handed it a value
//!   that was never returned, the value goes to the next parked receiver or
//!   back to the front of the buffer, so no value is lost.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::{RecvStep, SendError, SendStep, Shared};

/// Future of [`Sender::send`](super::Sender::send).
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a, T> {
    shared: &'a Shared<T>,
    value: Option<T>,
    key: Option<usize>,
}

/// Future of [`Receiver::recv`](super::Receiver::recv).
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a, T> {
    shared: &'a Shared<T>,
    key: Option<usize>,
}

impl<'a, T> SendFuture<'a, T> {
    pub(super) fn new(shared: &'a Shared<T>, v: T) -> Self {
        SendFuture {
            shared,
            value: Some(v),
            key: None,
        }
    }
}

impl<'a, T> RecvFuture<'a, T> {
    pub(super) fn new(shared: &'a Shared<T>) -> Self {
        RecvFuture { shared, key: None }
    }
}

// Neither future is self-referential: it holds a reference, an optional
// value and a key, all fine to move.
impl<T> Unpin for SendFuture<'_, T> {}
impl<T> Unpin for RecvFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_send(this.shared, cx.waker(), &mut this.value, &mut this.key)
    }
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        poll_recv(this.shared, cx.waker(), &mut this.key)
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let waiter = self.shared.lock().senders.remove(key);
            drop(waiter);
        }
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            cancel_recv(self.shared, key);
        }
    }
}

pub(super) fn poll_send<T>(
    shared: &Shared<T>,
    waker: &Waker,
    value: &mut Option<T>,
    key: &mut Option<usize>,
) -> Poll<Result<(), SendError<T>>> {
    if key.is_none() && !coop_proceed(waker) {
        return Poll::Pending;
    }
    let mut s = shared.lock();
    if let Some(k) = *key {
        if !s.senders.get_mut(k).done {
            let old = s.senders.update_waker(k, waker);
            drop(s);
            drop(old);
            crate::task::wait_tag::set(crate::task::WaitOn::ChanSend);
            return Poll::Pending;
        }
        let w = s.senders.remove(k);
        drop(s);
        *key = None;
        return Poll::Ready(match w.value {
            None => Ok(()),
            Some(v) => Err(SendError(v)),
        });
    }
    let Some(v) = value.take() else {
        panic!("SendFuture polled after completion");
    };
    match s.try_send(v) {
        SendStep::Sent(w) => {
            drop(s);
            if let Some(w) = w {
                w.wake();
            }
            Poll::Ready(Ok(()))
        }
        SendStep::Closed(v) => Poll::Ready(Err(SendError(v))),
        SendStep::Full(v) => {
            *key = Some(s.park_sender(v, waker, None));
            crate::task::wait_tag::set(crate::task::WaitOn::ChanSend);
            Poll::Pending
        }
    }
}

pub(super) fn poll_recv<T>(
    shared: &Shared<T>,
    waker: &Waker,
    key: &mut Option<usize>,
) -> Poll<Option<T>> {
    if key.is_none() && !coop_proceed(waker) {
        return Poll::Pending;
    }
    let mut s = shared.lock();
    if let Some(k) = *key {
        if !s.receivers.get_mut(k).done {
            let old = s.receivers.update_waker(k, waker);
            drop(s);
            drop(old);
            crate::task::wait_tag::set(crate::task::WaitOn::ChanRecv);
            return Poll::Pending;
        }
        let w = s.receivers.remove(k);
        drop(s);
        *key = None;
        return Poll::Ready(w.value);
    }
    match s.try_recv() {
        RecvStep::Got(v, w) => {
            drop(s);
            if let Some(w) = w {
                w.wake();
            }
            Poll::Ready(Some(v))
        }
        RecvStep::Closed => Poll::Ready(None),
        RecvStep::Empty => {
            *key = Some(s.park_receiver(waker, None));
            crate::task::wait_tag::set(crate::task::WaitOn::ChanRecv);
            Poll::Pending
        }
    }
}

/// Spends one unit of the task's cooperative budget on a first attempt, so
/// a task that always finds its channel ready still yields to its siblings
/// (invariant 6); `false` means "yield now" (the task is already re-woken).
fn coop_proceed(waker: &Waker) -> bool {
    crate::op::coop_proceed(&std::task::Context::from_waker(waker)).is_ready()
}

/// Frees a parked or completed receiver whose result will never be collected.
pub(crate) fn cancel_recv<T>(shared: &Shared<T>, key: usize) {
    let mut s = shared.lock();
    let w = s.receivers.remove(key);
    let waker = match w.value {
        Some(v) if w.done => s.give_back(v),
        _ => None,
    };
    drop(s);
    if let Some(w) = waker {
        w.wake();
    }
}
