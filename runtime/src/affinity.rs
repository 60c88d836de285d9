//! CPU sets of threads: pinning core threads, and keeping the runtime's
//! other threads (blocking pool, watchdog) on the CPUs the process started
//! with rather than on the one CPU of the core thread that spawned them.

use std::mem::{size_of, zeroed};

/// A set of CPUs (`cpu_set_t`).
#[derive(Clone, Copy)]
pub(crate) struct CpuSet(libc::cpu_set_t);

impl CpuSet {
    /// The calling thread's CPU set.
    pub(crate) fn current() -> Option<CpuSet> {
        // SAFETY: cpu_set_t is plain data; sched_getaffinity writes the set we pass.
        unsafe {
            let mut set: libc::cpu_set_t = zeroed();
            (libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) == 0)
                .then_some(CpuSet(set))
        }
    }

    /// The CPUs in the set, in order.
    pub(crate) fn cpus(&self) -> Vec<usize> {
        (0..libc::CPU_SETSIZE as usize)
            // SAFETY: CPU_ISSET reads a bit of the set; c is below CPU_SETSIZE.
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &self.0) })
            .collect()
    }

    /// Moves the calling thread onto this set.
    pub(crate) fn apply(&self) {
        // SAFETY: sets the calling thread's mask from a valid cpu_set_t.
        unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &self.0) };
    }

    /// Pins the calling thread to the `index`-th CPU it may run on;
    /// returns the set it had.
    pub(crate) fn pin_current(index: usize) -> Option<CpuSet> {
        let allowed = CpuSet::current()?;
        let cpus = allowed.cpus();
        if cpus.is_empty() {
            return None;
        }
        // SAFETY: a zeroed cpu_set_t is the empty set; CPU_SET writes one
        // bit below CPU_SETSIZE.
        let one = unsafe {
            let mut one: libc::cpu_set_t = zeroed();
            libc::CPU_SET(cpus[index % cpus.len()], &mut one);
            CpuSet(one)
        };
        one.apply();
        Some(allowed)
    }
}

impl std::fmt::Debug for CpuSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.cpus()).finish()
    }
}
