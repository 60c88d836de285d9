//! The runtime's own atomics, mutexes and `Arc`, swapped for loom's under `--cfg loom`
//! (internal: the public async primitives live in `uringo::sync`).
//!
//! Every cross-thread structure in the runtime (remote run queues, the park
//! flag, channels) imports its atomics, mutexes and `Arc` from here, so the
//! same code runs under loom's model checker in tests and on std otherwise.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicU32, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard,
};

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicU32, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard,
};

/// Locks a mutex, ignoring poisoning: a panic in another holder must not
/// take the runtime's wake path down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(loom)]
    {
        m.lock().unwrap()
    }
    #[cfg(not(loom))]
    {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }
}
