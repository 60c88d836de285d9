//! A single-core one-way latch: tasks wait on it, one trigger releases them all. Used for "the
//! sender is done" within a connection and "everyone is registered, start" within a core.

use slab::Slab;
use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

#[derive(Clone, Default)]
pub struct Latch(Rc<Inner>);

#[derive(Default)]
struct Inner {
    fired: Cell<bool>,
    /// One slot per waiting future, refreshed in place on re-poll and freed when the future
    /// ends: thousands of clients waiting on one latch cost no scan per poll.
    waiters: RefCell<Slab<Waker>>,
}

/// A waiting future's slot in the latch, freed on drop.
struct Slot<'a> {
    latch: &'a Latch,
    key: Option<usize>,
}

impl Slot<'_> {
    fn set(&mut self, w: &Waker) {
        let mut waiters = self.latch.0.waiters.borrow_mut();
        match self.key {
            Some(k) if waiters[k].will_wake(w) => {}
            Some(k) => waiters[k].clone_from(w),
            None => self.key = Some(waiters.insert(w.clone())),
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.key {
            self.latch.0.waiters.borrow_mut().remove(k);
        }
    }
}

impl Latch {
    pub fn trigger(&self) {
        if !self.0.fired.replace(true) {
            for (_, w) in self.0.waiters.borrow().iter() {
                w.wake_by_ref();
            }
        }
    }

    pub fn is_triggered(&self) -> bool {
        self.0.fired.get()
    }

    fn slot(&self) -> Slot<'_> {
        Slot {
            latch: self,
            key: None,
        }
    }

    pub async fn triggered(&self) {
        let mut slot = self.slot();
        poll_fn(|cx| {
            if self.is_triggered() {
                Poll::Ready(())
            } else {
                slot.set(cx.waker());
                Poll::Pending
            }
        })
        .await
    }

    /// Runs `fut` unless the latch fires first (then `fut` is dropped and `None` returned).
    /// `fut` is polled first, so a result already available is never discarded.
    pub async fn unless_triggered<F: Future>(&self, fut: F) -> Option<F::Output> {
        let mut fut = pin!(fut);
        let mut slot = self.slot();
        poll_fn(|cx| {
            if let Poll::Ready(v) = fut.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            if self.is_triggered() {
                return Poll::Ready(None);
            }
            slot.set(cx.waker());
            Poll::Pending
        })
        .await
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.0.waiters.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Context;

    #[test]
    fn waiters_release_on_trigger() {
        let l = Latch::default();
        let mut w = pin!(l.triggered());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(w.as_mut().poll(&mut cx).is_pending());
        l.trigger();
        assert!(w.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn unless_triggered_returns_ready_work_even_after_trigger() {
        let l = Latch::default();
        l.trigger();
        let mut f = pin!(l.unless_triggered(async { 3 }));
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(f.as_mut().poll(&mut cx), Poll::Ready(Some(3)));
        let mut g = pin!(l.unless_triggered(std::future::pending::<()>()));
        assert_eq!(g.as_mut().poll(&mut cx), Poll::Ready(None));
    }

    #[test]
    fn finished_waiters_leave_no_slot_behind() {
        let l = Latch::default();
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..100 {
            let mut f = Box::pin(l.unless_triggered(std::future::pending::<()>()));
            assert!(f.as_mut().poll(&mut cx).is_pending());
            assert!(f.as_mut().poll(&mut cx).is_pending());
            assert_eq!(l.waiting(), 1);
            drop(f);
        }
        assert_eq!(l.waiting(), 0);
    }
}
