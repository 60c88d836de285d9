//! `JoinHandle`: output, panics resumed in the awaiter, `abort()` drops
//! the future on its own core, dropping the handle detaches.

mod support;

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use support::{tick_until, within};

const LIMIT: Duration = Duration::from_secs(30);

fn runtime() -> uringo::Runtime {
    uringo::Builder::new().cores(2).pin(false).build().unwrap()
}

/// Awaits a future, turning a panic inside its poll into an `Err`.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

fn message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Counts its drops and records the core it was dropped on.
struct DropGuard {
    drops: Arc<AtomicUsize>,
    core: Arc<AtomicUsize>,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        // The core first: a test that sees the drop count reads it next.
        self.core.store(uringo::core_id(), Ordering::SeqCst);
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn guard() -> (DropGuard, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let drops = Arc::new(AtomicUsize::new(0));
    let core = Arc::new(AtomicUsize::new(usize::MAX));
    (
        DropGuard {
            drops: drops.clone(),
            core: core.clone(),
        },
        drops,
        core,
    )
}

#[test]
fn join_handle_yields_the_output_from_this_core_and_from_another() {
    within(LIMIT, "output", || {
        runtime().block_on(async {
            let local = uringo::spawn(async { vec![1, 2, 3] });
            let remote =
                uringo::spawn_on(1, || async { (uringo::core_id(), String::from("remote")) });
            let ready_first = uringo::spawn(async { 7 });
            tick_until(10, "finish", || ready_first.is_finished()).await;
            assert_eq!(local.await, vec![1, 2, 3]);
            assert_eq!(remote.await, (1, String::from("remote")));
            assert_eq!(ready_first.await, 7);
        });
    });
}

#[test]
fn a_panic_in_a_task_resumes_in_its_awaiter() {
    within(LIMIT, "panic", || {
        runtime().block_on(async {
            let local = uringo::spawn(async { panic!("local boom") });
            let err = CatchUnwind(Box::pin(local)).await.unwrap_err();
            assert_eq!(message(&*err), "local boom");

            let remote = uringo::spawn_on(1, || async {
                uringo::yield_now().await;
                panic!("remote boom {}", uringo::core_id())
            });
            let err = CatchUnwind(Box::pin(remote)).await.unwrap_err();
            assert_eq!(message(&*err), "remote boom 1");

            // The core survived both: tasks still run.
            assert_eq!(uringo::spawn(async { 5 }).await, 5);
        });
    });
}

#[test]
fn abort_drops_the_future_on_its_core_and_it_never_runs_again() {
    within(LIMIT, "abort", || {
        runtime().block_on(async {
            // A local task parked on a sleep that would never end.
            let (g, drops, core) = guard();
            let polls = Rc::new(Cell::new(0));
            let p = polls.clone();
            let task = uringo::spawn(async move {
                let _g = g;
                loop {
                    p.set(p.get() + 1);
                    uringo::time::sleep(Duration::from_secs(3600)).await;
                }
            });
            tick_until(10, "first poll", || polls.get() == 1).await;
            task.abort();
            tick_until(10, "abort", || drops.load(Ordering::SeqCst) == 1).await;
            assert_eq!(core.load(Ordering::SeqCst), 0);
            uringo::time::sleep(Duration::from_millis(2)).await;
            assert_eq!(polls.get(), 1, "an aborted task was polled again");
            assert_eq!(drops.load(Ordering::SeqCst), 1);

            // A task on core 1, aborted from core 0, is dropped on core 1.
            let (g, drops, core) = guard();
            let started = Arc::new(AtomicUsize::new(0));
            let s = started.clone();
            let task = uringo::spawn_on(1, move || async move {
                let _g = g;
                s.store(1, Ordering::SeqCst);
                std::future::pending::<()>().await
            });
            tick_until(100_000, "remote start", || {
                started.load(Ordering::SeqCst) == 1
            })
            .await;
            task.abort();
            tick_until(100_000, "remote abort", || {
                drops.load(Ordering::SeqCst) == 1
            })
            .await;
            assert_eq!(core.load(Ordering::SeqCst), 1, "dropped off its core");

            // Aborting a task that was never polled drops it unpolled.
            let (g, drops, _) = guard();
            let ran = Rc::new(Cell::new(false));
            let r = ran.clone();
            let task = uringo::spawn(async move {
                let _g = g;
                r.set(true);
            });
            task.abort();
            tick_until(10, "abort before start", || {
                drops.load(Ordering::SeqCst) == 1
            })
            .await;
            assert!(!ran.get(), "an aborted task ran");
        });
    });
}

#[test]
fn a_dropped_handle_detaches_and_the_task_keeps_running() {
    within(LIMIT, "detach", || {
        runtime().block_on(async {
            let (g, drops, _) = guard();
            let steps = Rc::new(Cell::new(0));
            let s = steps.clone();
            let (done_tx, done_rx) = uringo::chan::<()>(1);
            let handle = uringo::spawn(async move {
                for _ in 0..3 {
                    uringo::time::sleep(Duration::from_millis(1)).await;
                    s.set(s.get() + 1);
                }
                done_tx.send(()).await.unwrap();
                g // the output: dropped by the runtime since nobody reads it
            });
            drop(handle);
            done_rx
                .recv()
                .await
                .expect("the detached task finished its steps");
            assert_eq!(steps.get(), 3);
            tick_until(10, "output dropped", || drops.load(Ordering::SeqCst) == 1).await;

            // Output produced before the handle is dropped is dropped with it.
            let (g, drops, _) = guard();
            let handle = uringo::spawn(async move { g });
            tick_until(10, "finished", || handle.is_finished()).await;
            assert_eq!(
                drops.load(Ordering::SeqCst),
                0,
                "the output waits for its handle"
            );
            drop(handle);
            assert_eq!(
                drops.load(Ordering::SeqCst),
                1,
                "an unread output is dropped with its handle"
            );
        });
    });
}

#[test]
fn is_finished_turns_true_only_when_the_task_ends() {
    within(LIMIT, "is_finished", || {
        runtime().block_on(async {
            let gate = Rc::new(Cell::new(false));
            let g = gate.clone();
            let handle = uringo::spawn(async move {
                while !g.get() {
                    uringo::yield_now().await;
                }
            });
            for _ in 0..10 {
                uringo::yield_now().await;
                assert!(!handle.is_finished());
            }
            gate.set(true);
            tick_until(10, "finish", || handle.is_finished()).await;
            handle.await;
        });
    });
}
