//! Per-core counters.

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
}

/// The calling core's counters.
///
/// # Panics
/// Outside a runtime thread.
#[track_caller]
pub fn stats() -> CoreStats {
    let (core, tasks, stalls) = with_current(|core| {
        let tasks = core.registry.borrow().len() as u64;
        (core.id, tasks, core.shared.poll_seq.stalls())
    });
    let (ops_in_flight, counters) = current::driver(|d| (d.ops_in_flight(), d.counters()));
    CoreStats {
        core,
        tasks,
        ops_in_flight: ops_in_flight as u64,
        sqes: counters.sqes,
        cqes: counters.cqes,
        enters: counters.enters,
        stalls,
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
