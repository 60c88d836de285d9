//! Per-core counters.

use crate::executor::with_current;

/// Counters of the calling core since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreStats {
    /// The core's id.
    pub core: usize,
    /// Live tasks on the core.
    pub tasks: u64,
    /// Ops in the core's ring (including the runtime's own wake read).
    pub ops_in_flight: u64,
    /// SQEs pushed.
    pub sqes: u64,
    /// CQEs reaped.
    pub cqes: u64,
    /// io_uring_enter calls.
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
    with_current(|core| {
        let driver = core.driver.borrow();
        CoreStats {
            core: core.id,
            tasks: core.registry.borrow().len() as u64,
            ops_in_flight: driver.ops_in_flight() as u64,
            sqes: driver.counters.sqes,
            cqes: driver.counters.cqes,
            enters: driver.counters.enters,
            stalls: core.shared.poll_seq.stalls(),
        }
    })
}

/// The io_uring features the calling core's ring uses.
///
/// # Panics
/// Outside a runtime thread.
#[track_caller]
pub fn features() -> crate::Features {
    with_current(|core| core.driver.borrow().features)
}
