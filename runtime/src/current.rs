//! The current core's handles: its driver, its timer wheel, its task
//! budget and the blocking pool.
//!
//! A leaf module: subsystems (`op/`, `net/`, `time/`, `blocking`, `stats`)
//! ask it for what they need instead of reaching into the executor's
//! `Core`, and it depends on nothing above the driver. The executor owns
//! the [`Handles`] of each core and makes them current while the core runs.

use std::cell::{Cell, RefCell};
use std::ptr;

use crate::blocking::Pool;
use crate::driver::Driver;
use crate::time::wheel::Wheel;

/// What a core lends to the code running on it.
pub(crate) struct Handles {
    pub(crate) driver: RefCell<Driver>,
    pub(crate) timers: RefCell<Wheel>,
    /// Polls left for the running task before I/O that is ready anyway
    /// makes it yield (invariant 6).
    pub(crate) budget: Cell<u32>,
    pub(crate) blocking: std::sync::Arc<Pool>,
}

thread_local! {
    static CURRENT: Cell<*const Handles> = const { Cell::new(ptr::null()) };
}

/// Makes `handles` current for the duration of `f`.
pub(crate) fn enter<R>(handles: &Handles, f: impl FnOnce() -> R) -> R {
    struct Reset(*const Handles);
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let prev = CURRENT.with(|c| c.replace(handles));
    let _reset = Reset(prev);
    f()
}

fn try_with<R>(f: impl FnOnce(&Handles) -> R) -> Option<R> {
    let handles = CURRENT.try_with(|c| c.get()).ok()?;
    if handles.is_null() {
        return None;
    }
    // SAFETY: CURRENT is non-null only while `enter` keeps the handles
    // alive on this thread (it resets the pointer before they go away).
    Some(f(unsafe { &*handles }))
}

#[track_caller]
fn with<R>(f: impl FnOnce(&Handles) -> R) -> R {
    match try_with(f) {
        Some(r) => r,
        None => panic!(
            "this must be called from a uringo runtime thread \
             (inside block_on, start or a spawned task)"
        ),
    }
}

/// Runs `f` with the current core's driver.
///
/// # Panics
/// Off a runtime thread, or re-entered from inside `f`.
#[track_caller]
pub(crate) fn driver<R>(f: impl FnOnce(&mut Driver) -> R) -> R {
    with(|h| f(&mut h.driver.borrow_mut()))
}

/// Like [`driver`], but None off a runtime thread or while the driver is
/// in use (for drop paths, which must not panic).
pub(crate) fn try_driver<R>(f: impl FnOnce(&mut Driver) -> R) -> Option<R> {
    try_with(|h| h.driver.try_borrow_mut().ok().map(|mut d| f(&mut d))).flatten()
}

/// Runs `f` with the current core's timer wheel.
///
/// # Panics
/// Off a runtime thread.
#[track_caller]
pub(crate) fn timers<R>(f: impl FnOnce(&mut Wheel) -> R) -> R {
    with(|h| f(&mut h.timers.borrow_mut()))
}

/// Like [`timers`], but None off a runtime thread or while in use.
pub(crate) fn try_timers<R>(f: impl FnOnce(&mut Wheel) -> R) -> Option<R> {
    try_with(|h| h.timers.try_borrow_mut().ok().map(|mut t| f(&mut t))).flatten()
}

/// Spends one unit of the running task's budget; false once it is spent
/// (the task should yield). Always true off a runtime thread.
pub(crate) fn spend_budget() -> bool {
    try_with(|h| {
        let left = h.budget.get();
        if left > 0 {
            h.budget.set(left - 1);
        }
        left > 0
    })
    .unwrap_or(true)
}

/// The blocking pool of the current runtime.
///
/// # Panics
/// Off a runtime thread.
#[track_caller]
pub(crate) fn blocking_pool() -> std::sync::Arc<Pool> {
    with(|h| h.blocking.clone())
}
