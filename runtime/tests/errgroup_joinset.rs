//! errgroup (Go) and JoinSet (tokio): first error returned and the group's
//! context cancelled so the others stop, across cores; JoinSet outputs in
//! completion order, abort_all, drop aborts.

use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod support;

use support::{runtime, within};
use uringo::context::{Context, Error};
use uringo::errgroup::Group;
use uringo::sync::Notify;
use uringo::task::JoinSet;

#[test]
fn errgroup_returns_the_first_error_and_cancels_the_others_across_cores() {
    within(Duration::from_secs(20), "errgroup", || {
        runtime(2).block_on(async {
            let mut group = Group::new();
            let stopped = Arc::new(AtomicUsize::new(0));
            for core in 0..2 {
                for _ in 0..3 {
                    let (ctx, stopped) = (group.context(), stopped.clone());
                    group.spawn_on(core, move || async move {
                        ctx.done().await; // would wait forever without the cancel
                        assert_eq!(ctx.err(), Some(Error::Canceled));
                        stopped.fetch_add(1, Ordering::SeqCst);
                        Err("cancelled")
                    });
                }
            }
            group.spawn(async { Err("first") });
            assert_eq!(group.wait().await, Err("first"));
            assert_eq!(stopped.load(Ordering::SeqCst), 6);
        })
    });
}

#[test]
fn errgroup_without_errors_is_ok_and_cancels_its_context_after_wait() {
    runtime(1).block_on(async {
        let mut group: Group<String> = Group::new();
        let ctx = group.context();
        let ran = Rc::new(AtomicUsize::new(0));
        for _ in 0..5 {
            let ran = ran.clone();
            group.spawn(async move {
                ran.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        assert_eq!(ctx.err(), None);
        assert_eq!(group.wait().await, Ok(()));
        assert_eq!(ran.load(Ordering::SeqCst), 5);
        assert_eq!(ctx.err(), Some(Error::Canceled), "as Go's Wait cancels");
    });
}

#[test]
fn errgroup_with_a_cancelled_parent_context_stops_its_tasks() {
    runtime(1).block_on(async {
        let (parent, cancel) = Context::background().with_cancel();
        let mut group: Group<()> = Group::with_context(&parent);
        let ctx = group.context();
        group.spawn(async move {
            ctx.done().await;
            Ok(())
        });
        cancel.cancel();
        assert_eq!(group.wait().await, Ok(()));
    });
}

#[test]
fn errgroup_limit_bounds_running_tasks() {
    runtime(1).block_on(async {
        let mut group: Group<()> = Group::new();
        group.set_limit(2);
        let inside = Rc::new(AtomicUsize::new(0));
        let peak = Rc::new(AtomicUsize::new(0));
        for _ in 0..8 {
            let (inside, peak) = (inside.clone(), peak.clone());
            group.spawn(async move {
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                uringo::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            });
        }
        group.wait().await.unwrap();
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn joinset_yields_outputs_in_completion_order() {
    runtime(1).block_on(async {
        let gate = Rc::new(Notify::new());
        let mut set = JoinSet::new();
        for i in 0..3u32 {
            let gate = gate.clone();
            set.spawn(async move {
                if i == 0 {
                    gate.notified().await; // finishes last
                }
                i
            });
        }
        assert_eq!(set.len(), 3);
        let mut got = vec![set.join_next().await.unwrap().unwrap()];
        got.push(set.join_next().await.unwrap().unwrap());
        gate.notify_one();
        got.push(set.join_next().await.unwrap().unwrap());
        assert_eq!(got[2], 0, "the gated task comes last");
        assert!(set.join_next().await.is_none());
        assert!(set.is_empty());
    });
}

#[test]
fn joinset_across_cores_reports_panics_and_aborts() {
    within(Duration::from_secs(20), "joinset", || {
        runtime(2).block_on(async {
            let mut set = JoinSet::new();
            for i in 0..10u32 {
                set.spawn_on((i % 2) as usize, move || async move { i });
            }
            set.spawn_on(1, || async { panic!("boom") });
            set.spawn(std::future::pending::<u32>());
            let (mut sum, mut panics) = (0, 0);
            for _ in 0..11 {
                match set.join_next().await.unwrap() {
                    Ok(v) => sum += v,
                    Err(e) => {
                        assert!(e.is_panic());
                        panics += 1;
                    }
                }
            }
            assert_eq!((sum, panics), (45, 1));
            set.abort_all();
            let last = set.join_next().await.unwrap();
            assert!(last.unwrap_err().is_cancelled());
            assert!(set.join_next().await.is_none());
        })
    });
}

#[test]
fn dropping_a_joinset_aborts_its_tasks() {
    runtime(1).block_on(async {
        struct Flag(Rc<AtomicUsize>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let dropped = Rc::new(AtomicUsize::new(0));
        let mut set = JoinSet::new();
        for _ in 0..3 {
            let flag = Flag(dropped.clone());
            set.spawn(async move {
                let _flag = flag;
                std::future::pending::<()>().await
            });
        }
        uringo::yield_now().await;
        drop(set);
        support::tick_until(100, "aborted tasks dropped", || {
            dropped.load(Ordering::SeqCst) == 3
        })
        .await;
    });
}

#[test]
fn a_joinset_reused_after_detach_all_ignores_the_detached_tasks() {
    runtime(1).block_on(async {
        let (old_gate, new_gate) = (Rc::new(Notify::new()), Rc::new(Notify::new()));
        let mut set = JoinSet::new();
        for _ in 0..3 {
            let gate = old_gate.clone();
            set.spawn(async move {
                gate.notified().await;
                99
            });
        }
        uringo::yield_now().await; // all three wait on the gate
        set.detach_all();
        assert!(set.is_empty());
        // A new task takes a detached one's slot; the detached ones finish
        // while it still runs, signalling slots the set no longer uses.
        let gate = new_gate.clone();
        set.spawn(async move {
            gate.notified().await;
            7
        });
        old_gate.notify_waiters();
        uringo::yield_now().await;
        let early = uringo::select! {
            biased;
            v = set.join_next() => Some(v),
            default => None,
        };
        assert!(early.is_none(), "the new task has not finished");
        new_gate.notify_one();
        assert_eq!(set.join_next().await.unwrap().unwrap(), 7);
        assert!(set.join_next().await.is_none());
    });
}
