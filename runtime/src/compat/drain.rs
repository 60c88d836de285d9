//! A core's open connections, for graceful shutdown: `trigger` asks each
//! one to finish (its in-flight requests complete, then it closes), and
//! `idle` waits until the last has.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use slab::Slab;

/// Shared by a core's accept loop and its connection tasks.
#[derive(Default)]
pub(crate) struct Drain {
    triggered: Cell<bool>,
    /// Each open connection's latest waker, woken by `trigger`.
    conns: RefCell<Slab<Option<Waker>>>,
    idle_waiter: RefCell<Option<Waker>>,
}

impl Drain {
    /// Registers a connection; dropping the guard unregisters it.
    pub(crate) fn enter(self: &Rc<Self>) -> ConnGuard {
        let key = self.conns.borrow_mut().insert(None);
        ConnGuard {
            drain: self.clone(),
            key,
        }
    }

    /// Starts the drain and wakes every connection to see it.
    pub(crate) fn trigger(&self) {
        self.triggered.set(true);
        let wakers: Vec<Waker> = self
            .conns
            .borrow_mut()
            .iter_mut()
            .filter_map(|(_, w)| w.take())
            .collect();
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Completes once no connection is open.
    pub(crate) async fn idle(&self) {
        poll_fn(|cx| {
            if self.conns.borrow().is_empty() {
                return Poll::Ready(());
            }
            *self.idle_waiter.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

/// One connection's registration.
pub(crate) struct ConnGuard {
    drain: Rc<Drain>,
    key: usize,
}

impl ConnGuard {
    /// Whether the drain has started; if not, `waker` is woken when it does.
    pub(crate) fn draining(&self, waker: &Waker) -> bool {
        if self.drain.triggered.get() {
            return true;
        }
        let mut conns = self.drain.conns.borrow_mut();
        let slot = &mut conns[self.key];
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
        false
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut conns = self.drain.conns.borrow_mut();
        conns.remove(self.key);
        if conns.is_empty() {
            drop(conns);
            if let Some(waker) = self.drain.idle_waiter.borrow_mut().take() {
                waker.wake();
            }
        }
    }
}
