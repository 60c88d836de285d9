//! `spawn_blocking`: a pool of threads for blocking syscalls and long CPU
//! work, so that they never stall a core (invariant 6). The threads run on
//! the process's CPUs, not on the pinned CPU of the core that spawned them.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::affinity::CpuSet;
use crate::task::JoinHandle;

type Job = Box<dyn FnOnce() + Send>;

const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct Pool {
    state: Mutex<State>,
    work: Condvar,
    max_threads: usize,
    /// Where the threads run (None: wherever they are spawned).
    cpus: Option<CpuSet>,
}

struct State {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    shutdown: bool,
}

impl Pool {
    pub(crate) fn new(max_threads: usize, cpus: Option<CpuSet>) -> Pool {
        Pool {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                shutdown: false,
            }),
            work: Condvar::new(),
            max_threads: max_threads.max(1),
            cpus,
        }
    }

    fn run(self: &std::sync::Arc<Self>, job: Job) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.queue.push_back(job);
        if state.idle > 0 {
            self.work.notify_one();
        } else if state.threads < self.max_threads {
            state.threads += 1;
            let pool = self.clone();
            let spawned = std::thread::Builder::new()
                .name("uringo-blocking".into())
                .spawn(move || pool.worker());
            if spawned.is_err() {
                state.threads -= 1;
            }
        }
    }

    fn worker(&self) {
        if let Some(cpus) = &self.cpus {
            cpus.apply();
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                let _ = catch_unwind(AssertUnwindSafe(job));
                state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, timeout) = self
                .work
                .wait_timeout(state, IDLE_TIMEOUT)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            state.idle -= 1;
            if timeout.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }

    /// Lets idle threads exit; running jobs finish on their own.
    pub(crate) fn shutdown(&self) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .shutdown = true;
        self.work.notify_all();
    }
}

/// Runs `f` on the blocking pool and returns a handle to its result.
///
/// # Panics
/// Outside a runtime. Awaiting the handle panics if `f` panicked.
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let pool = crate::current::blocking_pool();
    let (tx, rx) = crate::xcore::oneshot::oneshot();
    pool.run(Box::new(move || tx.send(f())));
    crate::spawn(async move {
        match rx.await {
            Some(value) => value,
            None => panic!("spawn_blocking job panicked"),
        }
    })
}
