//! Go's context semantics: cancel propagation to children (across cores),
//! deadline errors, inherited deadlines, first cause wins.

use std::time::{Duration, Instant};

mod support;

use support::{runtime, within};
use uringo::context::{Context, Error};
use uringo::{select, spawn_on, time};

fn assert_send_sync_clone<T: Send + Sync + Clone>() {}

#[test]
fn context_and_cancel_func_are_send_sync_clone() {
    assert_send_sync_clone::<Context>();
    assert_send_sync_clone::<uringo::context::CancelFunc>();
}

#[test]
fn cancelling_a_parent_cancels_children_waiting_on_other_cores() {
    within(Duration::from_secs(20), "cancel propagation", || {
        runtime(2).block_on(async {
            let (root, cancel) = Context::background().with_cancel();
            let (mid, _mid_cancel) = root.with_cancel();
            let waiters: Vec<_> = (0..4)
                .map(|i| {
                    let (leaf, _c) = mid.with_timeout(Duration::from_secs(3600));
                    spawn_on(i % 2, move || async move {
                        leaf.done().await;
                        leaf.err()
                    })
                })
                .collect();
            assert_eq!(mid.err(), None);
            cancel.cancel();
            for w in waiters {
                assert_eq!(w.await, Some(Error::Canceled));
            }
            assert_eq!(mid.err(), Some(Error::Canceled));
        })
    });
}

#[test]
fn cancelling_a_child_leaves_the_parent_running() {
    let (parent, _p) = Context::background().with_cancel();
    let (child, cancel_child) = parent.with_cancel();
    cancel_child.cancel();
    assert_eq!(child.err(), Some(Error::Canceled));
    assert_eq!(parent.err(), None);
}

#[test]
fn a_child_of_a_cancelled_parent_starts_cancelled() {
    let (parent, cancel) = Context::background().with_cancel();
    cancel.cancel();
    let (child, _c) = parent.with_timeout(Duration::from_secs(60));
    assert_eq!(child.err(), Some(Error::Canceled));
}

#[test]
fn deadline_passes_as_deadline_exceeded_and_wakes_done_on_another_core() {
    within(Duration::from_secs(20), "deadline", || {
        runtime(2).block_on(async {
            let start = Instant::now();
            let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(30));
            let waiter = {
                let ctx = ctx.clone();
                spawn_on(1, move || async move {
                    ctx.done().await;
                    ctx.err()
                })
            };
            assert_eq!(waiter.await, Some(Error::DeadlineExceeded));
            assert!(start.elapsed() >= Duration::from_millis(30));
            assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
        })
    });
}

#[test]
fn a_child_keeps_the_earlier_of_its_and_its_parents_deadline() {
    let now = Instant::now();
    let (parent, _p) = Context::background().with_deadline(now + Duration::from_secs(10));
    let (later, _l) = parent.with_deadline(now + Duration::from_secs(60));
    let (earlier, _e) = parent.with_deadline(now + Duration::from_secs(1));
    assert_eq!(later.deadline(), parent.deadline());
    assert_eq!(earlier.deadline(), Some(now + Duration::from_secs(1)));
    assert_eq!(Context::background().deadline(), None);
}

#[test]
fn an_expired_parent_deadline_reaches_the_child_as_deadline_exceeded() {
    runtime(1).block_on(async {
        let (parent, _p) = Context::background().with_timeout(Duration::from_millis(10));
        let (child, _c) = parent.with_cancel();
        child.done().await;
        assert_eq!(child.err(), Some(Error::DeadlineExceeded));
        assert_eq!(parent.err(), Some(Error::DeadlineExceeded));
    });
}

#[test]
fn the_first_cause_wins() {
    runtime(1).block_on(async {
        let (ctx, cancel) = Context::background().with_timeout(Duration::from_millis(5));
        ctx.done().await;
        cancel.cancel();
        assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));

        let (ctx, cancel) = Context::background().with_timeout(Duration::from_millis(5));
        cancel.cancel();
        time::sleep(Duration::from_millis(10)).await;
        assert_eq!(ctx.err(), Some(Error::Canceled));
    });
}

#[test]
fn background_is_never_done_and_done_works_as_a_select_branch() {
    runtime(1).block_on(async {
        let bg = Context::background();
        let which = select! {
            _ = bg.done() => "done",
            _ = after(Duration::from_millis(5)) => "timer",
        };
        assert_eq!(which, "timer");
        assert_eq!(bg.err(), None);

        let (ctx, cancel) = bg.with_cancel();
        cancel.cancel();
        let which = select! {
            _ = ctx.done() => "done",
            _ = after(Duration::from_secs(5)) => "timer",
        };
        assert_eq!(which, "done");
    });
}
