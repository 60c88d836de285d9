//! Mutex, RwLock and Semaphore as tokio documents them, within a core and
//! across cores: mutual exclusion, FIFO fairness, cancel safety of dropped
//! lock futures, permits returned on drop, close.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

mod support;

use support::{runtime, within};
use uringo::sync::{Mutex, RwLock, Semaphore, TryAcquireError};
use uringo::{spawn, spawn_on, yield_now};

/// Polls `fut` once; true if it completed.
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> bool {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx).is_ready())).await
}

/// Lets every task queued on this core run (their parks are in place after).
async fn settle() {
    for _ in 0..8 {
        yield_now().await;
    }
}

#[test]
fn mutex_excludes_across_cores_even_when_held_over_await() {
    within(Duration::from_secs(20), "mutex across cores", || {
        runtime(2).block_on(async {
            let m = Arc::new(Mutex::new(0u64));
            let tasks: Vec<_> = (0..2)
                .flat_map(|core| (0..4).map(move |_| core))
                .map(|core| {
                    let m = m.clone();
                    spawn_on(core, move || async move {
                        for _ in 0..200 {
                            let mut g = m.lock().await;
                            // Read, yield while holding, write: without
                            // exclusion, increments from others are lost.
                            let v = *g;
                            yield_now().await;
                            *g = v + 1;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await;
            }
            assert_eq!(*m.lock().await, 8 * 200);
        })
    });
}

#[test]
fn mutex_hands_the_lock_over_in_fifo_order() {
    runtime(1).block_on(async {
        let m = Rc::new(Mutex::new(()));
        let order = Rc::new(RefCell::new(Vec::new()));
        let held = m.lock().await;
        let mut waiters = Vec::new();
        for i in 0..6 {
            let (m, order) = (m.clone(), order.clone());
            waiters.push(spawn(async move {
                let _g = m.lock().await;
                order.borrow_mut().push(i);
                yield_now().await;
            }));
            // Each waiter queues before the next is spawned.
            settle().await;
        }
        drop(held);
        for w in waiters {
            w.await;
        }
        assert_eq!(*order.borrow(), [0, 1, 2, 3, 4, 5]);
    });
}

#[test]
fn dropped_waiting_lock_future_leaves_the_queue() {
    runtime(1).block_on(async {
        let m = Rc::new(Mutex::new(0));
        let held = m.lock().await;
        let mut dropped = m.lock();
        assert!(!poll_once(&mut dropped).await, "the mutex is held");
        let m2 = m.clone();
        let next = spawn(async move { *m2.lock().await += 1 });
        settle().await;
        drop(dropped);
        drop(held);
        next.await;
        assert_eq!(*m.lock().await, 1);
    });
}

#[test]
fn lock_handed_to_a_dropped_future_passes_to_the_next_waiter() {
    runtime(1).block_on(async {
        let m = Rc::new(Mutex::new(0));
        let held = m.lock().await;
        let mut first = m.lock();
        assert!(!poll_once(&mut first).await);
        let m2 = m.clone();
        let second = spawn(async move { *m2.lock().await += 1 });
        settle().await;
        // The release grants the lock to `first`, which is never polled again.
        drop(held);
        assert!(m.try_lock().is_err(), "granted to the first waiter");
        drop(first);
        second.await;
        assert_eq!(*m.lock().await, 1);
    });
}

#[test]
fn try_lock_respects_the_queue() {
    runtime(1).block_on(async {
        let m = Rc::new(Mutex::new(()));
        let g = m.try_lock().expect("free");
        assert!(m.try_lock().is_err());
        drop(g);
        assert!(m.try_lock().is_ok());
        let a = Arc::new(Mutex::new(5));
        let g = a.clone().lock_owned().await;
        assert!(a.try_lock().is_err());
        drop(g);
        assert_eq!(*a.lock().await, 5);
    });
}

#[test]
fn rwlock_readers_share_and_a_queued_writer_holds_back_later_readers() {
    runtime(1).block_on(async {
        let l = Rc::new(RwLock::new(0));
        let r1 = l.read().await;
        let r2 = l.read().await;
        let l2 = l.clone();
        let writer = spawn(async move { *l2.write().await = 7 });
        settle().await;
        assert!(l.try_read().is_none(), "a writer is queued");
        let l3 = l.clone();
        let late_reader = spawn(async move { *l3.read().await });
        settle().await;
        assert!(
            !late_reader.is_finished(),
            "a later reader waits behind the writer"
        );
        drop((r1, r2));
        writer.await;
        assert_eq!(late_reader.await, 7, "the reader entered after the writer");
        assert!(l.try_write().is_some());
    });
}

#[test]
fn rwlock_writer_excludes_across_cores() {
    within(Duration::from_secs(20), "rwlock across cores", || {
        runtime(2).block_on(async {
            let l = Arc::new(RwLock::new((0u64, 0u64)));
            let tasks: Vec<_> = (0..4)
                .map(|i| {
                    let l = l.clone();
                    spawn_on(i % 2, move || async move {
                        for _ in 0..200 {
                            if i % 2 == 0 {
                                let mut w = l.write().await;
                                w.0 += 1;
                                yield_now().await;
                                w.1 += 1;
                            } else {
                                let r = l.read().await;
                                assert_eq!(r.0, r.1, "a reader saw a half-done write");
                            }
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await;
            }
            assert_eq!(*l.read().await, (400, 400));
        })
    });
}

#[test]
fn semaphore_bounds_concurrency_across_cores_and_permits_return_on_drop() {
    within(Duration::from_secs(20), "semaphore across cores", || {
        runtime(2).block_on(async {
            let sem = Arc::new(Semaphore::new(3));
            let inside = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..16)
                .map(|i| {
                    let (sem, inside, peak) = (sem.clone(), inside.clone(), peak.clone());
                    spawn_on(i % 2, move || async move {
                        let _permit = sem.acquire_owned().await.unwrap();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        yield_now().await;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for t in tasks {
                t.await;
            }
            assert!(peak.load(Ordering::SeqCst) <= 3);
            assert_eq!(sem.available_permits(), 3, "every permit came back");
        })
    });
}

#[test]
fn semaphore_serves_a_large_request_before_later_small_ones() {
    runtime(1).block_on(async {
        let sem = Rc::new(Semaphore::new(2));
        let one = sem.acquire().await.unwrap();
        let s2 = sem.clone();
        let big = spawn(async move { s2.acquire_many(2).await.unwrap().forget() });
        settle().await;
        // One permit is free, but the queue's head comes first.
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
        let s3 = sem.clone();
        let small = spawn(async move {
            let _p = s3.acquire().await.unwrap();
        });
        settle().await;
        assert!(
            !small.is_finished(),
            "a later small request waits behind the head"
        );
        drop(one);
        big.await;
        assert_eq!(sem.available_permits(), 0, "the big request took both");
        sem.add_permits(1);
        small.await;
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn closing_a_semaphore_fails_waiters_and_later_acquires() {
    runtime(1).block_on(async {
        let sem = Rc::new(Semaphore::new(0));
        let s2 = sem.clone();
        let waiter = spawn(async move { s2.acquire().await.is_err() });
        settle().await;
        sem.close();
        assert!(waiter.await, "the waiter saw the close");
        assert!(sem.acquire().await.is_err());
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    });
}

#[test]
fn primitives_and_guards_are_send_and_sync_as_documented() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Mutex<Vec<u8>>>();
    send_sync::<uringo::sync::MutexGuard<'static, Vec<u8>>>();
    send_sync::<uringo::sync::OwnedMutexGuard<Vec<u8>>>();
    send_sync::<RwLock<Vec<u8>>>();
    send_sync::<uringo::sync::RwLockReadGuard<'static, Vec<u8>>>();
    send_sync::<uringo::sync::RwLockWriteGuard<'static, Vec<u8>>>();
    send_sync::<Semaphore>();
    send_sync::<uringo::sync::OwnedSemaphorePermit>();
    send_sync::<uringo::sync::Notify>();
    send_sync::<uringo::sync::WaitGroup>();
    send_sync::<uringo::sync::OnceCell<Vec<u8>>>();
    send::<uringo::sync::oneshot::Sender<Vec<u8>>>();
    send::<uringo::sync::oneshot::Receiver<Vec<u8>>>();
}
