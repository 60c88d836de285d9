//! The per-core scheduler.
//!
//! Each core thread owns one [`Core`]: a local run queue, the registry of
//! its live tasks, and the [`Handles`] (driver, timer wheel, budget) that
//! `crate::current` lends to the code running on it. The thread-local
//! `CURRENT` points at it while the core runs. Other threads reach a core
//! only through its [`CoreShared`] (remote queue and park state).

mod remote;
mod run;
mod signal;
mod watchdog;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::ptr;

use slab::Slab;

use crate::current::Handles;
use crate::shim::Arc;
use crate::task::{spawn_raw, JoinHandle, TaskRef};

pub(crate) use remote::{Parker, Signal};
pub(crate) use run::Config;
pub(crate) use signal::RingSignal;
pub(crate) use watchdog::{PollSeq, Watchdog};

/// What other threads may touch of a core.
pub(crate) struct CoreShared {
    pub(crate) id: usize,
    pub(crate) parker: Parker<RingSignal>,
    pub(crate) poll_seq: PollSeq,
    /// Set to make the core's thread leave its loop (runtime drop).
    pub(crate) stop: crate::shim::AtomicBool,
}

/// One core: the scheduler state of one runtime thread.
pub(crate) struct Core {
    pub(crate) id: usize,
    pub(crate) cores: usize,
    pub(crate) shared: Arc<CoreShared>,
    pub(crate) siblings: std::sync::Arc<[Arc<CoreShared>]>,
    pub(crate) local: RefCell<VecDeque<TaskRef>>,
    pub(crate) registry: RefCell<Slab<TaskRef>>,
    /// The driver, timers and budget `crate::current` lends out.
    pub(crate) handles: Handles,
    pub(crate) config: Config,
    pub(crate) signal_seq: Cell<u64>,
    pub(crate) signal_waiters: RefCell<Vec<std::task::Waker>>,
    /// Reused between ticks for the wakers of completions and timers.
    pub(crate) scratch_wakers: RefCell<Vec<std::task::Waker>>,
    /// This core's slot in the signal handler's eventfd table.
    pub(crate) signal_slot: Option<usize>,
    /// Parks and remote wakes, for `crate::stats`.
    pub(crate) sched: crate::stats::SchedCounters,
}

thread_local! {
    static CURRENT: Cell<*const Core> = const { Cell::new(ptr::null()) };
}

/// Runs `f` with the current core, or returns None off the runtime.
pub(crate) fn try_with_current<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    let core = CURRENT.try_with(|c| c.get()).ok()?;
    if core.is_null() {
        return None;
    }
    // SAFETY: CURRENT is non-null only while `enter` keeps the core alive
    // on this thread (it resets the pointer before the core goes away).
    Some(f(unsafe { &*core }))
}

/// Runs `f` with the current core; panics with a clear message off the runtime.
#[track_caller]
pub(crate) fn with_current<R>(f: impl FnOnce(&Core) -> R) -> R {
    match try_with_current(f) {
        Some(r) => r,
        None => panic!("this must be called from a uringo runtime thread (inside block_on, start or a spawned task)"),
    }
}

/// Makes `core` current for the duration of `f`.
pub(crate) fn enter<R>(core: &Core, f: impl FnOnce() -> R) -> R {
    struct Reset(*const Core);
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let prev = CURRENT.with(|c| c.replace(core));
    let _reset = Reset(prev);
    crate::current::enter(&core.handles, f)
}

/// Queues a woken task: a plain local push on its own core, the remote
/// queue otherwise (invariant 4).
pub(crate) fn schedule(task: TaskRef) {
    let core = CURRENT.try_with(|c| c.get()).unwrap_or(ptr::null());
    if !core.is_null() {
        // SAFETY: see try_with_current.
        let core = unsafe { &*core };
        if ptr::eq(&*task.header().owner, &*core.shared) {
            core.schedule_local(task);
            return;
        }
    }
    let owner = task.header().owner.clone();
    owner.parker.push(task);
}

/// Removes a finished task from its core's registry. Owner thread only.
pub(crate) fn unregister(header: &crate::task::Header) {
    let key = header.registry_key.replace(usize::MAX);
    if key == usize::MAX {
        return;
    }
    let removed = try_with_current(|core| {
        core.registry
            .try_borrow_mut()
            .ok()
            .and_then(|mut r| r.try_remove(key))
    });
    drop(removed);
}

/// Runs one poll of a task with the stall detector and budget armed.
pub(crate) fn run_guarded<R>(f: impl FnOnce() -> R) -> R {
    let core = CURRENT.with(|c| c.get());
    if core.is_null() {
        return f();
    }
    // SAFETY: see try_with_current.
    let core = unsafe { &*core };
    core.handles.budget.set(core.config.budget);
    core.shared.poll_seq.begin();
    let r = f();
    core.shared.poll_seq.end();
    r
}

impl Core {
    fn schedule_local(&self, task: TaskRef) {
        let header = task.header();
        if header.scheduled.get() || header.done.get() {
            return;
        }
        header.scheduled.set(true);
        self.local.borrow_mut().push_back(task);
    }

    /// Accepts a task that arrived through the remote queue.
    fn accept_remote(&self, task: TaskRef) {
        let header = task.header();
        if header.registry_key.get() == usize::MAX && !header.done.get() {
            // Spawned from another thread (spawn_on): register it here.
            let key = self.registry.borrow_mut().insert(task.clone());
            header.registry_key.set(key);
            header.scheduled.set(false);
        }
        self.schedule_local(task);
    }

    pub(crate) fn spawn<F: Future + 'static>(
        &self,
        future: F,
        location: &'static std::panic::Location<'static>,
    ) -> JoinHandle<F::Output> {
        let (registry, queued, join) = spawn_raw(future, self.shared.clone(), location);
        let key = self.registry.borrow_mut().insert(registry);
        queued.header().registry_key.set(key);
        self.local.borrow_mut().push_back(queued);
        JoinHandle::new(join)
    }

    pub(crate) fn sibling(&self, core: usize) -> &Arc<CoreShared> {
        match self.siblings.get(core) {
            Some(shared) => shared,
            None => panic!(
                "core {core} does not exist: this runtime has {} cores",
                self.cores
            ),
        }
    }
}

/// Spawns a task on the current core (see [`crate::spawn`]).
#[track_caller]
pub(crate) fn spawn<F: Future + 'static>(future: F) -> JoinHandle<F::Output> {
    let location = std::panic::Location::caller();
    with_current(|core| core.spawn(future, location))
}

/// Spawns a future built by `make` on `core` (see [`crate::spawn_on`]).
#[track_caller]
pub(crate) fn spawn_on_shared<F, Fut>(target: &Arc<CoreShared>, make: F) -> JoinHandle<Fut::Output>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future + 'static,
    Fut::Output: Send + 'static,
{
    spawn_on_at(target, make, std::panic::Location::caller())
}

/// [`spawn_on_shared`] with the spawn location given (for callers that spawn
/// on behalf of their own caller, such as `Runtime::run_on_all_cores`).
pub(crate) fn spawn_on_at<F, Fut>(
    target: &Arc<CoreShared>,
    make: F,
    location: &'static std::panic::Location<'static>,
) -> JoinHandle<Fut::Output>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future + 'static,
    Fut::Output: Send + 'static,
{
    let (registry, queued, join) =
        spawn_raw(crate::xcore::Lazy::new(make), target.clone(), location);
    // The registry reference is taken again by the owner when it accepts the
    // task (it cannot touch the registry from here).
    drop(registry);
    queued.header().scheduled.set(false);
    target.parker.push(queued);
    JoinHandle::new(join)
}
