//! `OnceCell`: a value set once, with async initialisation that runs at most
//! once at a time (concurrent callers wait for the first one instead of
//! starting their own).
//!
//! A one-permit [`Semaphore`] orders the initialisers: whoever holds the
//! permit runs its init future; if it fails, panics or is cancelled, the
//! permit passes to the next caller; once the value is set the semaphore is
//! closed, which releases every waiter to read it.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;

use super::Semaphore;
use crate::shim::{AtomicBool, Ordering};

/// A cell written once, readable from any core afterwards without locking.
///
/// ```
/// use uringo::sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::const_new();
///
/// uringo::start(async {
///     let v = CONFIG.get_or_init(|| async { "loaded".to_string() }).await;
///     assert_eq!(v, "loaded");
///     assert_eq!(CONFIG.get().map(String::as_str), Some("loaded"));
/// });
/// ```
pub struct OnceCell<T> {
    set: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
    init: Semaphore,
}

// SAFETY: the value is written once, by the holder of the init permit,
// before `set` is published with Release; readers read it only after seeing
// `set` with Acquire. Sharing hands out `&T` (Sync) and the writer may be on
// any thread (Send).
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}
// SAFETY: moving the cell moves the `T` it owns.
unsafe impl<T: Send> Send for OnceCell<T> {}

/// Why [`OnceCell::set`] failed; the value is given back.
#[derive(Debug, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitialized(T),
    /// An initialiser is running now.
    InitializingError(T),
}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> OnceCell<T> {
        OnceCell {
            set: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            init: Semaphore::new(1),
        }
    }

    /// An empty cell, usable in a `static`.
    #[cfg(not(loom))]
    pub const fn const_new() -> OnceCell<T> {
        OnceCell {
            set: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            init: Semaphore::const_new(1),
        }
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        if self.set.load(Ordering::Acquire) {
            // SAFETY: `set` was published after the value was written.
            Some(unsafe { (*self.value.get()).assume_init_ref() })
        } else {
            None
        }
    }

    /// Whether the value is set.
    pub fn initialized(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// Sets the value if the cell is empty and nobody is initialising it.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitialized(value));
        }
        match self.init.try_acquire() {
            Ok(permit) => {
                permit.forget();
                self.store(value);
                Ok(())
            }
            Err(_) if self.initialized() => Err(SetError::AlreadyInitialized(value)),
            Err(_) => Err(SetError::InitializingError(value)),
        }
    }

    /// The value, running `init` to produce it if the cell is empty. While
    /// one caller initialises, others wait for its result.
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let result: Result<&T, std::convert::Infallible> =
            self.get_or_try_init(|| async { Ok(init().await) }).await;
        match result {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_init`](Self::get_or_init) with a fallible `init`; on
    /// error the cell stays empty and the next waiter tries its own `init`.
    pub async fn get_or_try_init<E, F, Fut>(&self, init: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.get() {
            return Ok(v);
        }
        match self.init.acquire().await {
            // Closed: the value was set while we waited.
            Err(_) => Ok(self.get().expect("closed only once set")),
            Ok(permit) => {
                if let Some(v) = self.get() {
                    return Ok(v);
                }
                // On error, panic or cancellation the permit goes back.
                let value = init().await?;
                permit.forget();
                Ok(self.store(value))
            }
        }
    }

    /// The value, consuming the cell.
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        if !self.set.swap(false, Ordering::AcqRel) {
            return None;
        }
        self.init = Semaphore::new(1);
        // SAFETY: `set` was true, so the value is initialised; it is now
        // marked empty, so it is read out once.
        Some(unsafe { self.value.get_mut().assume_init_read() })
    }

    /// Writes the value; the caller holds (and has forgotten) the init permit.
    fn store(&self, value: T) -> &T {
        // SAFETY: the init permit is held, so no other writer or reader of
        // the slot exists until `set` is published.
        let v = unsafe { (*self.value.get()).write(value) };
        self.set.store(true, Ordering::Release);
        self.init.close();
        v
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OnceCell").field(&self.get()).finish()
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitialized(_) => f.write_str("the cell is already set"),
            SetError::InitializingError(_) => f.write_str("the cell is being initialised"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}
