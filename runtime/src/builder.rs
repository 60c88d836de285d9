//! `Builder`: how many cores, pinned or not, which backend, ring sizes,
//! scheduler budgets, and switches that force io_uring fallbacks (so tests
//! cover them).

use std::io;
use std::time::Duration;

use crate::{Backend, Runtime};

/// The environment variable that sets the default backend (`auto`,
/// `io-uring` or `epoll`), so that a test suite or a deployment can pick it
/// without a code change.
pub const BACKEND_ENV: &str = "URINGO_BACKEND";

/// Configures and builds a [`Runtime`].
///
/// ```no_run
/// let rt = uringo::Builder::new().cores(2).ring_entries(512).build()?;
/// rt.block_on(async { println!("on core {}", uringo::core_id()) });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Builder {
    pub(crate) backend: Backend,
    pub(crate) cores: usize,
    pub(crate) pin: bool,
    pub(crate) ring_entries: u32,
    pub(crate) tick_tasks: usize,
    pub(crate) budget: u32,
    pub(crate) stall_threshold: Option<Duration>,
    pub(crate) buffers: u16,
    pub(crate) buffer_size: u32,
    pub(crate) multishot: bool,
    pub(crate) provided_buffers: bool,
    pub(crate) defer_taskrun: bool,
    pub(crate) msg_ring: bool,
    pub(crate) fixed_files: u32,
    pub(crate) blocking_threads: usize,
    pub(crate) dump_on_sigquit: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// The defaults described on each setter.
    pub fn new() -> Builder {
        Builder {
            backend: backend_from_env(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            pin: true,
            ring_entries: 256,
            tick_tasks: 128,
            budget: 128,
            stall_threshold: Some(Duration::from_millis(100)),
            buffers: 1024,
            buffer_size: 4096,
            multishot: true,
            provided_buffers: true,
            defer_taskrun: true,
            msg_ring: true,
            fixed_files: fixed_files_from_env(),
            blocking_threads: 64,
            dump_on_sigquit: false,
        }
    }

    /// The I/O backend. Default: [`Backend::Auto`] (io_uring, or epoll with
    /// a warning where io_uring cannot be set up), or what the
    /// `URINGO_BACKEND` environment variable says. The io_uring switches
    /// below do nothing on epoll.
    pub fn backend(mut self, backend: Backend) -> Builder {
        self.backend = backend;
        self
    }

    /// Number of cores (threads, each with its own ring). Default: the
    /// number of CPUs this process may run on. Core 0 is the thread that
    /// calls `block_on`.
    pub fn cores(mut self, cores: usize) -> Builder {
        self.cores = cores.max(1);
        self
    }

    /// Pin core `i` to the i-th allowed CPU. Default: true.
    pub fn pin(mut self, pin: bool) -> Builder {
        self.pin = pin;
        self
    }

    /// Submission queue entries per ring (the CQ gets 4×). Default: 256.
    pub fn ring_entries(mut self, entries: u32) -> Builder {
        self.ring_entries = entries;
        self
    }

    /// Tasks a core runs before it reaps completions again. Default: 128.
    pub fn scheduler_budget(mut self, tasks: usize) -> Builder {
        self.tick_tasks = tasks.max(1);
        self
    }

    /// Results that were ready without waiting (e.g. buffered recv data) a
    /// task may take in one poll before it is made to yield. Default: 128.
    pub fn coop_budget(mut self, budget: u32) -> Builder {
        self.budget = budget.max(1);
        self
    }

    /// Warn (through `tracing`) when one poll of a task runs longer than
    /// this without yielding. Default: 100 ms. `None` turns it off. Time the
    /// core's thread spends waiting for a CPU (a starved machine) does not
    /// count; time blocked in a syscall does.
    pub fn stall_threshold(mut self, threshold: Option<Duration>) -> Builder {
        self.stall_threshold = threshold;
        self
    }

    /// On SIGQUIT (Ctrl-\\), print every core's task dump to stderr and keep
    /// running, as Go prints its goroutines (Go then exits; this does not).
    /// Default: false (SIGQUIT keeps its default action).
    pub fn dump_on_sigquit(mut self, on: bool) -> Builder {
        self.dump_on_sigquit = on;
        self
    }

    /// Provided buffers per core for `recv` (rounded up to a power of two)
    /// and their size in bytes. Default: 1024 × 4096 B.
    pub fn recv_buffers(mut self, count: u16, size: u32) -> Builder {
        self.buffers = count.max(1);
        self.buffer_size = size.max(1);
        self
    }

    /// Use multishot accept and recv where the kernel has them. Default:
    /// true; false forces the single-shot fallback.
    pub fn multishot(mut self, on: bool) -> Builder {
        self.multishot = on;
        self
    }

    /// Use a provided-buffer ring where the kernel has it. Default: true;
    /// false forces recv into per-call buffers (and single-shot recv).
    pub fn provided_buffers(mut self, on: bool) -> Builder {
        self.provided_buffers = on;
        self
    }

    /// Set up rings with SINGLE_ISSUER and DEFER_TASKRUN where the kernel
    /// has them. Default: true; false forces the fallback.
    pub fn defer_taskrun(mut self, on: bool) -> Builder {
        self.defer_taskrun = on;
        self
    }

    /// Wake parked cores with MSG_RING where the kernel has it. Default:
    /// true; false forces eventfd wakes.
    pub fn msg_ring(mut self, on: bool) -> Builder {
        self.msg_ring = on;
        self
    }

    /// Slots per core of the ring's fixed-file table: the socket of each TCP
    /// or Unix stream is registered there (it keeps its fd too), so its
    /// recv, send and close skip the kernel's fd lookup. Streams beyond the
    /// table's size use their fd alone. Capped at 32,768 and at
    /// RLIMIT_NOFILE. Default:
    /// 16384, or what the `URINGO_FIXED_FILES` environment variable says;
    /// 0 forces plain fds.
    pub fn fixed_files(mut self, slots: u32) -> Builder {
        self.fixed_files = slots;
        self
    }

    /// Upper bound of the `spawn_blocking` pool. Default: 64.
    pub fn blocking_threads(mut self, threads: usize) -> Builder {
        self.blocking_threads = threads;
        self
    }

    /// Starts the cores. With [`Backend::IoUring`] this fails with an
    /// explanation if io_uring cannot be set up (not in this kernel, denied
    /// by seccomp, disabled by sysctl); [`Backend::Auto`] runs on epoll then.
    pub fn build(self) -> io::Result<Runtime> {
        Runtime::new(self)
    }
}

/// The table size `URINGO_FIXED_FILES` gives; 16384 if unset. A value that
/// is not a number is reported and ignored.
fn fixed_files_from_env() -> u32 {
    const DEFAULT: u32 = 16 * 1024;
    match std::env::var("URINGO_FIXED_FILES") {
        Ok(value) => value.trim().parse().unwrap_or_else(|e| {
            tracing::warn!("uringo: ignoring URINGO_FIXED_FILES={value:?}: {e}");
            DEFAULT
        }),
        Err(_) => DEFAULT,
    }
}

/// The backend `URINGO_BACKEND` names; Auto if unset. A value that names no
/// backend is reported (once per build) and ignored.
fn backend_from_env() -> Backend {
    match std::env::var(BACKEND_ENV) {
        Ok(value) => value.parse().unwrap_or_else(|e| {
            tracing::warn!("uringo: ignoring {BACKEND_ENV}: {e}");
            Backend::Auto
        }),
        Err(_) => Backend::Auto,
    }
}
