//! `WaitGroup`: Go's `sync.WaitGroup`, for tasks on any core.
//!
//! The counter is one atomic, so `add`/`done` are a single read-modify-write
//! when nobody waits. Waiters park in a list under a lock; the `done` that
//! brings the counter to zero takes that lock and wakes them all. A waiter
//! checks the counter under the same lock before parking, so it either sees
//! zero or is parked before the zeroing `done` drains the list: no lost wake.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::chan::lock::Lock;
use crate::chan::waiter::{WaitList, Waiter};
use crate::shim::{Arc, AtomicUsize, Ordering};

/// Waits for a collection of tasks to finish, as Go's `sync.WaitGroup`:
/// [`add`](WaitGroup::add) before starting work, [`done`](WaitGroup::done)
/// when a piece finishes, [`wait`](WaitGroup::wait) until the counter is
/// zero. Clones share one counter, so a clone moves into each task (on any
/// core).
///
/// ```
/// use uringo::sync::WaitGroup;
///
/// uringo::start(async {
///     let wg = WaitGroup::new();
///     for core in 0..uringo::cores() {
///         wg.add(1);
///         let wg = wg.clone();
///         uringo::spawn_on(core, move || async move {
///             // ... work ...
///             wg.done();
///         });
///     }
///     wg.wait().await;
/// });
/// ```
///
/// # Panics
/// As in Go, `add` or `done` panics when the counter would go negative.
#[derive(Clone)]
pub struct WaitGroup {
    inner: Arc<Inner>,
}

struct Inner {
    count: AtomicUsize,
    waiters: Lock<WaitList<()>>,
}

impl WaitGroup {
    /// A wait group with counter zero.
    pub fn new() -> WaitGroup {
        WaitGroup {
            inner: Arc::new(Inner {
                count: AtomicUsize::new(0),
                waiters: Lock::new(WaitList::new()),
            }),
        }
    }

    /// Adds `delta` (which may be negative) to the counter; at zero every
    /// waiter is released.
    ///
    /// # Panics
    /// "sync: negative WaitGroup counter" if the counter would go below zero
    /// (the counter is left as it was).
    pub fn add(&self, delta: isize) {
        let count = &self.inner.count;
        let now = if delta >= 0 {
            count.fetch_add(delta as usize, Ordering::AcqRel) + delta as usize
        } else {
            let d = delta.unsigned_abs();
            let prev = count.fetch_sub(d, Ordering::AcqRel);
            if prev < d {
                count.fetch_add(d, Ordering::AcqRel);
                panic!("sync: negative WaitGroup counter");
            }
            prev - d
        };
        if now == 0 && delta != 0 {
            self.release();
        }
    }

    /// Decrements the counter by one.
    ///
    /// # Panics
    /// If the counter is already zero.
    pub fn done(&self) {
        self.add(-1);
    }

    /// The counter now.
    pub fn count(&self) -> usize {
        self.inner.count.load(Ordering::Acquire)
    }

    /// Waits until the counter is zero (at once if it is).
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            inner: &self.inner,
            key: None,
        }
    }

    fn release(&self) {
        let mut list = self.inner.waiters.lock();
        let mut wakers = Vec::new();
        while let Some(key) = list.pop_claimed() {
            wakers.extend(list.complete(key));
        }
        drop(list);
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

/// The future of [`WaitGroup::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a> {
    inner: &'a Inner,
    key: Option<usize>,
}

impl Unpin for Wait<'_> {}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.key.is_none() && this.inner.count.load(Ordering::Acquire) == 0 {
            return Poll::Ready(());
        }
        crate::task::wait_tag::set(crate::task::WaitOn::WaitGroup);
        let mut list = this.inner.waiters.lock();
        match this.key {
            Some(k) if list.get_mut(k).done => {
                list.remove(k);
                this.key = None;
                Poll::Ready(())
            }
            Some(k) => {
                let old = list.update_waker(k, cx.waker());
                drop(list);
                drop(old);
                Poll::Pending
            }
            None if this.inner.count.load(Ordering::Acquire) == 0 => Poll::Ready(()),
            None => {
                this.key = Some(list.park(Waiter::new(None, cx.waker(), None)));
                Poll::Pending
            }
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.inner.waiters.lock().remove(key);
        }
    }
}
