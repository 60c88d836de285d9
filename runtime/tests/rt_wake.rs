//! Invariant 4: a Waker may be woken from any thread, and no wakeup is
//! lost: foreign threads, other cores, and a parked core woken by MSG_RING
//! (from a runtime thread) or by its eventfd (from any other thread, or
//! when MSG_RING is off).

mod support;

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use support::{builders, on_each_builder, tick_until, within};

const LIMIT: Duration = Duration::from_secs(60);

/// Waits for `wakes` wakes, each delivered by a foreign thread that got
/// the waker over `to_wakers`.
async fn wait_for_foreign_wakes(wakes: usize, to_wakers: mpsc::Sender<(Waker, Arc<AtomicBool>)>) {
    for _ in 0..wakes {
        let flag = Arc::new(AtomicBool::new(false));
        let mut sent = false;
        poll_fn(|cx| {
            if flag.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            if !sent {
                sent = true;
                to_wakers.send((cx.waker().clone(), flag.clone())).unwrap();
            }
            Poll::Pending
        })
        .await;
    }
}

#[test]
fn ten_thousand_tasks_woken_from_foreign_threads_all_run() {
    const TASKS: usize = 10_000;
    const WAKES: usize = 3;
    const THREADS: usize = 4;
    within(LIMIT, "foreign wakes", || {
        for (name, builder) in builders() {
            let (to_wakers, wakers) = mpsc::channel::<(Waker, Arc<AtomicBool>)>();
            let wakers = Arc::new(Mutex::new(wakers));
            let threads: Vec<_> = (0..THREADS)
                .map(|t| {
                    let wakers = wakers.clone();
                    std::thread::spawn(move || {
                        let mut n = 0usize;
                        loop {
                            let next = wakers.lock().unwrap().recv();
                            let Ok((waker, flag)) = next else { return n };
                            flag.store(true, Ordering::Release);
                            // Both kinds of wake, and wakers dropped on this thread.
                            if (n + t) % 2 == 0 {
                                waker.wake();
                            } else {
                                waker.wake_by_ref();
                            }
                            n += 1;
                        }
                    })
                })
                .collect();
            let rt = builder.build().unwrap();
            let finished = rt.block_on(async move {
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| {
                        let to_wakers = to_wakers.clone();
                        uringo::spawn(async move {
                            wait_for_foreign_wakes(WAKES, to_wakers).await;
                            i
                        })
                    })
                    .collect();
                drop(to_wakers);
                let mut sum = 0;
                for h in handles {
                    sum += h.await;
                }
                sum
            });
            assert_eq!(finished, TASKS * (TASKS - 1) / 2, "{name}");
            let woken: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
            assert_eq!(woken, TASKS * WAKES, "{name}");
        }
    });
}

#[test]
fn join_handles_awaited_across_cores_both_ways() {
    on_each_builder(LIMIT, "cross-core join", |name| async move {
        let pingers: Vec<_> = (0..20u64)
            .map(|p| {
                uringo::spawn(async move {
                    for i in 0..50u64 {
                        let v = uringo::spawn_on(1, move || async move {
                            assert_eq!(uringo::core_id(), 1);
                            let back = uringo::spawn_on(0, move || async move {
                                assert_eq!(uringo::core_id(), 0);
                                p * 1000 + i
                            });
                            back.await * 2
                        })
                        .await;
                        assert_eq!(v, (p * 1000 + i) * 2, "{name}");
                    }
                })
            })
            .collect();
        for p in pingers {
            p.await;
        }
    });
}

/// Whether thread `tid` of this process is blocked in io_uring_enter.
fn in_io_uring_enter(tid: i32) -> bool {
    let path = format!("/proc/self/task/{tid}/syscall");
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let parked_in = [libc::SYS_io_uring_enter, libc::SYS_epoll_pwait]
        .into_iter()
        .chain(epoll_wait_nr())
        .map(|nr| nr.to_string());
    let nr = text.split_whitespace().next().unwrap_or_default();
    parked_in.into_iter().any(|p| p == nr)
}

/// epoll_wait, where the architecture has it (aarch64 only has epoll_pwait).
fn epoll_wait_nr() -> Option<libc::c_long> {
    #[cfg(target_arch = "x86_64")]
    return Some(libc::SYS_epoll_wait);
    #[cfg(not(target_arch = "x86_64"))]
    return None;
}

/// Parks core 1 with a task waiting on a waker, then wakes it from core 0
/// or from a foreign thread and checks that it runs. Returns the SQEs core
/// 0 pushed for the wake itself.
async fn wake_parked_core(name: &str, foreign: bool) -> u64 {
    let waker_slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    let flag = Arc::new(AtomicBool::new(false));
    let tid = Arc::new(AtomicI32::new(0));
    let (slot, woke, core_tid) = (waker_slot.clone(), flag.clone(), tid.clone());
    let parked = uringo::spawn_on(1, move || async move {
        // SAFETY: gettid has no preconditions.
        core_tid.store(unsafe { libc::gettid() }, Ordering::SeqCst);
        poll_fn(|cx| {
            if woke.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            *slot.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        uringo::core_id()
    });
    // Twice in a row, one ring trip apart: core 1 sleeps in its ring.
    let mut seen = 0;
    tick_until(100_000, name, || {
        let parked =
            waker_slot.lock().unwrap().is_some() && in_io_uring_enter(tid.load(Ordering::SeqCst));
        seen = if parked { seen + 1 } else { 0 };
        seen >= 2
    })
    .await;
    let waker = waker_slot.lock().unwrap().take().unwrap();
    flag.store(true, Ordering::SeqCst);
    let sqes = uringo::stats().sqes;
    if foreign {
        std::thread::spawn(move || waker.wake()).join().unwrap();
    } else {
        waker.wake();
    }
    let sent = uringo::stats().sqes - sqes;
    let core = uringo::time::timeout(Duration::from_secs(5), parked).await;
    assert_eq!(
        core,
        Ok(1),
        "{name}: parked core 1 was never woken (lost wakeup)"
    );
    sent
}

#[test]
fn parked_core_is_woken_by_msg_ring_from_a_core_and_by_eventfd_otherwise() {
    within(LIMIT, "parked core", || {
        let configs = [
            (uringo::Backend::IoUring, true),
            (uringo::Backend::IoUring, false),
            (uringo::Backend::Epoll, false),
        ];
        for (backend, msg_ring) in configs {
            let rt = uringo::Builder::new()
                .cores(2)
                .pin(false)
                .backend(backend)
                .msg_ring(msg_ring)
                .build()
                .unwrap();
            rt.block_on(async {
                assert_eq!(uringo::features().backend, backend);
                let has_msg_ring = uringo::features().msg_ring;
                assert_eq!(
                    has_msg_ring, msg_ring,
                    "this kernel has MSG_RING (6.0+): the path must be tested"
                );
                for round in 0..20 {
                    let name = format!("{backend} msg_ring={msg_ring} round {round} from core 0");
                    let sent = wake_parked_core(&name, false).await;
                    assert_eq!(
                        sent,
                        u64::from(msg_ring),
                        "{name}: one MSG_RING SQE iff MSG_RING is on"
                    );
                    let name = format!(
                        "{backend} msg_ring={msg_ring} round {round} from a foreign thread"
                    );
                    let sent = wake_parked_core(&name, true).await;
                    assert_eq!(sent, 0, "{name}: a foreign thread writes the eventfd");
                }
            });
        }
    });
}

#[test]
fn waking_block_on_from_its_own_core_does_not_signal_the_ring() {
    on_each_builder(LIMIT, "self wake", |name| async move {
        let before = uringo::stats();
        for _ in 0..100 {
            uringo::op::nop().await.unwrap();
        }
        let after = uringo::stats();
        // One SQE and at most one io_uring_enter per NOP, nothing more.
        assert_eq!(
            after.sqes - before.sqes,
            100,
            "{name}: extra SQEs (a MSG_RING to itself?)"
        );
        assert!(
            after.enters - before.enters <= 100,
            "{name}: extra io_uring_enter calls"
        );
    });
}

/// Invariant 5: wherever a wake comes from (its core, another core, a
/// foreign thread), a task is only ever polled on the core it was spawned on.
#[test]
fn tasks_are_polled_only_on_their_own_core_whoever_wakes_them() {
    on_each_builder(LIMIT, "no migration", |name| async move {
        let (to_wakers, wakers) = mpsc::channel::<(Waker, Arc<AtomicBool>)>();
        let foreign = std::thread::spawn(move || {
            for (waker, flag) in wakers {
                flag.store(true, Ordering::Release);
                waker.wake();
            }
        });
        let handles: Vec<_> = (0..40)
            .map(|i| {
                let to_wakers = to_wakers.clone();
                let make = move || async move {
                    let home = uringo::core_id();
                    let mut polls = 0;
                    for round in 0..30 {
                        let flag = Arc::new(AtomicBool::new(false));
                        let mut sent = false;
                        poll_fn(|cx| {
                            polls += 1;
                            assert_eq!(uringo::core_id(), home, "task polled off its core");
                            if flag.load(Ordering::Acquire) {
                                return Poll::Ready(());
                            }
                            if !sent {
                                sent = true;
                                let (waker, flag) = (cx.waker().clone(), flag.clone());
                                match round % 3 {
                                    0 => to_wakers.send((waker, flag)).unwrap(),
                                    // From the other core.
                                    1 => drop(uringo::spawn_on(1 - home, move || async move {
                                        flag.store(true, Ordering::Release);
                                        waker.wake();
                                    })),
                                    _ => {
                                        flag.store(true, Ordering::Release);
                                        waker.wake();
                                    }
                                }
                            }
                            Poll::Pending
                        })
                        .await;
                    }
                    (home, polls)
                };
                if i % 2 == 0 {
                    uringo::spawn_on(1, make)
                } else {
                    uringo::spawn(make())
                }
            })
            .collect();
        drop(to_wakers);
        for (i, h) in handles.into_iter().enumerate() {
            let (home, polls) = h.await;
            assert_eq!(
                home,
                if i % 2 == 0 { 1 } else { 0 },
                "{name}: spawn_on builds the future on its target"
            );
            assert!(polls >= 60, "{name}");
        }
        foreign.join().unwrap();
    });
}
