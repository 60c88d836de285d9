//! `Mutex`: an async mutex, FIFO fair, built on a one-permit [`Semaphore`].
//!
//! Why a semaphore underneath: its queue already gives FIFO hand-off and
//! cancel safety (a dropped `lock()` future leaves the queue, and one that
//! was handed the lock but never polled hands it on), so the mutex is the
//! semaphore plus the cell it guards.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::semaphore::{cancel_acquire, poll_acquire, Semaphore};

/// An async mutual-exclusion lock whose waiters get the lock in the order
/// they asked for it. Usable from any core.
///
/// Hold it across `.await` only when you must (a `std::sync::Mutex` is
/// cheaper for short, non-awaiting sections); unlike a spin lock, a waiting
/// task parks and its core runs others.
///
/// Guards: [`MutexGuard`] borrows the mutex and is `Send` when `T: Send`
/// (releasing from another core just wakes the next waiter there);
/// [`OwnedMutexGuard`] owns an `Arc` of the mutex, so it can be moved into a
/// task on another core.
///
/// ```
/// use std::sync::Arc;
/// use uringo::sync::Mutex;
///
/// uringo::start(async {
///     let count = Arc::new(Mutex::new(0));
///     let mut tasks = Vec::new();
///     for core in 0..uringo::cores() {
///         let count = count.clone();
///         tasks.push(uringo::spawn_on(core, move || async move {
///             for _ in 0..100 {
///                 *count.lock().await += 1;
///                 uringo::yield_now().await;
///             }
///         }));
///     }
///     for t in tasks {
///         t.await;
///     }
///     assert_eq!(*count.lock().await, 100 * uringo::cores());
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    sem: Semaphore,
    value: UnsafeCell<T>,
}

// SAFETY: the semaphore's single permit gives one holder at a time access
// to `value`, so sharing the mutex needs only that `T` may move threads.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: moving the mutex moves the `T` it owns.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

/// The lock is held; returned by [`Mutex::try_lock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(());

impl<T> Mutex<T> {
    /// A new unlocked mutex around `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            sem: Semaphore::new(1),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock. Cancel safe: dropping the future gives up its
    /// place in the queue (or hands on a lock it was just given).
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            key: None,
        }
    }

    /// Waits for the lock, returning a guard that owns an `Arc` of the mutex.
    pub async fn lock_owned(self: std::sync::Arc<Self>) -> OwnedMutexGuard<T> {
        std::mem::forget(self.lock().await);
        OwnedMutexGuard { mutex: self }
    }

    /// Takes the lock if it is free and nobody is queued for it.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire() {
            Ok(permit) => {
                permit.forget();
                Ok(MutexGuard { mutex: self })
            }
            Err(_) => Err(TryLockError(())),
        }
    }

    /// The value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex").finish_non_exhaustive()
    }
}

/// The future of [`Mutex::lock`].
#[must_use = "futures do nothing unless awaited"]
pub struct Lock<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    key: Option<usize>,
}

impl<T: ?Sized> Unpin for Lock<'_, T> {}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        crate::task::wait_tag::set(crate::task::WaitOn::Mutex);
        match poll_acquire(&this.mutex.sem, 1, &mut this.key, cx.waker()) {
            Poll::Ready(true) => Poll::Ready(MutexGuard { mutex: this.mutex }),
            Poll::Ready(false) => unreachable!("a mutex's semaphore is never closed"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: ?Sized> Drop for Lock<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            cancel_acquire(&self.mutex.sem, key, 1);
        }
    }
}

/// Exclusive access to a [`Mutex`]'s value; unlocks when dropped.
#[must_use = "dropping the guard unlocks at once"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
}

// SAFETY: `&MutexGuard` only gives `&T`.
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A [`MutexGuard`] that owns an `Arc` of its mutex.
#[must_use = "dropping the guard unlocks at once"]
pub struct OwnedMutexGuard<T: ?Sized> {
    mutex: std::sync::Arc<Mutex<T>>,
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.sem.release(1);
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mutex is locked")
    }
}

impl std::error::Error for TryLockError {}
