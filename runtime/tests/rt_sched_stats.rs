//! The scheduler's counters in `uringo::stats()`: run-queue length, parks
//! and remote wakes each count what they say, on every backend.

mod support;

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Poll, Waker};
use std::time::Duration;

use support::{on_each_builder, runtime, within};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn run_queue_counts_tasks_spawned_but_not_yet_run() {
    on_each_builder(LIMIT, "run queue", |name| async move {
        let before = uringo::stats().run_queue;
        let tasks: Vec<_> = (0..5).map(|_| uringo::spawn(async {})).collect();
        let queued = uringo::stats().run_queue;
        assert_eq!(queued - before, 5, "{name}: five spawned tasks queued");
        for task in tasks {
            task.await;
        }
        assert!(
            uringo::stats().run_queue < queued,
            "{name}: the run queue drained"
        );
    });
}

#[test]
fn a_core_waiting_on_a_timer_parks() {
    on_each_builder(LIMIT, "parks", |name| async move {
        let before = uringo::stats().parks;
        for _ in 0..3 {
            uringo::time::sleep(Duration::from_millis(2)).await;
        }
        let parks = uringo::stats().parks - before;
        assert!(parks >= 3, "{name}: {parks} parks over three sleeps");
    });
}

#[test]
fn wakes_and_spawns_from_other_threads_count_as_remote_wakes() {
    within(LIMIT, "remote wakes", || {
        let rt = runtime(2);
        rt.block_on(async {
            let stats_of_1 = || uringo::spawn_on(1, || async { uringo::stats() });
            let before = stats_of_1().await;
            // Ten tasks spawned on core 1 from core 0, then the ask itself.
            let spawned: Vec<_> = (0..10).map(|_| uringo::spawn_on(1, || async {})).collect();
            for task in spawned {
                task.await;
            }
            let after = stats_of_1().await;
            let spawns = after.remote_wakes - before.remote_wakes;
            assert!(spawns >= 11, "{spawns} remote arrivals for 11 spawn_on");

            // A task on core 0 woken from a foreign thread once it waits.
            let local_before = uringo::stats().remote_wakes;
            let (to_waker, waker) = mpsc::channel::<Waker>();
            let flag = Arc::new(AtomicBool::new(false));
            let set = flag.clone();
            let waker_thread = std::thread::spawn(move || {
                let waker = waker.recv().unwrap();
                set.store(true, Ordering::Release);
                waker.wake();
            });
            uringo::spawn(poll_fn(move |cx| {
                if flag.load(Ordering::Acquire) {
                    return Poll::Ready(());
                }
                let _ = to_waker.send(cx.waker().clone());
                Poll::Pending
            }))
            .await;
            waker_thread.join().unwrap();
            let woken = uringo::stats().remote_wakes - local_before;
            assert!(woken >= 1, "the foreign wake came through the remote queue");
        });
    });
}
