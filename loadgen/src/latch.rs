//! A single-core one-way latch: tasks wait on it, one trigger releases them all. Used for "the
//! sender is done" within a connection and "everyone is registered, start" within a core.

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
    waiters: RefCell<Vec<Waker>>,
}

impl Latch {
    pub fn trigger(&self) {
        if !self.0.fired.replace(true) {
            for w in self.0.waiters.take() {
                w.wake();
            }
        }
    }

    pub fn is_triggered(&self) -> bool {
        self.0.fired.get()
    }

    fn register(&self, w: &Waker) {
        let mut v = self.0.waiters.borrow_mut();
        if !v.iter().any(|x| x.will_wake(w)) {
            v.push(w.clone());
        }
    }

    pub async fn triggered(&self) {
        poll_fn(|cx| {
            if self.is_triggered() {
                Poll::Ready(())
            } else {
                self.register(cx.waker());
                Poll::Pending
            }
        })
        .await
    }

    /// Runs `fut` unless the latch fires first (then `fut` is dropped and `None` returned).
    /// `fut` is polled first, so a result already available is never discarded.
    pub async fn unless_triggered<F: Future>(&self, fut: F) -> Option<F::Output> {
        let mut fut = pin!(fut);
        poll_fn(|cx| {
            if let Poll::Ready(v) = fut.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            if self.is_triggered() {
                return Poll::Ready(None);
            }
            self.register(cx.waker());
            Poll::Pending
        })
        .await
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
}
