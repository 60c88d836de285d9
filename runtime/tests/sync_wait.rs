//! WaitGroup (Go), Notify, oneshot and OnceCell (tokio) semantics, within a
//! core and across cores.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

mod support;

use support::{runtime, within};
use uringo::sync::{oneshot, Notify, OnceCell, WaitGroup};
use uringo::{spawn, spawn_on, yield_now};

async fn poll_once<F: Future + Unpin>(fut: &mut F) -> bool {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx).is_ready())).await
}

async fn settle() {
    for _ in 0..8 {
        yield_now().await;
    }
}

#[test]
fn waitgroup_waits_for_tasks_on_every_core() {
    within(Duration::from_secs(20), "waitgroup", || {
        runtime(2).block_on(async {
            let wg = WaitGroup::new();
            let finished = Arc::new(AtomicUsize::new(0));
            for i in 0..100 {
                wg.add(1);
                let (wg, finished) = (wg.clone(), finished.clone());
                spawn_on(i % 2, move || async move {
                    for _ in 0..i % 5 {
                        yield_now().await;
                    }
                    finished.fetch_add(1, Ordering::SeqCst);
                    wg.done();
                });
            }
            wg.wait().await;
            assert_eq!(finished.load(Ordering::SeqCst), 100);
            assert_eq!(wg.count(), 0);
        })
    });
}

#[test]
fn waitgroup_releases_waiters_on_several_cores() {
    within(Duration::from_secs(20), "waitgroup waiters", || {
        runtime(2).block_on(async {
            let wg = WaitGroup::new();
            wg.add(1);
            let waiters: Vec<_> = (0..6)
                .map(|i| {
                    let wg = wg.clone();
                    spawn_on(i % 2, move || async move { wg.wait().await })
                })
                .collect();
            settle().await;
            assert!(waiters.iter().all(|w| !w.is_finished()));
            wg.done();
            for w in waiters {
                w.await;
            }
        })
    });
}

#[test]
fn waitgroup_at_zero_does_not_wait() {
    runtime(1).block_on(async {
        let wg = WaitGroup::new();
        wg.wait().await;
        wg.add(2);
        wg.add(-2);
        wg.wait().await;
    });
}

#[test]
fn waitgroup_negative_counter_panics_as_in_go() {
    let wg = WaitGroup::new();
    wg.add(1);
    wg.done();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| wg.done())).unwrap_err();
    assert_eq!(
        err.downcast_ref::<&str>(),
        Some(&"sync: negative WaitGroup counter")
    );
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| wg.add(-3))).unwrap_err();
    assert!(err.downcast_ref::<&str>().unwrap().contains("negative"));
    assert_eq!(wg.count(), 0, "the counter is left as it was");
}

#[test]
fn notify_one_stores_a_single_permit() {
    runtime(1).block_on(async {
        let n = Notify::new();
        n.notify_one();
        n.notify_one();
        n.notified().await; // the stored permit
        let mut second = n.notified();
        assert!(!poll_once(&mut second).await, "only one permit is stored");
    });
}

#[test]
fn notify_one_wakes_waiters_in_fifo_order() {
    runtime(1).block_on(async {
        let n = Rc::new(Notify::new());
        let order = Rc::new(std::cell::RefCell::new(Vec::new()));
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let (n, order) = (n.clone(), order.clone());
                spawn(async move {
                    n.notified().await;
                    order.borrow_mut().push(i);
                })
            })
            .collect();
        settle().await;
        for _ in 0..3 {
            n.notify_one();
            settle().await;
        }
        for t in tasks {
            t.await;
        }
        assert_eq!(*order.borrow(), [0, 1, 2]);
    });
}

#[test]
fn notify_waiters_wakes_all_waiting_and_stores_nothing() {
    within(Duration::from_secs(20), "notify_waiters", || {
        runtime(2).block_on(async {
            let n = Arc::new(Notify::new());
            let woken = Arc::new(AtomicUsize::new(0));
            let created = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..6)
                .map(|i| {
                    let (n, woken, created) = (n.clone(), woken.clone(), created.clone());
                    spawn_on(i % 2, move || async move {
                        let notified = n.notified();
                        created.fetch_add(1, Ordering::SeqCst);
                        notified.await;
                        woken.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            // Created before the call, polled after: still completes.
            let mut early = n.notified();
            support::tick_until(10_000, "waiters created", || {
                created.load(Ordering::SeqCst) == 6
            })
            .await;
            n.notify_waiters();
            for t in tasks {
                t.await;
            }
            assert_eq!(woken.load(Ordering::SeqCst), 6);
            assert!(
                poll_once(&mut early).await,
                "a Notified created before notify_waiters completes"
            );
            let mut late = n.notified();
            assert!(
                !poll_once(&mut late).await,
                "notify_waiters stores no permit"
            );
        })
    });
}

#[test]
fn a_dropped_notified_passes_its_notify_one_on() {
    runtime(1).block_on(async {
        let n = Rc::new(Notify::new());
        let mut first = n.notified();
        assert!(!poll_once(&mut first).await);
        let n2 = n.clone();
        let second = spawn(async move { n2.notified().await });
        settle().await;
        n.notify_one(); // completes `first`, which never looks
        drop(first);
        second.await;
    });
}

#[test]
fn oneshot_across_cores_and_its_closed_cases() {
    within(Duration::from_secs(20), "oneshot", || {
        runtime(2).block_on(async {
            let (tx, rx) = oneshot::channel();
            spawn_on(
                1,
                move || async move { tx.send(String::from("reply")).unwrap() },
            );
            assert_eq!(rx.await.unwrap(), "reply");

            let (tx, rx) = oneshot::channel::<u32>();
            spawn_on(1, move || async move { drop(tx) });
            assert!(rx.await.is_err(), "sender dropped without sending");

            let (mut tx, rx) = oneshot::channel::<u32>();
            let closed = spawn(async move {
                tx.closed().await;
                tx.send(3)
            });
            settle().await;
            drop(rx);
            assert_eq!(closed.await, Err(3), "the value comes back");

            let (tx, mut rx) = oneshot::channel::<u32>();
            assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Empty));
            tx.send(9).unwrap();
            assert_eq!(rx.try_recv(), Ok(9));
        })
    });
}

#[test]
fn oncecell_initialises_once_while_others_wait() {
    within(Duration::from_secs(20), "oncecell", || {
        runtime(2).block_on(async {
            let cell = Arc::new(OnceCell::<u32>::new());
            let inits = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..8)
                .map(|i| {
                    let (cell, inits) = (cell.clone(), inits.clone());
                    spawn_on(i % 2, move || async move {
                        *cell
                            .get_or_init(|| async {
                                inits.fetch_add(1, Ordering::SeqCst);
                                yield_now().await;
                                42
                            })
                            .await
                    })
                })
                .collect();
            for t in tasks {
                assert_eq!(t.await, 42);
            }
            assert_eq!(inits.load(Ordering::SeqCst), 1);
            assert_eq!(
                cell.set(1).unwrap_err(),
                uringo::sync::SetError::AlreadyInitialized(1)
            );
        })
    });
}

#[test]
fn oncecell_failed_init_leaves_it_empty_for_the_next_caller() {
    runtime(1).block_on(async {
        let cell = OnceCell::<u32>::new();
        let r: Result<&u32, &str> = cell.get_or_try_init(|| async { Err("down") }).await;
        assert_eq!(r, Err("down"));
        assert!(cell.get().is_none());
        let r: Result<&u32, &str> = cell.get_or_try_init(|| async { Ok(5) }).await;
        assert_eq!(r, Ok(&5));
    });
}
