//! The exact CPU time of the calling thread, and the opt-in measure of how
//! much of it a core spends inside io_uring_enter (`URINGO_CPU_SPLIT=1`).
//!
//! Why: the user/system split that getrusage and /proc report is sampled at
//! the scheduler tick, and on a VM it is biased by several points of total
//! CPU, more than the runtime's whole user-space cost per message. The
//! thread CPU clock (CLOCK_THREAD_CPUTIME_ID) is the kernel's exact
//! `sum_exec_runtime`. Reading it before and after every io_uring_enter
//! gives the CPU spent in the kernel through the ring; the thread's total
//! less that is its user-space CPU, as long as the core makes no other
//! syscalls. In steady state an io_uring core makes none: ops, timeouts and
//! wakes go through the ring, clocks are read through the vDSO. What it
//! does make (writing another core's eventfd when a MSG_RING wake cannot be
//! used, page faults, interrupts taken while in user space) counts as user
//! time here. The clock reads are syscalls themselves: the part of them
//! outside the timed span (the first one's entry, the second one's exit)
//! is about one read's cost, measured when the driver opens
//! ([`read_cost_ns`]) and added to the enter CPU for each enter, so that it
//! does not count as user time. The epoll backend does not measure it.

/// The environment variable that turns the measure on (`1`), read once per
/// core when its driver is opened.
pub(crate) const CPU_SPLIT_ENV: &str = "URINGO_CPU_SPLIT";

/// Whether `URINGO_CPU_SPLIT=1` asks for the enter CPU to be measured.
pub(crate) fn split_wanted() -> bool {
    std::env::var_os(CPU_SPLIT_ENV).is_some_and(|v| v == "1")
}

/// Nanoseconds of CPU the calling thread has used (0 if the clock fails,
/// which Linux does not do for this clock).
pub(crate) fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// What one thread-clock read costs, as the clock sees it: the least of a
/// few back-to-back pairs (one read's exit and the next one's entry).
pub(crate) fn read_cost_ns() -> u64 {
    (0..32)
        .map(|_| {
            let first = thread_cpu_ns();
            thread_cpu_ns().saturating_sub(first)
        })
        .min()
        .unwrap_or(0)
}
