//! The core loop: run a bounded batch of tasks, fire timers, then submit
//! and reap in one io_uring_enter (or park in it when there is nothing to
//! run).

use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use super::{enter, Core, CoreShared};
use crate::shim::Arc;

/// Scheduler knobs, set through the [`Builder`](crate::Builder).
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// Tasks run per tick before completions are reaped.
    pub(crate) tick_tasks: usize,
    /// Ready I/O results a task may take in one poll before it must yield.
    pub(crate) budget: u32,
}

/// Wakes the future given to `block_on` (or a core's shutdown wait).
struct RootWaker(Arc<CoreShared>);

impl Wake for RootWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.parker.wake();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.parker.wake();
    }
}

impl Core {
    /// Runs the core until `future` completes; `location` (the caller of
    /// `Runtime::block_on`) names the future in stall reports.
    ///
    /// # Panics
    /// When called from a runtime thread (inside a task or another
    /// `block_on`): that would run the core's loop inside one of its polls.
    pub(crate) fn block_on<F: Future>(
        &self,
        future: F,
        location: Option<&'static Location<'static>>,
    ) -> F::Output {
        if super::try_with_current(|_| ()).is_some() {
            panic!(
                "Runtime::block_on called from a uringo runtime thread; \
                 await the future instead, or spawn it"
            );
        }
        enter(self, || {
            let waker = Waker::from(std::sync::Arc::new(RootWaker(self.shared.clone())));
            let mut cx = Context::from_waker(&waker);
            let mut future = pin!(future);
            self.shared.parker.wake();
            loop {
                if self.shared.parker.take_woken() {
                    self.shared.poll_seq.running(location);
                    let poll = super::run_guarded(|| future.as_mut().poll(&mut cx));
                    self.shared.poll_seq.running(None);
                    if let Poll::Ready(output) = poll {
                        return output;
                    }
                }
                self.tick();
            }
        })
    }

    fn tick(&self) {
        self.run_remote();
        for _ in 0..self.config.tick_tasks {
            let Some(task) = self.local.borrow_mut().pop_front() else {
                break;
            };
            task.poll();
        }
        crate::signal::dispatch(self);
        // No clock read on the hot path when no timer is set.
        let has_timers = !self.handles.timers.borrow().is_empty();
        let now = has_timers.then(Instant::now);
        if let Some(now) = now {
            self.fire_timers(now);
        }
        let idle = self.local.borrow().is_empty() && !self.shared.parker.is_woken();
        if idle && self.shared.parker.prepare_park() {
            let timeout = match now {
                Some(now) => self
                    .handles
                    .timers
                    .borrow()
                    .next_deadline()
                    .map(|d| d.saturating_duration_since(now)),
                None => None,
            };
            self.park(timeout);
        } else {
            self.drive_io(Some(Duration::ZERO));
        }
    }

    fn run_remote(&self) {
        let mut remote = Vec::new();
        self.shared.parker.drain(&mut remote);
        self.sched.remote_woken(remote.len());
        for task in remote {
            self.accept_remote(task);
        }
    }

    fn fire_timers(&self, now: Instant) {
        let mut expired = self.take_wakers();
        self.handles.timers.borrow_mut().expire(now, &mut expired);
        self.wake_all(expired);
    }

    /// Blocks in the ring; back to running before the completions' wakers
    /// run, so that a wake from this very core (the block_on waker) does not
    /// signal the ring it has just left.
    fn park(&self, timeout: Option<Duration>) {
        self.sched.parked();
        let wakers = self.turn(timeout);
        self.shared.parker.unparked();
        self.wake_all(wakers);
    }

    /// Submits what is queued and reaps completions, blocking for one for
    /// at most `wait` (`None`: until one arrives).
    pub(crate) fn drive_io(&self, wait: Option<Duration>) {
        let wakers = self.turn(wait);
        self.wake_all(wakers);
    }

    /// The core's reusable buffer for wakers collected in a tick, so that
    /// reaping allocates nothing per tick.
    fn take_wakers(&self) -> Vec<Waker> {
        std::mem::take(&mut *self.scratch_wakers.borrow_mut())
    }

    fn wake_all(&self, mut wakers: Vec<Waker>) {
        wakers.drain(..).for_each(Waker::wake);
        *self.scratch_wakers.borrow_mut() = wakers;
    }

    fn turn(&self, wait: Option<Duration>) -> Vec<Waker> {
        let mut wakers = self.take_wakers();
        let result = self.handles.driver.borrow_mut().turn(wait, &mut wakers);
        if let Err(e) = result {
            panic!("uringo: the I/O driver failed on core {}: {e}", self.id);
        }
        wakers
    }

    /// Cancels every task, then drains the ring until no op is in flight
    /// (invariant 7). Runs on the core's thread before it goes away.
    pub(crate) fn shutdown(&self) {
        enter(self, || {
            for task in self.shared.parker.close() {
                self.accept_remote(task);
            }
            loop {
                let tasks: Vec<_> = self.registry.borrow_mut().drain().collect();
                if tasks.is_empty() {
                    break;
                }
                for task in tasks {
                    task.header().registry_key.set(usize::MAX);
                    task.cancel();
                }
            }
            self.local.borrow_mut().clear();
            self.handles.driver.borrow_mut().cancel_all();
            let give_up = Instant::now() + Duration::from_secs(5);
            while self.handles.driver.borrow().ops_in_flight() > 0 {
                if Instant::now() > give_up {
                    tracing::error!(
                        core = self.id,
                        "ops still in flight after cancellation; leaking their memory"
                    );
                    self.handles.driver.borrow_mut().leak_ops();
                    break;
                }
                self.drive_io(Some(Duration::from_millis(100)));
            }
            debug_assert_eq!(
                self.handles.driver.borrow().ops_in_flight(),
                0,
                "op table not empty at shutdown"
            );
            self.handles.timers.borrow_mut().clear();
            self.signal_waiters.borrow_mut().clear();
            if let Some(slot) = self.signal_slot {
                crate::signal::unregister_core(slot);
            }
            self.shared.parker.signal_impl().clear_ring();
        })
    }
}
