//! `Semaphore`: a FIFO-fair counting semaphore, and the base of [`Mutex`](super::Mutex)
//! and [`RwLock`](super::RwLock) (as in tokio: a lock is a semaphore plus a cell).
//!
//! Algorithm: permits and a FIFO [`WaitList`] of waiters (each asking for
//! `n` permits) under one short lock. An acquire that finds no one queued
//! and enough permits takes them at once; otherwise it queues. Releasing
//! hands permits to the queue's head while it is satisfied, so a large
//! request at the head is never overtaken by later small ones (fairness:
//! a waiting writer holds back later readers). A waiter is granted all its
//! permits at once or none, so dropping a waiting future returns nothing
//! but lets the next waiters be served; dropping one that was granted but
//! not yet polled gives its permits back.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::chan::lock::Lock;
use crate::chan::waiter::{WaitList, Waiter};

/// A counting semaphore whose waiters are served in FIFO order, usable from
/// any core (wakers of other cores are woken through their remote queue).
///
/// ```
/// use std::sync::Arc;
/// use uringo::sync::Semaphore;
///
/// uringo::start(async {
///     // At most two jobs at a time.
///     let slots = Arc::new(Semaphore::new(2));
///     let mut jobs = Vec::new();
///     for i in 0..5 {
///         let permit = slots.clone().acquire_owned().await.unwrap();
///         jobs.push(uringo::spawn(async move {
///             let _permit = permit; // returned to the semaphore on drop
///             i * 2
///         }));
///     }
///     for job in jobs {
///         job.await;
///     }
///     assert_eq!(slots.available_permits(), 2);
/// });
/// ```
pub struct Semaphore {
    state: Lock<State>,
}

struct State {
    permits: usize,
    closed: bool,
    /// Each waiter's value is the number of permits it asks for; it is
    /// taken (`None`) when they are granted.
    waiters: WaitList<usize>,
}

/// The semaphore was closed ([`Semaphore::close`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

/// Why [`Semaphore::try_acquire`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// Not enough permits now, or others are queued first.
    NoPermits,
    /// The semaphore was closed.
    Closed,
}

/// The most permits a semaphore may hold.
pub const MAX_PERMITS: usize = usize::MAX >> 3;

impl Semaphore {
    /// The most permits a semaphore may hold.
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore holds at most {MAX_PERMITS} permits"
        );
        Semaphore {
            state: Lock::new(State {
                permits,
                closed: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// A semaphore with `permits` permits, usable in a `static`.
    #[cfg(not(loom))]
    pub const fn const_new(permits: usize) -> Semaphore {
        assert!(permits <= MAX_PERMITS);
        Semaphore {
            state: Lock::new(State {
                permits,
                closed: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Permits free now.
    pub fn available_permits(&self) -> usize {
        self.state.lock().permits
    }

    /// Adds `n` permits, waking waiters they satisfy.
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Closes the semaphore: waiting and later acquires fail with
    /// [`AcquireError`]; permits already held stay valid.
    pub fn close(&self) {
        let mut s = self.state.lock();
        s.closed = true;
        let mut wakers = Vec::new();
        while let Some(key) = s.waiters.pop_claimed() {
            wakers.extend(s.waiters.complete(key));
        }
        drop(s);
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// Waits for one permit.
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits, granted all at once.
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        Acquire {
            sem: self,
            n,
            key: None,
        }
    }

    /// Waits for one permit that owns a reference to the semaphore, so it
    /// can move into a spawned task.
    pub async fn acquire_owned(
        self: std::sync::Arc<Self>,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.clone().acquire_many_owned(1).await
    }

    /// Waits for `n` permits that own a reference to the semaphore.
    pub async fn acquire_many_owned(
        self: std::sync::Arc<Self>,
        n: usize,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many(n).await?.forget();
        Ok(OwnedSemaphorePermit { sem: self, n })
    }

    /// Takes one permit if that needs no waiting.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if that needs no waiting (and nobody is queued first).
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let mut s = self.state.lock();
        if s.closed {
            return Err(TryAcquireError::Closed);
        }
        if s.waiters.front().is_none() && s.permits >= n {
            s.permits -= n;
            return Ok(SemaphorePermit { sem: self, n });
        }
        Err(TryAcquireError::NoPermits)
    }

    /// Returns `n` permits and grants them to the queue's head while it is
    /// satisfied.
    pub(crate) fn release(&self, n: usize) {
        let mut s = self.state.lock();
        s.permits = s.permits.saturating_add(n).min(MAX_PERMITS);
        let wakers = s.grant();
        drop(s);
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl State {
    /// Serves the head of the queue while the free permits satisfy it.
    fn grant(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        while let Some(key) = self.waiters.front() {
            let w = self.waiters.get_mut(key);
            let need = w.value.expect("a queued waiter asks for permits");
            if need > self.permits {
                break;
            }
            self.permits -= need;
            w.value = None;
            self.waiters.pop_claimed();
            wakers.extend(self.waiters.complete(key));
        }
        wakers
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.available_permits())
            .finish()
    }
}

/// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
/// Dropping it while it waits gives up its place in the queue; dropping it
/// after its permits were granted returns them.
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    sem: &'a Semaphore,
    n: usize,
    key: Option<usize>,
}

impl Unpin for Acquire<'_> {}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (sem, n) = (this.sem, this.n);
        crate::task::wait_tag::set(crate::task::WaitOn::Semaphore);
        match poll_acquire(sem, n, &mut this.key, cx.waker()) {
            Poll::Ready(true) => Poll::Ready(Ok(SemaphorePermit { sem, n })),
            Poll::Ready(false) => Poll::Ready(Err(AcquireError(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// One poll of an acquire of `n` permits: `Ready(true)` granted,
/// `Ready(false)` closed. `key` is the queued waiter, if any.
pub(crate) fn poll_acquire(
    sem: &Semaphore,
    n: usize,
    key: &mut Option<usize>,
    waker: &Waker,
) -> Poll<bool> {
    let mut s = sem.state.lock();
    if let Some(k) = *key {
        if !s.waiters.get_mut(k).done {
            let old = s.waiters.update_waker(k, waker);
            drop(s);
            drop(old);
            return Poll::Pending;
        }
        let w = s.waiters.remove(k);
        *key = None;
        return Poll::Ready(w.value.is_none());
    }
    if s.closed {
        return Poll::Ready(false);
    }
    if s.waiters.front().is_none() && s.permits >= n {
        s.permits -= n;
        return Poll::Ready(true);
    }
    *key = Some(s.waiters.park(Waiter::new(Some(n), waker, None)));
    Poll::Pending
}

/// Leaves the queue (see [`Acquire`]'s drop rules); `n` is what it asked for.
pub(crate) fn cancel_acquire(sem: &Semaphore, key: usize, n: usize) {
    let mut s = sem.state.lock();
    let w = s.waiters.remove(key);
    if w.done && w.value.is_none() {
        // Granted but never collected: give the permits back.
        s.permits += n;
    }
    // Whether granted or not, the queue's head may have changed.
    let wakers = s.grant();
    drop(s);
    wakers.into_iter().for_each(Waker::wake);
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            cancel_acquire(self.sem, key, self.n);
        }
    }
}

/// Permits borrowed from a [`Semaphore`]; returned when dropped.
#[must_use = "dropping the permit returns it at once"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits taken for good (they are not returned).
    pub fn forget(mut self) {
        self.n = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.n
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.release(self.n);
        }
    }
}

/// Permits that own a reference to their [`Semaphore`]; returned when dropped.
#[must_use = "dropping the permit returns it at once"]
#[derive(Debug)]
pub struct OwnedSemaphorePermit {
    sem: std::sync::Arc<Semaphore>,
    n: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits taken for good.
    pub fn forget(mut self) {
        self.n = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &std::sync::Arc<Semaphore> {
        &self.sem
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.release(self.n);
        }
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::NoPermits => f.write_str("no permits available"),
            TryAcquireError::Closed => f.write_str("semaphore closed"),
        }
    }
}

impl std::error::Error for TryAcquireError {}
