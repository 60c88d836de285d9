//! `RwLock`: an async reader-writer lock, FIFO fair, on a [`Semaphore`]
//! of `MAX_READS` permits: a reader takes one, a writer takes all of them.
//! Because the queue is FIFO and a request is granted whole, a queued
//! writer holds back readers that come after it (no writer starvation),
//! and the readers queued behind a writer all enter together once it leaves.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::semaphore::{cancel_acquire, poll_acquire, Semaphore};

/// How many readers may hold the lock at once.
const MAX_READS: usize = u32::MAX as usize >> 3;

/// An async reader-writer lock: many readers or one writer, served in the
/// order they asked. Usable from any core. Guards borrow the lock; they are
/// `Send` and `Sync` when `T: Send + Sync`.
///
/// ```
/// use uringo::sync::RwLock;
///
/// uringo::start(async {
///     let config = RwLock::new(String::from("v1"));
///     {
///         let a = config.read().await;
///         let b = config.read().await; // readers share
///         assert_eq!((a.as_str(), b.as_str()), ("v1", "v1"));
///     }
///     config.write().await.push_str("-patched");
///     assert_eq!(*config.read().await, "v1-patched");
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    sem: Semaphore,
    value: UnsafeCell<T>,
}

// SAFETY: readers share `&T` (needs Sync) and a writer gets `&mut T` from
// any thread (needs Send); the semaphore enforces the exclusion.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// SAFETY: moving the lock moves the `T` it owns.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}

impl<T> RwLock<T> {
    /// A new unlocked lock around `value`.
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            sem: Semaphore::new(MAX_READS),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, consuming the lock.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access. Cancel safe, like [`Mutex::lock`](super::Mutex::lock).
    pub fn read(&self) -> LockFuture<'_, T, RwLockReadGuard<'_, T>> {
        LockFuture::new(self, 1)
    }

    /// Waits for exclusive access. Cancel safe.
    pub fn write(&self) -> LockFuture<'_, T, RwLockWriteGuard<'_, T>> {
        LockFuture::new(self, MAX_READS)
    }

    /// Shared access if no writer holds or waits for the lock.
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        let permit = self.sem.try_acquire().ok()?;
        permit.forget();
        Some(RwLockReadGuard { lock: self })
    }

    /// Exclusive access if nobody holds or waits for the lock.
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        let permit = self.sem.try_acquire_many(MAX_READS).ok()?;
        permit.forget();
        Some(RwLockWriteGuard { lock: self })
    }

    /// The value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").finish_non_exhaustive()
    }
}

/// Builds a guard once its permits are granted.
#[doc(hidden)]
pub trait FromLock<'a, T: ?Sized> {
    fn from_lock(lock: &'a RwLock<T>) -> Self;
}

/// The future of [`RwLock::read`] and [`RwLock::write`].
#[must_use = "futures do nothing unless awaited"]
pub struct LockFuture<'a, T: ?Sized, G> {
    lock: &'a RwLock<T>,
    n: usize,
    key: Option<usize>,
    _guard: std::marker::PhantomData<fn() -> G>,
}

impl<'a, T: ?Sized, G> LockFuture<'a, T, G> {
    fn new(lock: &'a RwLock<T>, n: usize) -> Self {
        LockFuture {
            lock,
            n,
            key: None,
            _guard: std::marker::PhantomData,
        }
    }
}

impl<T: ?Sized, G> Unpin for LockFuture<'_, T, G> {}

impl<'a, T: ?Sized, G: FromLock<'a, T>> Future for LockFuture<'a, T, G> {
    type Output = G;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<G> {
        let this = self.get_mut();
        crate::task::wait_tag::set(crate::task::WaitOn::RwLock);
        match poll_acquire(&this.lock.sem, this.n, &mut this.key, cx.waker()) {
            Poll::Ready(true) => Poll::Ready(G::from_lock(this.lock)),
            Poll::Ready(false) => unreachable!("a rwlock's semaphore is never closed"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: ?Sized, G> Drop for LockFuture<'_, T, G> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            cancel_acquire(&self.lock.sem, key, self.n);
        }
    }
}

/// Shared access to a [`RwLock`]'s value; released when dropped.
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

/// Exclusive access to a [`RwLock`]'s value; released when dropped.
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

impl<'a, T: ?Sized> FromLock<'a, T> for RwLockReadGuard<'a, T> {
    fn from_lock(lock: &'a RwLock<T>) -> Self {
        RwLockReadGuard { lock }
    }
}

impl<'a, T: ?Sized> FromLock<'a, T> for RwLockWriteGuard<'a, T> {
    fn from_lock(lock: &'a RwLock<T>) -> Self {
        RwLockWriteGuard { lock }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read permit is held, so no writer exists.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: every permit is held by this guard.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: every permit is held by this guard.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(MAX_READS);
    }
}
