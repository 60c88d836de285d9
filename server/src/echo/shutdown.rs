//! Core-local graceful shutdown: a latch that stops the accept loop and idle connections, and a
//! gate that counts live connections so a core can wait for its in-flight echoes to finish.
//!
//! Both are single-core (`Rc`, `Cell`): one core receives SIGINT/SIGTERM and tells the others
//! with `spawn_on`, so no state is shared between threads. The latch is the runtime's
//! [`uringo::sync::Latch`]; a connection keeps a [`Watch`] on it, one waker slot for its life.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use uringo::sync::Latch;
pub use uringo::sync::{Latch as Shutdown, Watch};

/// Counts live connections; [`idle`](Gate::idle) completes when there are none.
#[derive(Clone, Default)]
pub struct Gate(Rc<GateInner>);

#[derive(Default)]
struct GateInner {
    live: Cell<usize>,
    /// Triggered when `live` next drops to zero; made by the first `idle` that waits.
    empty: RefCell<Option<Latch>>,
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
        while self.0.live.get() > 0 {
            let empty = self
                .0
                .empty
                .borrow_mut()
                .get_or_insert_with(Latch::new)
                .clone();
            empty.triggered().await;
        }
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let left = self.0.live.get() - 1;
        self.0.live.set(left);
        if left == 0 {
            let empty = self.0.empty.borrow_mut().take();
            if let Some(empty) = empty {
                empty.trigger();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::{pin, Pin};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll_once<F: Future>(f: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(waker))
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

    /// Connections that come and go before shutdown leave the gate as they found it: a later
    /// `idle` waits for the ones live then, and is woken when the last of them ends.
    #[test]
    fn gate_waits_again_after_it_was_idle() {
        let gate = Gate::default();
        drop(gate.enter());
        assert!(poll_once(pin!(gate.idle()), Waker::noop()).is_ready());
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let pass = gate.enter();
        let mut idle = pin!(gate.idle());
        assert!(poll_once(idle.as_mut(), &waker).is_pending());
        drop(pass);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(poll_once(idle.as_mut(), &waker).is_ready());
    }
}
