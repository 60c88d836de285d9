//! `sleep` and `interval`: never early, in deadline order, cancelled by
//! drop, ticks on a fixed grid that skips missed ticks.

mod support;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use support::{poll_once, within, Rng};
use uringo::time::{interval, sleep, sleep_until};

const LIMIT: Duration = Duration::from_secs(30);

fn runtime() -> uringo::Runtime {
    uringo::Builder::new().cores(1).pin(false).build().unwrap()
}

#[test]
fn sleeps_never_end_early_and_end_in_deadline_order() {
    within(LIMIT, "sleep order", || {
        runtime().block_on(async {
            // (deadline, woke at, registered before its deadline)
            let woke: Rc<RefCell<Vec<(Instant, Instant, bool)>>> = Rc::default();
            let mut rng = Rng::new(3);
            let start = Instant::now() + Duration::from_millis(10);
            let handles: Vec<_> = (0..200)
                .map(|_| {
                    let deadline = start + Duration::from_micros(rng.below(60_000));
                    let woke = woke.clone();
                    uringo::spawn(async move {
                        // On a loaded machine a task may first run after its
                        // deadline; its sleep is then ready at once, out of order.
                        let in_time = Instant::now() < deadline;
                        sleep_until(deadline).await;
                        woke.borrow_mut().push((deadline, Instant::now(), in_time));
                    })
                })
                .collect();
            for h in handles {
                h.await;
            }
            let woke = woke.borrow();
            assert!(
                woke.iter().filter(|w| w.2).count() > 100,
                "too few sleeps registered in time to judge"
            );
            for (i, &(deadline, at, in_time)) in woke.iter().enumerate() {
                assert!(at >= deadline, "woke {:?} early", deadline - at);
                if !in_time {
                    continue;
                }
                // Later wakes never belong to deadlines more than a tick (1 ms) earlier.
                for &(later, _, _) in woke[i + 1..].iter().filter(|w| w.2) {
                    assert!(
                        later + Duration::from_millis(1) >= deadline,
                        "woke out of deadline order"
                    );
                }
            }
            // Generous bound: a sleep is not wildly late.
            let last = woke.iter().map(|&(d, at, _)| at - d).max().unwrap();
            assert!(
                last < Duration::from_secs(2),
                "a sleep overslept by {last:?}"
            );
        });
    });
}

#[test]
fn a_sleep_whose_deadline_has_passed_is_ready_on_first_poll() {
    within(LIMIT, "zero sleep", || {
        runtime().block_on(async {
            let mut zero = Box::pin(sleep(Duration::ZERO));
            assert_eq!(
                poll_once(&mut zero).await,
                Poll::Ready(()),
                "sleep(0) must not wait for a timer tick"
            );
            let mut past = Box::pin(sleep_until(Instant::now() - Duration::from_millis(5)));
            assert_eq!(poll_once(&mut past).await, Poll::Ready(()));
            let mut future = Box::pin(sleep(Duration::from_millis(50)));
            assert_eq!(poll_once(&mut future).await, Poll::Pending);
        });
    });
}

#[test]
fn a_dropped_sleep_never_wakes_its_task() {
    within(LIMIT, "dropped sleep", || {
        runtime().block_on(async {
            let (waker, flag) = support::flag_waker();
            let mut short = Box::pin(sleep(Duration::from_millis(2)));
            assert!(short
                .as_mut()
                .poll(&mut std::task::Context::from_waker(&waker))
                .is_pending());
            drop(short);
            sleep(Duration::from_millis(10)).await;
            assert!(!flag.woken(), "a dropped sleep's timer fired");
        });
    });
}

#[test]
fn reset_moves_the_deadline() {
    within(LIMIT, "reset", || {
        runtime().block_on(async {
            let start = Instant::now();
            let mut s = Box::pin(sleep(Duration::from_secs(3600)));
            assert!(poll_once(&mut s).await.is_pending());
            s.as_mut().reset(start + Duration::from_millis(5));
            s.as_mut().await;
            assert!(start.elapsed() >= Duration::from_millis(5));
            assert!(start.elapsed() < Duration::from_secs(60));
        });
    });
}

#[test]
fn interval_ticks_on_its_grid_and_skips_missed_ticks() {
    within(LIMIT, "interval", || {
        runtime().block_on(async {
            let period = Duration::from_millis(5);
            let mut ticks = interval(period);
            let first = ticks.tick().await;
            assert!(
                first.elapsed() < Duration::from_secs(1),
                "the first tick is immediate"
            );
            let on_grid = |t: Instant| (t - first).as_nanos() % period.as_nanos() == 0;
            let grid_after = |t: Instant| {
                first + period * (((t - first).as_nanos() / period.as_nanos()) as u32 + 1)
            };
            let (mut prev, mut prev_seen) = (first, Instant::now());
            for k in 1..=6 {
                let tick = ticks.tick().await;
                let seen = Instant::now();
                assert!(on_grid(tick) && tick > prev, "tick {k} off the grid");
                assert!(seen >= tick, "tick {k} early");
                // A tick is skipped only if it was missed: the previous one
                // was handed out a period or more late (a loaded machine).
                assert!(
                    tick == prev + period || prev_seen >= prev + period,
                    "tick {k}: skipped a tick in time"
                );
                (prev, prev_seen) = (tick, seen);
            }
            // Miss three and a half periods: the tick that was due fires at
            // once, then the grid resumes at its next point in the future,
            // without a burst of the missed ticks.
            std::thread::sleep(period * 7 / 2);
            let before = Instant::now();
            let late = ticks.tick().await;
            let after = Instant::now();
            assert!(
                on_grid(late) && late > prev && late < before,
                "the overdue tick fires at once"
            );
            assert!(
                late == prev + period || prev_seen >= prev + period,
                "the overdue tick"
            );
            let next = ticks.tick().await;
            assert!(on_grid(next), "off the grid after missed ticks");
            assert!(
                next >= grid_after(before) && next <= grid_after(after),
                "missed ticks are skipped"
            );
            assert!(Instant::now() >= next);
            assert_eq!(ticks.period(), period);
        });
    });
}

#[test]
#[should_panic(expected = "non-zero")]
fn interval_of_zero_is_refused() {
    let _ = interval(Duration::ZERO);
}
