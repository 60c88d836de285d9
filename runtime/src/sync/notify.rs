//! `Notify`: wake one waiting task, or all of them, with tokio's semantics.
//!
//! State under one lock: a stored permit (at most one), a FIFO of waiters,
//! and a generation bumped by every `notify_waiters`. A `Notified` future
//! records the generation when it is created, so a `notify_waiters` that
//! happens after creation but before the first poll still completes it (as
//! tokio documents). A waiter completed by `notify_one` but dropped before
//! it saw the notification passes it on, so it is never lost.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::chan::lock::Lock;
use crate::chan::waiter::{WaitList, Waiter};
use crate::shim::{AtomicUsize, Ordering};

/// Wakes tasks waiting in [`Notify::notified`], from any core.
///
/// - [`notify_one`](Notify::notify_one) wakes the longest-waiting task, or,
///   when none waits, stores one permit that the next `notified()` consumes
///   at once (several calls still store just one).
/// - [`notify_waiters`](Notify::notify_waiters) wakes every task waiting
///   now (including `Notified` futures created but not yet polled) and
///   stores nothing.
///
/// ```
/// use std::sync::Arc;
/// use uringo::sync::Notify;
///
/// uringo::start(async {
///     let ready = Arc::new(Notify::new());
///     let waiter = uringo::spawn({
///         let ready = ready.clone();
///         async move {
///             ready.notified().await;
///             "woken"
///         }
///     });
///     ready.notify_one(); // stored if the task has not parked yet
///     assert_eq!(waiter.await, "woken");
/// });
/// ```
pub struct Notify {
    generation: AtomicUsize,
    state: Lock<State>,
}

struct State {
    permit: bool,
    /// A waiter's value is `Some(ONE)` when `notify_one` completed it.
    waiters: WaitList<Kind>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    One,
    All,
}

impl Notify {
    /// A `Notify` with no permit stored.
    pub fn new() -> Notify {
        Notify {
            generation: AtomicUsize::new(0),
            state: Lock::new(State {
                permit: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// A future that completes when this is notified.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            generation: self.generation.load(Ordering::Acquire),
            key: None,
            done: false,
        }
    }

    /// Wakes the task that has waited longest, or stores a permit.
    pub fn notify_one(&self) {
        let mut s = self.state.lock();
        let waker = match s.waiters.pop_claimed() {
            Some(key) => {
                s.waiters.get_mut(key).value = Some(Kind::One);
                s.waiters.complete(key)
            }
            None => {
                s.permit = true;
                None
            }
        };
        drop(s);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Wakes every task waiting now; stores no permit.
    pub fn notify_waiters(&self) {
        let mut s = self.state.lock();
        self.generation.fetch_add(1, Ordering::Release);
        let mut wakers = Vec::new();
        while let Some(key) = s.waiters.pop_claimed() {
            s.waiters.get_mut(key).value = Some(Kind::All);
            wakers.extend(s.waiters.complete(key));
        }
        drop(s);
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify").finish_non_exhaustive()
    }
}

/// The future of [`Notify::notified`].
#[must_use = "futures do nothing unless awaited"]
pub struct Notified<'a> {
    notify: &'a Notify,
    generation: usize,
    key: Option<usize>,
    done: bool,
}

impl Unpin for Notified<'_> {}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        crate::task::wait_tag::set(crate::task::WaitOn::Notify);
        let mut s = this.notify.state.lock();
        if let Some(k) = this.key {
            if !s.waiters.get_mut(k).done {
                let old = s.waiters.update_waker(k, cx.waker());
                drop(s);
                drop(old);
                return Poll::Pending;
            }
            s.waiters.remove(k);
            this.key = None;
        } else if this.notify.generation.load(Ordering::Acquire) == this.generation && !s.permit {
            this.key = Some(s.waiters.park(Waiter::new(None, cx.waker(), None)));
            return Poll::Pending;
        } else if this.notify.generation.load(Ordering::Acquire) == this.generation {
            s.permit = false;
        }
        this.done = true;
        Poll::Ready(())
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let w = self.notify.state.lock().waiters.remove(key);
        if w.done && w.value == Some(Kind::One) {
            // A notify_one this future never saw goes to someone else.
            self.notify.notify_one();
        }
    }
}
