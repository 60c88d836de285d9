//! Per-core counters.

use std::cell::Cell;

use crate::current;
use crate::executor::with_current;

/// Counters of the calling core since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreStats {
    /// The core's id.
    pub core: usize,
    /// Live tasks on the core.
    pub tasks: u64,
    /// Ops the kernel may still touch: io_uring, ops in the core's ring
    /// (including the runtime's own wake read); epoll, always 0.
    pub ops_in_flight: u64,
    /// SQEs pushed (epoll: ops started).
    pub sqes: u64,
    /// CQEs reaped (epoll: readiness events).
    pub cqes: u64,
    /// io_uring_enter calls (epoll: epoll_wait calls).
    pub enters: u64,
    /// Polls the stall detector reported as running past its threshold.
    pub stalls: u64,
    /// Tasks queued to run on the core when asked, not counting the caller:
    /// its local run queue plus what other threads queued for it.
    pub run_queue: u64,
    /// Times the core blocked in the kernel with nothing to run.
    pub parks: u64,
    /// Tasks that reached the core through its remote queue: woken, or
    /// spawned with `spawn_on`, from another thread.
    pub remote_wakes: u64,
    /// Streams' sockets in the ring's fixed-file table (registered
    /// descriptors; 0 on epoll or without a table).
    pub fixed_files: u64,
    /// CPU time the core's thread has used, in nanoseconds: the kernel's
    /// exact count (CLOCK_THREAD_CPUTIME_ID), not a tick sample.
    pub thread_cpu_ns: u64,
    /// Of `thread_cpu_ns`, the part spent inside io_uring_enter, measured
    /// only when the runtime was built with `URINGO_CPU_SPLIT=1` in the
    /// environment (two thread-clock reads per enter), on io_uring; None
    /// otherwise. See [`user_cpu_ns`](Self::user_cpu_ns).
    pub enter_cpu_ns: Option<u64>,
}

impl CoreStats {
    /// The core thread's CPU time outside io_uring_enter, in nanoseconds:
    /// its user-space CPU, exactly, where the core makes no other
    /// syscalls (an io_uring core in steady state makes none; wakes written
    /// to another core's eventfd and page faults count here; the clock
    /// reads' own cost is counted as enter CPU). None unless `enter_cpu_ns`
    /// is measured.
    pub fn user_cpu_ns(&self) -> Option<u64> {
        self.enter_cpu_ns
            .map(|enter| self.thread_cpu_ns.saturating_sub(enter))
    }
}

/// The scheduler's own counters, kept in core-local cells: only the core's
/// thread touches them, so counting is a plain add.
#[derive(Debug, Default)]
pub(crate) struct SchedCounters {
    parks: Cell<u64>,
    remote_wakes: Cell<u64>,
}

impl SchedCounters {
    pub(crate) fn parked(&self) {
        self.parks.set(self.parks.get() + 1);
    }

    pub(crate) fn remote_woken(&self, tasks: usize) {
        self.remote_wakes
            .set(self.remote_wakes.get() + tasks as u64);
    }
}

/// The calling core's counters.
///
/// # Panics
/// Outside a runtime thread.
#[track_caller]
pub fn stats() -> CoreStats {
    let (core, tasks, stalls, sched) = with_current(|core| {
        let tasks = core.registry.borrow().len() as u64;
        let run_queue = core.local.borrow().len() + core.shared.parker.queued();
        let sched = (
            run_queue as u64,
            core.sched.parks.get(),
            core.sched.remote_wakes.get(),
        );
        (core.id, tasks, core.shared.poll_seq.stalls(), sched)
    });
    let (ops_in_flight, counters, fixed_files) =
        current::driver(|d| (d.ops_in_flight(), d.counters(), d.fixed_in_use()));
    CoreStats {
        core,
        tasks,
        ops_in_flight: ops_in_flight as u64,
        sqes: counters.sqes,
        cqes: counters.cqes,
        enters: counters.enters,
        stalls,
        run_queue: sched.0,
        parks: sched.1,
        remote_wakes: sched.2,
        fixed_files: u64::from(fixed_files),
        thread_cpu_ns: crate::driver::thread_cpu_ns(),
        enter_cpu_ns: counters.enter_cpu_ns,
    }
}

/// The backend the calling core runs on and the io_uring features it uses.
///
/// # Panics
/// Outside a runtime thread.
#[track_caller]
pub fn features() -> crate::Features {
    current::driver(|d| d.features())
}
