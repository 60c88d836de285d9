//! Async synchronisation primitives for tasks on any core: Go's
//! [`WaitGroup`], and tokio's [`Mutex`], [`RwLock`], [`Semaphore`],
//! [`Notify`], [`OnceCell`] and [`oneshot`]; and [`Latch`], a one-way
//! stop flag for the tasks of one core (single-core, no lock: servers check
//! it around every read of every connection).
//!
//! Why they exist beside channels: Go's advice is to share memory by
//! communicating, and uringo's cores share nothing by default, but a service
//! still needs to wait for a batch of tasks, cap concurrency, hand a reply
//! back or guard a shared cache. Every primitive here parks the waiting
//! task (its core runs others) and may be woken from any core; waiters are
//! served FIFO. A primitive is one short lock around its state plus a
//! queue of wakers (the same wait list the channels use), so the cost of an
//! uncontended operation is one compare-and-swap and a release store.
//!
//! Cancellation: every future here may be dropped at any point (for
//! example by a `select!` or `timeout` that took another branch); it then
//! leaves its queue, and a lock or permit it was handed but never saw is
//! passed on, so nothing is lost.

mod latch;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod rwlock;
mod semaphore;
mod wait_group;

pub use latch::{Latch, Watch};
pub use mutex::{Lock, Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{LockFuture, RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{
    Acquire, AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
pub use wait_group::{Wait, WaitGroup};

#[cfg(all(test, loom))]
mod loom_tests;
