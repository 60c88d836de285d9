//! `Latch`: a one-way flag for the tasks of one core. Once triggered, every
//! waiter (present and future) proceeds; it never resets.
//!
//! Unlike the rest of this module it is single-core (`Rc`, `Cell`, no
//! lock): it is the "stop" flag of servers and load generators, which each
//! core keeps for itself and checks around every read of every connection.
//! A core triggers another core's latch by spawning a task there. Each
//! waiting future owns one slot in the latch's waker list, refreshed in
//! place when re-polled (no scan) and freed when the future finishes or is
//! dropped, so a connection that ends leaves nothing behind.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Poll, Waker};

use slab::Slab;

/// A one-way latch shared by the tasks of one core; clones share it.
///
/// ```
/// use uringo::sync::Latch;
///
/// uringo::start(async {
///     let stop = Latch::new();
///     let worker = uringo::spawn({
///         let stop = stop.clone();
///         async move { stop.unless_triggered(std::future::pending::<()>()).await }
///     });
///     stop.trigger();
///     assert_eq!(worker.await, None, "the pending work was dropped");
/// });
/// ```
#[derive(Clone, Default)]
pub struct Latch(Rc<Inner>);

#[derive(Default)]
struct Inner {
    fired: Cell<bool>,
    waiters: RefCell<Slab<Waker>>,
}

impl Latch {
    /// A latch not yet triggered.
    pub fn new() -> Latch {
        Latch::default()
    }

    /// Releases every waiter; later triggers do nothing.
    pub fn trigger(&self) {
        if !self.0.fired.replace(true) {
            // Woken by reference: each slot stays with its owner, who frees it.
            for (_, w) in self.0.waiters.borrow().iter() {
                w.wake_by_ref();
            }
        }
    }

    /// Whether [`trigger`](Self::trigger) has been called.
    pub fn is_triggered(&self) -> bool {
        self.0.fired.get()
    }

    /// Completes once the latch is triggered.
    pub async fn triggered(&self) {
        let mut slot = Registration::default();
        let clear = Clear(self, &mut slot);
        poll_fn(|cx| {
            if self.is_triggered() {
                return Poll::Ready(());
            }
            clear.1.set(self, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Runs `fut` to completion unless the latch is triggered first, in
    /// which case `fut` is dropped (cancelling its I/O) and `None` is
    /// returned. `fut` is polled first, so a result that is already there
    /// is never thrown away.
    pub async fn unless_triggered<F: Future>(&self, fut: F) -> Option<F::Output> {
        let mut fut = pin!(fut);
        let mut slot = Registration::default();
        let clear = Clear(self, &mut slot);
        poll_fn(|cx| {
            if let Poll::Ready(v) = fut.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            if self.is_triggered() {
                return Poll::Ready(None);
            }
            clear.1.set(self, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// A standing place on the latch for a task that waits on it over and
    /// over (a connection between its reads): one waker slot for its whole
    /// life instead of one per wait.
    pub fn into_watch(self) -> Watch {
        Watch {
            latch: self,
            slot: Registration::default(),
        }
    }

    /// Futures waiting on the latch right now.
    #[cfg(all(test, not(loom)))]
    fn waiting(&self) -> usize {
        self.0.waiters.borrow().len()
    }
}

impl fmt::Debug for Latch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latch")
            .field("triggered", &self.is_triggered())
            .finish()
    }
}

/// One task's slot on a [`Latch`], kept between waits and freed on drop.
/// It owns its latch, so a connection task holds one of these and no
/// `Latch` beside it.
pub struct Watch {
    latch: Latch,
    slot: Registration,
}

impl Watch {
    /// Whether the latch has been triggered.
    pub fn is_triggered(&self) -> bool {
        self.latch.is_triggered()
    }

    /// [`Latch::unless_triggered`] through this watch's slot, for a future
    /// that needs no pinning: it is polled where it is, not moved into a
    /// pinned place of its own, which keeps a task that waits here small.
    pub fn unless_triggered<'w, F: Future + Unpin + 'w>(
        &'w mut self,
        mut fut: F,
    ) -> impl Future<Output = Option<F::Output>> + 'w {
        poll_fn(move |cx| {
            if let Poll::Ready(v) = Pin::new(&mut fut).poll(cx) {
                return Poll::Ready(Some(v));
            }
            if self.latch.is_triggered() {
                return Poll::Ready(None);
            }
            self.slot.set(&self.latch, cx.waker());
            Poll::Pending
        })
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.slot.clear(&self.latch);
    }
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch").field("latch", &self.latch).finish()
    }
}

/// A waiting future's slot in the latch's list. It does not hold the latch
/// (a [`Watch`] keeps the latch beside it, a single wait borrows it), so
/// its owner frees it with [`clear`](Registration::clear).
#[derive(Default)]
struct Registration {
    key: Option<u32>,
    /// What the slot holds, kept here too: a re-poll with the same waker
    /// (the usual case, once per read of a connection) stays in the
    /// future's own memory and never touches the shared list.
    last: Option<Waker>,
}

impl Registration {
    /// Makes `w` the waker this future's slot in `latch` holds.
    #[inline]
    fn set(&mut self, latch: &Latch, w: &Waker) {
        if !self.last.as_ref().is_some_and(|last| last.will_wake(w)) {
            self.replace(latch, w);
        }
    }

    #[inline(never)]
    fn replace(&mut self, latch: &Latch, w: &Waker) {
        self.last = Some(w.clone());
        let mut slab = latch.0.waiters.borrow_mut();
        match self.key {
            Some(key) => slab[key as usize].clone_from(w),
            None => {
                let key = slab.insert(w.clone());
                self.key = Some(u32::try_from(key).expect("fewer than 2^32 waiters"));
            }
        }
    }

    fn clear(&mut self, latch: &Latch) {
        if let Some(key) = self.key.take() {
            latch.0.waiters.borrow_mut().remove(key as usize);
        }
        self.last = None;
    }
}

/// Frees a single wait's slot when the wait ends or is dropped.
struct Clear<'a>(&'a Latch, &'a mut Registration);

impl Drop for Clear<'_> {
    fn drop(&mut self) {
        self.1.clear(self.0);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Wake};

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    fn poll_once<F: Future>(f: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn trigger_wakes_a_waiter_once_and_completes_it() {
        let latch = Latch::new();
        let (counter, waker) = counting();
        let mut fut = pin!(latch.unless_triggered(std::future::pending::<()>()));
        assert!(poll_once(fut.as_mut(), &waker).is_pending());
        assert!(poll_once(fut.as_mut(), &waker).is_pending());
        latch.trigger();
        latch.trigger();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1, "one slot, one wake");
        assert_eq!(poll_once(fut.as_mut(), &waker), Poll::Ready(None));
        assert!(latch.is_triggered());
    }

    #[test]
    fn triggered_completes_only_after_trigger() {
        let latch = Latch::new();
        let (counter, waker) = counting();
        let mut fut = pin!(latch.triggered());
        assert!(poll_once(fut.as_mut(), &waker).is_pending());
        latch.clone().trigger();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(poll_once(fut.as_mut(), &waker).is_ready());
        assert!(poll_once(pin!(latch.triggered()), Waker::noop()).is_ready());
    }

    #[test]
    fn unless_triggered_prefers_a_ready_result() {
        let latch = Latch::new();
        latch.trigger();
        let fut = pin!(latch.unless_triggered(async { 7 }));
        assert_eq!(poll_once(fut, Waker::noop()), Poll::Ready(Some(7)));
        let mut watch = latch.clone().into_watch();
        let fut = pin!(watch.unless_triggered(std::future::ready(8)));
        assert_eq!(poll_once(fut, Waker::noop()), Poll::Ready(Some(8)));
    }

    #[test]
    fn unless_triggered_drops_pending_work_on_trigger() {
        struct Pending(Rc<Cell<bool>>);
        impl Future for Pending {
            type Output = ();
            fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
                Poll::Pending
            }
        }
        impl Drop for Pending {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let latch = Latch::new();
        let dropped = Rc::new(Cell::new(false));
        let mut fut = Box::pin(latch.unless_triggered(Pending(dropped.clone())));
        assert!(poll_once(fut.as_mut(), Waker::noop()).is_pending());
        latch.trigger();
        assert_eq!(poll_once(fut.as_mut(), Waker::noop()), Poll::Ready(None));
        drop(fut);
        assert!(dropped.get());
    }

    /// Each connection waits with its own waker; finished and dropped waits free their slot.
    #[test]
    fn finished_and_dropped_waiters_leave_no_slot() {
        let latch = Latch::new();
        for i in 0..1_000 {
            let (_, waker) = counting();
            let (done, finishes) = (Rc::new(Cell::new(false)), i % 2 == 0);
            let recv = {
                let done = done.clone();
                poll_fn(move |_| {
                    if done.get() {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                })
            };
            let mut fut = Box::pin(latch.unless_triggered(recv));
            assert!(poll_once(fut.as_mut(), &waker).is_pending());
            assert!(poll_once(fut.as_mut(), &waker).is_pending());
            assert_eq!(latch.waiting(), 1, "a re-poll reuses its slot");
            if finishes {
                done.set(true);
                assert_eq!(poll_once(fut.as_mut(), &waker), Poll::Ready(Some(())));
            }
            drop(fut);
            assert_eq!(latch.waiting(), 0, "wait {i} left its waker behind");
        }
        let mut fut = Box::pin(latch.triggered());
        assert!(poll_once(fut.as_mut(), Waker::noop()).is_pending());
        drop(fut);
        assert_eq!(latch.waiting(), 0);
    }

    #[test]
    fn a_watch_keeps_one_slot_across_waits_and_frees_it_on_drop() {
        let latch = Latch::new();
        let (counter, waker) = counting();
        let mut watch = latch.clone().into_watch();
        for _ in 0..3 {
            let mut fut = Box::pin(watch.unless_triggered(std::future::pending::<()>()));
            assert!(poll_once(fut.as_mut(), &waker).is_pending());
            drop(fut);
            assert_eq!(latch.waiting(), 1, "the slot outlives each wait");
        }
        let (_, other) = counting();
        let mut fut = Box::pin(watch.unless_triggered(std::future::pending::<()>()));
        assert!(poll_once(fut.as_mut(), &other).is_pending());
        drop(fut);
        assert_eq!(latch.waiting(), 1, "a new waker replaces the old in place");
        latch.trigger();
        assert_eq!(
            counter.0.load(Ordering::SeqCst),
            0,
            "the replaced waker is not woken"
        );
        assert!(watch.is_triggered());
        let mut fut = Box::pin(watch.unless_triggered(std::future::pending::<()>()));
        assert_eq!(poll_once(fut.as_mut(), &waker), Poll::Ready(None));
        drop(fut);
        drop(watch);
        assert_eq!(latch.waiting(), 0);
    }

    #[test]
    fn trigger_wakes_every_waiter_once() {
        let latch = Latch::new();
        let wakers: Vec<_> = (0..3).map(|_| counting()).collect();
        let mut futs: Vec<_> = wakers
            .iter()
            .map(|(_, w)| {
                let mut f = Box::pin(latch.unless_triggered(std::future::pending::<()>()));
                assert!(poll_once(f.as_mut(), w).is_pending());
                f
            })
            .collect();
        latch.trigger();
        for ((c, _), f) in wakers.iter().zip(&mut futs) {
            assert_eq!(c.0.load(Ordering::SeqCst), 1);
            assert_eq!(poll_once(f.as_mut(), Waker::noop()), Poll::Ready(None));
        }
        drop(futs);
        assert_eq!(latch.waiting(), 0);
    }
}
