//! Runtime-agnostic pieces of the micro benchmarks (`benches/runtime.rs`): the
//! same wake primitive and the same round structure are used on every runtime,
//! so that the only thing that differs between two rows is the runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::stats::median;

/// A one-slot "set and wake" flag: `notify` from any thread, `wait` from one task.
///
/// It is `Send` so tokio's plain `spawn` can run the tasks using it (tokio would
/// need a `LocalSet` for `!Send` tasks, which is a slower path than its default).
#[derive(Debug, Clone, Default)]
pub struct Signal(Arc<SignalInner>);

#[derive(Debug, Default)]
struct SignalInner {
    set: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Signal {
    pub fn new() -> Signal {
        Signal::default()
    }

    /// Sets the flag and wakes the waiting task, if any.
    pub fn notify(&self) {
        self.0.set.store(true, Ordering::Release);
        let waker = self
            .0
            .waker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Completes once the flag is set, and clears it.
    pub fn wait(&self) -> Wait<'_> {
        Wait(&self.0)
    }
}

/// Future returned by [`Signal::wait`].
#[derive(Debug)]
pub struct Wait<'a>(&'a SignalInner);

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.0;
        if inner.set.swap(false, Ordering::Acquire) {
            return Poll::Ready(());
        }
        *inner.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        // notify() may have set the flag after the first check but taken the (old) waker
        // before we stored ours: look again so that wakeup is not lost.
        if inner.set.swap(false, Ordering::Acquire) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// One row of a micro benchmark table: the same operation on each runtime.
pub struct Row<'a> {
    pub name: &'static str,
    /// Operations per measurement.
    pub ops: u64,
    /// One function per runtime (same order as the table's columns): runs `ops` operations
    /// and returns the time they took, setup excluded.
    pub runs: Vec<&'a dyn Fn(u64) -> Duration>,
}

/// Runs every row's functions `rounds` times, interleaved (round 1: row 1 on each runtime,
/// row 2 on each runtime, ...; round 2: ...), and returns the median nanoseconds per
/// operation of each row and runtime.
pub fn interleaved_medians(rows: &[Row<'_>], rounds: usize) -> Vec<Vec<f64>> {
    let mut samples: Vec<Vec<Vec<f64>>> = rows
        .iter()
        .map(|r| vec![Vec::new(); r.runs.len()])
        .collect();
    for _ in 0..rounds {
        for (row, per_rt) in rows.iter().zip(&mut samples) {
            for (run, out) in row.runs.iter().zip(per_rt.iter_mut()) {
                let elapsed = run(row.ops);
                out.push(elapsed.as_nanos() as f64 / row.ops as f64);
            }
        }
    }
    samples
        .iter()
        .map(|per_rt| {
            per_rt
                .iter()
                .map(|s| median(s).unwrap_or(f64::NAN))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll_once(fut: &mut Wait<'_>, waker: &Waker) -> Poll<()> {
        Pin::new(fut).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn wait_is_pending_until_notified_and_then_consumes_the_flag() {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let s = Signal::new();
        let mut w = s.wait();
        assert_eq!(poll_once(&mut w, &waker), Poll::Pending);
        s.notify();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll_once(&mut w, &waker), Poll::Ready(()));
        let mut again = s.wait();
        assert_eq!(
            poll_once(&mut again, &waker),
            Poll::Pending,
            "the flag was consumed"
        );
    }

    #[test]
    fn notify_before_wait_completes_at_once_without_waking() {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let s = Signal::new();
        s.notify();
        assert_eq!(poll_once(&mut s.wait(), &waker), Poll::Ready(()));
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn notify_from_another_thread_wakes_the_waiter() {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let s = Signal::new();
        let mut w = s.wait();
        assert_eq!(poll_once(&mut w, &waker), Poll::Pending);
        let s2 = s.clone();
        std::thread::spawn(move || s2.notify()).join().unwrap();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll_once(&mut w, &waker), Poll::Ready(()));
    }

    #[test]
    fn medians_are_per_row_and_runtime_in_ns_per_op() {
        let fast = |ops: u64| Duration::from_nanos(10 * ops);
        let slow = |ops: u64| Duration::from_nanos(30 * ops);
        let calls = AtomicUsize::new(0);
        let counted = |ops: u64| {
            calls.fetch_add(1, Ordering::SeqCst);
            Duration::from_nanos(ops)
        };
        let rows = [
            Row {
                name: "a",
                ops: 100,
                runs: vec![&fast, &slow],
            },
            Row {
                name: "b",
                ops: 7,
                runs: vec![&counted],
            },
        ];
        let m = interleaved_medians(&rows, 3);
        assert_eq!(m, vec![vec![10.0, 30.0], vec![1.0]]);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(rows[1].name, "b");
    }
}
