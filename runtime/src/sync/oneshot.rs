//! `oneshot`: a channel for exactly one value, between tasks on any cores
//! (tokio's `oneshot`, e.g. for a reply to a request sent over a channel).
//!
//! One lock around the slot and both sides' wakers: a send stores the value
//! and wakes the receiver; dropping either side marks it gone and wakes the
//! other.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::chan::lock::Lock;
use crate::shim::Arc;

/// Creates a one-value channel.
///
/// ```
/// uringo::start(async {
///     let (tx, rx) = uringo::sync::oneshot::channel();
///     uringo::spawn_on(uringo::cores() - 1, move || async move {
///         tx.send(42).unwrap();
///     });
///     assert_eq!(rx.await, Ok(42));
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Lock::new(State {
        value: None,
        rx_waker: None,
        tx_waker: None,
        tx_gone: false,
        rx_gone: false,
    }));
    (
        Sender {
            shared: Some(shared.clone()),
        },
        Receiver { shared },
    )
}

struct State<T> {
    value: Option<T>,
    rx_waker: Option<Waker>,
    tx_waker: Option<Waker>,
    tx_gone: bool,
    rx_gone: bool,
}

/// The sending half; [`send`](Sender::send) consumes it.
pub struct Sender<T> {
    shared: Option<Arc<Lock<State<T>>>>,
}

/// The receiving half: a future of the value. Dropping it closes the channel.
#[must_use = "futures do nothing unless awaited"]
pub struct Receiver<T> {
    shared: Arc<Lock<State<T>>>,
}

/// The sender was dropped without sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

/// Why [`Receiver::try_recv`] returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value yet.
    Empty,
    /// The sender is gone without sending (or the value was taken).
    Closed,
}

impl<T> Sender<T> {
    /// Sends `v`; gives it back if the receiver is gone.
    pub fn send(mut self, v: T) -> Result<(), T> {
        let shared = self.shared.take().expect("a sender sends once");
        let mut s = shared.lock();
        s.tx_gone = true;
        if s.rx_gone {
            return Err(v);
        }
        s.value = Some(v);
        let waker = s.rx_waker.take();
        drop(s);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Whether the receiver is gone (dropped or closed).
    pub fn is_closed(&self) -> bool {
        self.shared.as_ref().is_none_or(|s| s.lock().rx_gone)
    }

    /// Waits until the receiver is gone, e.g. to stop work nobody awaits.
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| {
            let Some(shared) = self.shared.as_ref() else {
                return Poll::Ready(());
            };
            let mut s = shared.lock();
            if s.rx_gone {
                return Poll::Ready(());
            }
            if !s.tx_waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                s.tx_waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        let mut s = shared.lock();
        s.tx_gone = true;
        let waker = s.rx_waker.take();
        drop(s);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Closes the channel: a later send fails and gives its value back. A
    /// value sent before can still be received.
    pub fn close(&mut self) {
        let mut s = self.shared.lock();
        s.rx_gone = true;
        let waker = s.tx_waker.take();
        drop(s);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// The value, if it was sent.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut s = self.shared.lock();
        match s.value.take() {
            Some(v) => Ok(v),
            None if s.tx_gone => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Unpin for Receiver<T> {}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::task::wait_tag::set(crate::task::WaitOn::Oneshot);
        let mut s = self.shared.lock();
        if let Some(v) = s.value.take() {
            return Poll::Ready(Ok(v));
        }
        if s.tx_gone {
            return Poll::Ready(Err(RecvError(())));
        }
        if !s.rx_waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            let old = s.rx_waker.replace(cx.waker().clone());
            drop(s);
            drop(old);
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut s = self.shared.lock();
        s.rx_gone = true;
        let waker = s.tx_waker.take();
        let value = s.value.take();
        drop(s);
        drop(value);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the sender was dropped without sending")
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no value yet"),
            TryRecvError::Closed => f.write_str("the sender is gone"),
        }
    }
}

impl std::error::Error for TryRecvError {}
