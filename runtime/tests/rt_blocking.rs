//! `spawn_blocking`: jobs run off the cores, their results and panics come
//! back through the handle, and a bounded pool still runs every job.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use support::within;

fn runtime(threads: usize) -> uringo::Runtime {
    uringo::Builder::new()
        .cores(1)
        .pin(false)
        .blocking_threads(threads)
        .build()
        .unwrap()
}

#[test]
fn a_blocking_job_runs_off_the_core_which_keeps_running_tasks() {
    within(Duration::from_secs(30), "blocking", || {
        runtime(4).block_on(async {
            let core_thread = std::thread::current().id();
            let (tx, rx) = mpsc::channel::<u32>();
            // The job blocks until a task on the core answers: if it ran on
            // the core, the core could never run that task.
            let job = uringo::spawn_blocking(move || {
                let name = std::thread::current().name().map(String::from);
                (rx.recv().unwrap() * 2, std::thread::current().id(), name)
            });
            uringo::spawn(async move {
                uringo::yield_now().await;
                tx.send(21).unwrap();
            });
            let (value, thread, name) = job.await;
            assert_eq!(value, 42);
            assert_ne!(thread, core_thread);
            assert_eq!(name.as_deref(), Some("uringo-blocking"));
        });
    });
}

#[test]
fn a_panicking_job_panics_its_awaiter_and_the_pool_survives() {
    within(Duration::from_secs(30), "blocking panic", || {
        runtime(1).block_on(async {
            let failed = uringo::spawn(async {
                uringo::spawn_blocking(|| -> u8 { panic!("job failed") }).await
            });
            // The task awaiting the job panics; awaiting that task panics here.
            let result = CatchPanic(Box::pin(failed)).await;
            assert!(result.is_err(), "a panicking job must panic its awaiter");
            assert_eq!(
                uringo::spawn_blocking(|| 7).await,
                7,
                "the single pool thread survived"
            );
        });
    });
}

#[test]
fn more_jobs_than_threads_all_complete() {
    within(Duration::from_secs(30), "blocking queue", || {
        runtime(2).block_on(async {
            let jobs: Vec<_> = (0..50u64)
                .map(|i| {
                    uringo::spawn_blocking(move || {
                        std::thread::sleep(Duration::from_micros(200));
                        i * i
                    })
                })
                .collect();
            let mut sum = 0;
            for j in jobs {
                sum += j.await;
            }
            assert_eq!(sum, (0..50u64).map(|i| i * i).sum::<u64>());
        });
    });
}

/// Awaits a future, turning a panic in its poll into an `Err`.
struct CatchPanic<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future> std::future::Future for CatchPanic<F> {
    type Output = Result<F::Output, ()>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Err(_) => std::task::Poll::Ready(Err(())),
        }
    }
}
