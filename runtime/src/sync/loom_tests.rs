//! Loom models of the primitives' cross-thread paths: a wake from another
//! thread is never lost (a lost one is a deadlock loom reports) and the
//! mutex's wait list hands the lock on when a waiting future is dropped.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p uringo --profile loom --lib sync::loom`

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};

use loom::thread;

use super::*;
use crate::chan::loom_tests::{block_on, model};
use crate::shim::Arc;

#[test]
fn loom_waitgroup_done_on_another_thread_releases_the_waiter() {
    model(|| {
        let wg = WaitGroup::new();
        wg.add(2);
        let a = wg.clone();
        let b = wg.clone();
        let t1 = thread::spawn(move || a.done());
        let t2 = thread::spawn(move || b.done());
        block_on(wg.wait());
        assert_eq!(wg.count(), 0);
        t1.join().unwrap();
        t2.join().unwrap();
    });
}

#[test]
fn loom_notify_one_racing_notified_is_never_lost() {
    model(|| {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let t = thread::spawn(move || n2.notify_one());
        block_on(n.notified());
        t.join().unwrap();
    });
}

#[test]
fn loom_notify_waiters_reaches_a_created_notified() {
    model(|| {
        let n = Arc::new(Notify::new());
        let notified = n.notified();
        let n2 = n.clone();
        let t = thread::spawn(move || n2.notify_waiters());
        // Created before the call on the other thread, so it completes
        // whether it is first polled before or after it.
        block_on(notified);
        t.join().unwrap();
    });
}

#[test]
fn loom_mutex_wait_list_hands_on_a_lock_granted_to_a_dropped_future() {
    model(|| {
        let m = Arc::new(Mutex::new(0u32));
        let guard = block_on(m.lock());
        let m2 = m.clone();
        let t = thread::spawn(move || {
            // Queue behind the holder, then give up, possibly after the
            // lock was handed to this future.
            let mut lock = pin!(m2.lock());
            let waker = std::task::Waker::noop();
            let got = lock.as_mut().poll(&mut Context::from_waker(waker));
            if let Poll::Ready(mut g) = got {
                *g += 1;
            }
        });
        drop(guard);
        t.join().unwrap();
        // Whatever the interleaving, the lock is free again.
        *block_on(m.lock()) += 1;
        assert!(*block_on(m.lock()) >= 1);
    });
}

#[test]
fn loom_mutex_two_threads_contend_without_losing_a_wake() {
    model(|| {
        let m = Arc::new(Mutex::new(0u32));
        let m2 = m.clone();
        let t = thread::spawn(move || *block_on(m2.lock()) += 1);
        *block_on(m.lock()) += 1;
        t.join().unwrap();
        assert_eq!(*block_on(m.lock()), 2);
    });
}
