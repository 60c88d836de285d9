//! The part of a core other threads may touch: its remote queue and its
//! park state.
//!
//! Park protocol (no lost wakeup, checked by the loom test in
//! `tests/loom_park.rs` through [`Parker`]): the core stores PARKED, then
//! re-checks its remote queue and wake flag before blocking; a waker pushes
//! first, then swaps PARKED for NOTIFIED and only the winner of that swap
//! signals the ring. Both sides use SeqCst, so at least one of them sees the
//! other's write: either the core sees the work, or the waker sees PARKED.

use std::mem;

use crate::sync::{lock, AtomicBool, AtomicU32, Mutex, Ordering};
use crate::task::TaskRef;

const RUNNING: u32 = 0;
const PARKED: u32 = 1;
const NOTIFIED: u32 = 2;

/// A unit of work sent to a core from another thread.
pub(crate) enum Remote {
    /// A task to poll (a wake from another thread, or a task spawned there).
    Task(TaskRef),
}

/// How a parked core is woken: implemented by the ring (MSG_RING or an
/// eventfd) in production and by a loom-visible flag in tests.
pub(crate) trait Signal: Send + Sync {
    fn signal(&self);
}

/// Remote queue plus park state of one core.
pub(crate) struct Parker<S> {
    queue: Mutex<Vec<Remote>>,
    /// Set after each push; lets the core skip the lock when nothing came.
    pending: AtomicBool,
    /// Set by the block_on waker and shutdown requests.
    woken: AtomicBool,
    state: AtomicU32,
    closed: AtomicBool,
    signal: S,
}

impl<S: Signal> Parker<S> {
    pub(crate) fn new(signal: S) -> Self {
        Parker {
            queue: Mutex::new(Vec::new()),
            pending: AtomicBool::new(false),
            woken: AtomicBool::new(false),
            state: AtomicU32::new(RUNNING),
            closed: AtomicBool::new(false),
            signal,
        }
    }

    pub(crate) fn signal_impl(&self) -> &S {
        &self.signal
    }

    /// Queues work for the core and wakes it if parked. Never blocks for
    /// long (a short critical section) and never loses the item: once the
    /// core is closed, the item is dropped here instead.
    pub(crate) fn push(&self, item: Remote) {
        {
            let mut queue = lock(&self.queue);
            if self.closed.load(Ordering::Relaxed) {
                drop(queue);
                drop(item);
                return;
            }
            queue.push(item);
        }
        self.pending.store(true, Ordering::SeqCst);
        self.unpark();
    }

    /// Marks the core woken (block_on's future or a shutdown request).
    pub(crate) fn wake(&self) {
        self.woken.store(true, Ordering::SeqCst);
        self.unpark();
    }

    /// A cheap look at the wake flag (the park protocol re-checks it).
    pub(crate) fn is_woken(&self) -> bool {
        self.woken.load(Ordering::Relaxed)
    }

    pub(crate) fn take_woken(&self) -> bool {
        self.woken.load(Ordering::Relaxed) && self.woken.swap(false, Ordering::AcqRel)
    }

    fn unpark(&self) {
        if self.state.load(Ordering::SeqCst) == PARKED
            && self
                .state
                .compare_exchange(PARKED, NOTIFIED, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            self.signal.signal();
        }
    }

    /// Moves everything queued into `out`. Core thread only.
    pub(crate) fn drain(&self, out: &mut Vec<Remote>) {
        if self.pending.load(Ordering::Relaxed) && self.pending.swap(false, Ordering::Acquire) {
            let mut queue = lock(&self.queue);
            if out.is_empty() {
                mem::swap(&mut *queue, out);
            } else {
                out.append(&mut queue);
            }
        }
    }

    /// Announces that the core is about to block. Returns false (and stays
    /// running) if work arrived meanwhile, in which case it must not block.
    pub(crate) fn prepare_park(&self) -> bool {
        self.state.store(PARKED, Ordering::SeqCst);
        if self.pending.load(Ordering::SeqCst) || self.woken.load(Ordering::SeqCst) {
            self.state.store(RUNNING, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Back to running after blocking (or after deciding not to block).
    pub(crate) fn unparked(&self) {
        self.state.store(RUNNING, Ordering::SeqCst);
    }

    /// Refuses further pushes and returns what was queued. Core thread only.
    pub(crate) fn close(&self) -> Vec<Remote> {
        let mut queue = lock(&self.queue);
        self.closed.store(true, Ordering::Relaxed);
        mem::take(&mut *queue)
    }
}
