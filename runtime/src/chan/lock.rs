//! The channel lock: one uncontended compare-and-swap to take it, a plain
//! release store to give it back.
//!
//! Why not `std::sync::Mutex`: its unlock is a second atomic read-modify-write
//! (a swap, to learn whether a sleeper must be woken by futex). Channel
//! critical sections are a few dozen instructions that never block, so a
//! waiter spins briefly and then yields its thread instead of sleeping; that
//! leaves one RMW per operation on the hot path (the same-core ping-pong).
//! Under loom the shim's `Mutex` is used, so the models check the channel
//! logic against a lock loom understands.

#[cfg(not(loom))]
mod imp {
    use std::cell::UnsafeCell;
    use std::ops::{Deref, DerefMut};
    use std::sync::atomic::{AtomicBool, Ordering};

    pub(crate) struct Lock<T> {
        locked: AtomicBool,
        value: UnsafeCell<T>,
    }

    // SAFETY: the lock hands out access to `value` to one thread at a time
    // (acquire/release on `locked`), so sharing it needs only `T: Send`.
    unsafe impl<T: Send> Sync for Lock<T> {}
    // SAFETY: moving the lock moves the `T` it owns.
    unsafe impl<T: Send> Send for Lock<T> {}

    pub(crate) struct Guard<'a, T> {
        lock: &'a Lock<T>,
    }

    impl<T> Lock<T> {
        pub(crate) const fn new(value: T) -> Self {
            Lock {
                locked: AtomicBool::new(false),
                value: UnsafeCell::new(value),
            }
        }

        #[inline]
        pub(crate) fn lock(&self) -> Guard<'_, T> {
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                self.lock_contended();
            }
            Guard { lock: self }
        }

        #[cold]
        fn lock_contended(&self) {
            let mut spins = 0u32;
            loop {
                if !self.locked.load(Ordering::Relaxed)
                    && self
                        .locked
                        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                {
                    return;
                }
                if spins < 6 {
                    for _ in 0..(1 << spins) {
                        std::hint::spin_loop();
                    }
                    spins += 1;
                } else {
                    // The holder may have been preempted: let it run.
                    std::thread::yield_now();
                }
            }
        }
    }

    impl<T> Deref for Guard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: this guard holds the lock, so no `&mut T` exists elsewhere.
            unsafe { &*self.lock.value.get() }
        }
    }

    impl<T> DerefMut for Guard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: this guard holds the lock exclusively.
            unsafe { &mut *self.lock.value.get() }
        }
    }

    impl<T> Drop for Guard<'_, T> {
        #[inline]
        fn drop(&mut self) {
            self.lock.locked.store(false, Ordering::Release);
        }
    }
}

#[cfg(loom)]
mod imp {
    use crate::shim::{lock, Mutex, MutexGuard};

    pub(crate) struct Lock<T>(Mutex<T>);

    pub(crate) type Guard<'a, T> = MutexGuard<'a, T>;

    impl<T> Lock<T> {
        pub(crate) fn new(value: T) -> Self {
            Lock(Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> Guard<'_, T> {
            lock(&self.0)
        }
    }
}

pub(crate) use imp::{Guard, Lock};

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Lock;
    use std::sync::Arc;

    #[test]
    fn contended_increments_are_all_kept() {
        let lock = Arc::new(Lock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        // A plain (non-atomic) increment: updates get lost
                        // unless the lock excludes the other threads.
                        *lock.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.lock(), 80_000);
    }
}
