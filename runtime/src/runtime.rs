//! `Runtime`: the cores, their threads, and an orderly shutdown.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io;
use std::sync::mpsc;
use std::task::Poll;
use std::thread;
use std::time::Instant;

use slab::Slab;

use crate::affinity::CpuSet;
use crate::blocking::Pool;
use crate::current::Handles;
use crate::driver::{self, Driver, Wanted};
use crate::executor::{
    spawn_on_at, spawn_on_shared, Config, Core, CoreShared, Parker, PollSeq, RingSignal, Watchdog,
};
use crate::shim::{Arc, AtomicBool, Ordering};
use crate::task::JoinHandle;
use crate::time::wheel::Wheel;
use crate::Builder;

/// A set of cores, each a thread with its own driver (an io_uring, or epoll).
///
/// Core 0 is the thread that created the runtime: it runs tasks while that
/// thread is inside [`Runtime::block_on`]. Cores 1.. have threads of their
/// own. Dropping the runtime cancels every task, drains every ring (no
/// memory the kernel may still write is freed), and joins the threads.
pub struct Runtime {
    core0: Box<Core>,
    shared: std::sync::Arc<[Arc<CoreShared>]>,
    workers: Vec<thread::JoinHandle<()>>,
    blocking: std::sync::Arc<Pool>,
    watchdog: Option<Watchdog>,
    saved_affinity: Option<CpuSet>,
}

impl Runtime {
    pub(crate) fn new(builder: Builder) -> io::Result<Runtime> {
        let mut shared = Vec::with_capacity(builder.cores);
        for id in 0..builder.cores {
            shared.push(Arc::new(CoreShared {
                id,
                parker: Parker::new(RingSignal::new()?),
                poll_seq: PollSeq::default(),
                stop: AtomicBool::new(false),
            }));
        }
        let shared: std::sync::Arc<[Arc<CoreShared>]> = shared.into();
        // The CPUs the process may use, taken before any thread is pinned:
        // the blocking pool and the watchdog run on them, never on a core's CPU.
        let process_cpus = CpuSet::current();
        let blocking = std::sync::Arc::new(Pool::new(builder.blocking_threads, process_cpus));
        // Started before core 0 (this thread) is pinned, so that it inherits
        // the process's CPUs.
        let watchdog = builder
            .stall_threshold
            .map(|threshold| Watchdog::start(shared.iter().cloned().collect(), threshold));
        let saved_affinity = if builder.pin {
            CpuSet::pin_current(0)
        } else {
            None
        };
        let mut builder = builder;
        let core0 = match make_core(0, &builder, &shared, &blocking) {
            Ok(core) => {
                // Every core runs on the backend core 0 settled on.
                builder.backend = core.handles.driver.borrow().features().backend;
                Box::new(core)
            }
            Err(e) => {
                if let Some(mask) = saved_affinity {
                    mask.apply();
                }
                return Err(e);
            }
        };
        let mut runtime = Runtime {
            core0,
            shared: shared.clone(),
            workers: Vec::new(),
            blocking,
            watchdog,
            saved_affinity,
        };
        for id in 1..builder.cores {
            let worker = Self::start_worker(id, &builder, &shared, &runtime.blocking)?;
            runtime.workers.push(worker);
        }
        if builder.dump_on_sigquit {
            crate::signal::dump_on_sigquit()?;
        }
        Ok(runtime)
    }

    /// Runs `future` on core 0 (the calling thread) until it completes,
    /// running core 0's tasks meanwhile. The future need not be `Send` or
    /// `'static`.
    ///
    /// # Panics
    /// If called from a runtime thread (inside a task): await the future
    /// there instead.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.core0
            .block_on(future, Some(std::panic::Location::caller()))
    }

    /// Runs the future that `make(i)` builds on every core `i` (say, one
    /// SO_REUSEPORT listener each) and returns their outputs in core order.
    #[track_caller]
    pub fn run_on_all_cores<F, Fut>(&self, make: F) -> Vec<Fut::Output>
    where
        F: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let make = std::sync::Arc::new(make);
        // Stall reports and task dumps name the caller, not this closure.
        let location = std::panic::Location::caller();
        let handles: Vec<_> = self
            .shared
            .iter()
            .enumerate()
            .map(|(core, target)| {
                let make = make.clone();
                spawn_on_at(target, move || make(core), location)
            })
            .collect();
        self.block_on(async move {
            let mut outputs = Vec::with_capacity(handles.len());
            for handle in handles {
                outputs.push(handle.await);
            }
            outputs
        })
    }

    /// Spawns the future `make` builds on `core`, from outside the runtime.
    ///
    /// # Panics
    /// If `core >= self.cores()`.
    #[track_caller]
    pub fn spawn_on<F, Fut>(&self, core: usize, make: F) -> JoinHandle<Fut::Output>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let Some(target) = self.shared.get(core) else {
            panic!(
                "core {core} does not exist: this runtime has {} cores",
                self.cores()
            );
        };
        spawn_on_shared(target, make)
    }

    /// Number of cores.
    pub fn cores(&self) -> usize {
        self.shared.len()
    }

    /// Starts core `id` on a thread of its own and waits until its ring is set
    /// up; a core that failed to start has ended its thread when this returns
    /// its error.
    fn start_worker(
        id: usize,
        builder: &Builder,
        shared: &std::sync::Arc<[Arc<CoreShared>]>,
        blocking: &std::sync::Arc<Pool>,
    ) -> io::Result<thread::JoinHandle<()>> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let builder = builder.clone();
        let shared = shared.clone();
        let blocking = blocking.clone();
        let worker = thread::Builder::new()
            .name(format!("uringo-core-{id}"))
            .spawn(move || {
                if builder.pin {
                    CpuSet::pin_current(id);
                }
                let core = match make_core(id, &builder, &shared, &blocking) {
                    Ok(core) => core,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                let me = core.shared.clone();
                let stop = poll_fn(|_| {
                    if me.stop.load(Ordering::Acquire) {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                });
                core.block_on(stop, None);
                core.shutdown();
            })?;
        ready_rx.recv().map_err(|_| {
            io::Error::other(format!("uringo core {id} thread died while starting"))
        })??;
        Ok(worker)
    }

    /// The backend every core runs on ([`Backend::Auto`](crate::Backend)
    /// resolved: io_uring or epoll).
    pub fn backend(&self) -> crate::Backend {
        self.core0.handles.driver.borrow().features().backend
    }
}

fn make_core(
    id: usize,
    builder: &Builder,
    siblings: &std::sync::Arc<[Arc<CoreShared>]>,
    blocking: &std::sync::Arc<Pool>,
) -> io::Result<Core> {
    let shared = siblings[id].clone();
    shared.poll_seq.set_thread();
    let wanted = Wanted {
        entries: builder.ring_entries,
        defer_taskrun: builder.defer_taskrun,
        multishot: builder.multishot,
        provided_buffers: builder.provided_buffers,
        msg_ring: builder.msg_ring,
        fixed_files: builder.fixed_files,
    };
    let signal = shared.parker.signal_impl();
    let config = driver::Config {
        wanted: &wanted,
        eventfd: signal.eventfd(),
        buf_count: builder.buffers,
        buf_size: builder.buffer_size,
    };
    let driver = Driver::open(builder.backend, &config)?;
    signal.set_ring(driver.ring_fd(), driver.features().msg_ring);
    let signal_slot = crate::signal::register_core(signal.eventfd());
    Ok(Core {
        id,
        cores: siblings.len(),
        shared,
        siblings: siblings.clone(),
        local: RefCell::new(VecDeque::with_capacity(256)),
        registry: RefCell::new(Slab::with_capacity(256)),
        handles: Handles {
            driver: RefCell::new(driver),
            timers: RefCell::new(Wheel::new(Instant::now())),
            budget: Cell::new(builder.budget),
            blocking: blocking.clone(),
        },
        config: Config {
            tick_tasks: builder.tick_tasks,
            budget: builder.budget,
        },
        signal_seq: Cell::new(0),
        signal_waiters: RefCell::new(Vec::new()),
        scratch_wakers: RefCell::new(Vec::with_capacity(256)),
        signal_slot,
        sched: Default::default(),
    })
}

impl Drop for Runtime {
    fn drop(&mut self) {
        for shared in self.shared.iter().skip(1) {
            shared.stop.store(true, Ordering::Release);
            shared.parker.wake();
        }
        self.core0.shutdown();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        self.watchdog = None;
        self.blocking.shutdown();
        if let Some(mask) = self.saved_affinity.take() {
            mask.apply();
        }
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("cores", &self.cores())
            .finish()
    }
}
