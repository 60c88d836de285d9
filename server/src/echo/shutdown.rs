//! Core-local graceful shutdown: a latch that stops the accept loop and idle connections, and a
//! gate that counts live connections so a core can wait for its in-flight echoes to finish.
//!
//! Both are single-core (`Rc`, `Cell`): one core receives SIGINT/SIGTERM and tells the others
//! with `spawn_on`, so no state is shared between threads.

use slab::Slab;
use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Poll, Waker};

/// The wakers of the futures waiting right now. Each waiting future owns one slot (a
/// [`Registration`]) that it refreshes in place when re-polled and frees when it finishes or is
/// dropped, so a connection that ends leaves nothing behind and a re-poll costs no scan.
#[derive(Default)]
struct Waiters(RefCell<Slab<Waker>>);

impl Waiters {
    fn wake_all(&self) {
        // Woken by reference: each slot stays with its owner, who frees it.
        for (_, w) in self.0.borrow().iter() {
            w.wake_by_ref();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.borrow().len()
    }
}

/// One waiting future's slot in [`Waiters`]. It does not hold the `Waiters` (a connection's
/// [`Watch`] keeps the latch itself, a single wait borrows it through [`Waiting`]), so its
/// owner frees it with [`clear`](Registration::clear).
#[derive(Default)]
struct Registration {
    key: Option<u32>,
    /// What the slot holds, kept here too: a re-poll with the same waker (the usual case)
    /// stays in the future's own memory and never touches the shared slab.
    last: Option<Waker>,
}

impl Registration {
    /// Makes `w` the waker this future's slot in `waiters` holds.
    fn set(&mut self, waiters: &Waiters, w: &Waker) {
        if self.last.as_ref().is_some_and(|last| last.will_wake(w)) {
            return;
        }
        self.last = Some(w.clone());
        let mut slab = waiters.0.borrow_mut();
        match self.key {
            Some(key) => {
                let slot = &mut slab[key as usize];
                if !slot.will_wake(w) {
                    slot.clone_from(w);
                }
            }
            None => {
                let key = slab.insert(w.clone());
                self.key = Some(u32::try_from(key).expect("fewer than 2^32 waiters"));
            }
        }
    }

    fn clear(&mut self, waiters: &Waiters) {
        if let Some(key) = self.key.take() {
            waiters.0.borrow_mut().remove(key as usize);
        }
        self.last = None;
    }
}

/// A [`Registration`] for one wait, freed when the wait ends or is dropped.
struct Waiting<'a> {
    waiters: &'a Waiters,
    registration: Registration,
}

impl<'a> Waiting<'a> {
    fn new(waiters: &'a Waiters) -> Self {
        Waiting {
            waiters,
            registration: Registration::default(),
        }
    }

    fn set(&mut self, w: &Waker) {
        self.registration.set(self.waiters, w);
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.registration.clear(self.waiters);
    }
}

/// A one-way latch: once triggered, every waiter (present and future) proceeds.
#[derive(Clone, Default)]
pub struct Shutdown(Rc<ShutdownInner>);

#[derive(Default)]
struct ShutdownInner {
    fired: Cell<bool>,
    waiters: Waiters,
}

impl Shutdown {
    pub fn trigger(&self) {
        if !self.0.fired.replace(true) {
            self.0.waiters.wake_all();
        }
    }

    pub fn is_triggered(&self) -> bool {
        self.0.fired.get()
    }

    /// Runs `fut` to completion unless shutdown comes first, in which case `fut` is dropped
    /// (cancelling its I/O) and `None` is returned. `fut` is polled first, so a result that is
    /// already there is never thrown away.
    pub async fn unless_triggered<F: Future>(&self, fut: F) -> Option<F::Output> {
        let mut fut = pin!(fut);
        let mut waiting = Waiting::new(&self.0.waiters);
        poll_fn(|cx| {
            if let Poll::Ready(v) = fut.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            if self.is_triggered() {
                return Poll::Ready(None);
            }
            waiting.set(cx.waker());
            Poll::Pending
        })
        .await
    }

    /// A standing place on the latch for a task that waits on it over and over (a connection
    /// between its reads): one waiter slot for its whole life instead of one per wait.
    pub fn into_watch(self) -> Watch {
        Watch {
            latch: self,
            registration: Registration::default(),
        }
    }

    /// Futures waiting on the latch right now.
    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        self.0.waiters.len()
    }
}

/// One task's slot on a [`Shutdown`] latch, kept between waits and freed on drop. It owns its
/// latch, so a connection task holds one of these and no `Shutdown` beside it.
pub struct Watch {
    latch: Shutdown,
    registration: Registration,
}

impl Watch {
    pub fn is_triggered(&self) -> bool {
        self.latch.is_triggered()
    }

    /// [`Shutdown::unless_triggered`] through this watch's slot, for a future that needs no
    /// pinning: it is polled where it is, not moved into a pinned place of its own, which keeps
    /// a connection task that waits here small.
    pub fn unless_triggered<'w, F: Future + Unpin + 'w>(
        &'w mut self,
        mut fut: F,
    ) -> impl Future<Output = Option<F::Output>> + 'w {
        poll_fn(move |cx| {
            if let Poll::Ready(v) = Pin::new(&mut fut).poll(cx) {
                return Poll::Ready(Some(v));
            }
            if self.is_triggered() {
                return Poll::Ready(None);
            }
            self.registration.set(&self.latch.0.waiters, cx.waker());
            Poll::Pending
        })
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.registration.clear(&self.latch.0.waiters);
    }
}

/// Counts live connections; [`idle`](Gate::idle) completes when there are none.
#[derive(Clone, Default)]
pub struct Gate(Rc<GateInner>);

#[derive(Default)]
struct GateInner {
    live: Cell<usize>,
    waiters: Waiters,
}

/// Held by a connection task for its lifetime.
pub struct Pass(Rc<GateInner>);

impl Gate {
    pub fn enter(&self) -> Pass {
        self.0.live.set(self.0.live.get() + 1);
        Pass(self.0.clone())
    }

    pub fn live(&self) -> usize {
        self.0.live.get()
    }

    pub async fn idle(&self) {
        let mut waiting = Waiting::new(&self.0.waiters);
        poll_fn(|cx| {
            if self.0.live.get() == 0 {
                Poll::Ready(())
            } else {
                waiting.set(cx.waker());
                Poll::Pending
            }
        })
        .await
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let left = self.0.live.get() - 1;
        self.0.live.set(left);
        if left == 0 {
            self.0.waiters.wake_all();
        }
    }
}

#[cfg(test)]
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

    fn poll_once<F: Future>(f: std::pin::Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn trigger_wakes_waiter_and_completes_it() {
        let sd = Shutdown::default();
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut fut = pin!(sd.unless_triggered(std::future::pending::<()>()));
        assert!(poll_once(fut.as_mut(), &waker).is_pending());
        assert!(poll_once(fut.as_mut(), &waker).is_pending());
        sd.trigger();
        sd.trigger();
        assert_eq!(
            counter.0.load(Ordering::SeqCst),
            1,
            "one registration, one wake"
        );
        assert_eq!(poll_once(fut.as_mut(), &waker), Poll::Ready(None));
        assert!(sd.is_triggered());
    }

    #[test]
    fn unless_triggered_prefers_a_ready_result() {
        let sd = Shutdown::default();
        sd.trigger();
        let mut fut = pin!(sd.unless_triggered(async { 7 }));
        assert_eq!(poll_once(fut.as_mut(), Waker::noop()), Poll::Ready(Some(7)));
    }

    #[test]
    fn unless_triggered_drops_pending_work_on_shutdown() {
        let sd = Shutdown::default();
        let dropped = Rc::new(Cell::new(false));
        struct Pending(Rc<Cell<bool>>);
        impl Future for Pending {
            type Output = ();
            fn poll(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
                Poll::Pending
            }
        }
        impl Drop for Pending {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let mut fut = Box::pin(sd.unless_triggered(Pending(dropped.clone())));
        assert!(poll_once(fut.as_mut(), Waker::noop()).is_pending());
        sd.trigger();
        assert_eq!(poll_once(fut.as_mut(), Waker::noop()), Poll::Ready(None));
        drop(fut);
        assert!(dropped.get());
    }

    #[test]
    fn finished_and_dropped_waiters_leave_no_registration() {
        let sd = Shutdown::default();
        for i in 0..1_000 {
            // A distinct waker each time, as each connection task has its own.
            let waker = Waker::from(Arc::new(CountingWaker(AtomicUsize::new(0))));
            let (done, finishes) = (Rc::new(Cell::new(false)), i % 2 == 0);
            let recv = {
                let done = done.clone();
                std::future::poll_fn(move |_| {
                    if done.get() {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                })
            };
            let mut fut = Box::pin(sd.unless_triggered(recv));
            assert!(poll_once(fut.as_mut(), &waker).is_pending());
            assert!(poll_once(fut.as_mut(), &waker).is_pending());
            assert_eq!(sd.waiting(), 1, "a re-poll reuses its slot");
            if finishes {
                done.set(true); // the connection finished its recv
                assert_eq!(poll_once(fut.as_mut(), &waker), Poll::Ready(Some(())));
            }
            drop(fut); // or the connection task went away mid-recv
            assert_eq!(sd.waiting(), 0, "connection {i} left its waker behind");
        }
    }

    #[test]
    fn a_watch_keeps_one_slot_across_waits_and_frees_it_on_drop() {
        let sd = Shutdown::default();
        let waker = Waker::from(Arc::new(CountingWaker(AtomicUsize::new(0))));
        let mut watch = sd.clone().into_watch();
        for _ in 0..3 {
            let mut fut = Box::pin(watch.unless_triggered(std::future::pending::<()>()));
            assert!(poll_once(fut.as_mut(), &waker).is_pending());
            drop(fut);
            assert_eq!(sd.waiting(), 1, "the slot outlives each wait");
        }
        let mut ready = Box::pin(watch.unless_triggered(std::future::ready(1)));
        assert_eq!(poll_once(ready.as_mut(), &waker), Poll::Ready(Some(1)));
        drop(ready);
        sd.trigger();
        let mut fut = Box::pin(watch.unless_triggered(std::future::pending::<()>()));
        assert_eq!(poll_once(fut.as_mut(), &waker), Poll::Ready(None));
        drop(fut);
        drop(watch);
        assert_eq!(sd.waiting(), 0);
    }

    #[test]
    fn trigger_wakes_every_waiter_once() {
        let sd = Shutdown::default();
        let counters: Vec<_> = (0..3)
            .map(|_| Arc::new(CountingWaker(AtomicUsize::new(0))))
            .collect();
        let mut futs: Vec<_> = counters
            .iter()
            .map(|c| {
                let mut f = Box::pin(sd.unless_triggered(std::future::pending::<()>()));
                assert!(poll_once(f.as_mut(), &Waker::from(c.clone())).is_pending());
                f
            })
            .collect();
        sd.trigger();
        for (c, f) in counters.iter().zip(&mut futs) {
            assert_eq!(c.0.load(Ordering::SeqCst), 1);
            assert_eq!(poll_once(f.as_mut(), Waker::noop()), Poll::Ready(None));
        }
        drop(futs);
        assert_eq!(sd.waiting(), 0);
    }

    #[test]
    fn gate_is_idle_when_last_pass_drops() {
        let gate = Gate::default();
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let (a, b) = (gate.enter(), gate.enter());
        assert_eq!(gate.live(), 2);
        let mut idle = pin!(gate.idle());
        assert!(poll_once(idle.as_mut(), &waker).is_pending());
        drop(a);
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        drop(b);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(poll_once(idle.as_mut(), &waker).is_ready());
    }
}
