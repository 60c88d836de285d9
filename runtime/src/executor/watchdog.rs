//! Stall detector (invariant 6): a background thread that notices a task
//! which runs past a threshold without yielding.
//!
//! A core bumps its poll sequence number before and after each poll with
//! plain stores (odd = inside a poll). The watchdog samples every half
//! threshold; the same odd number twice in a row means one poll has run for
//! at least half the threshold, three times for at least the threshold.
//! The task being polled leaves its spawn location here too, so the report
//! names it, and each report is counted in the core's stats.
//!
//! Time the core's thread spent runnable but waiting for a CPU (the
//! scheduler's run-queue wait, from `/proc/self/task/TID/schedstat`) is not
//! held against the task: on a starved machine every poll would otherwise
//! look like a stall. Time blocked in a syscall still counts: that is what
//! the report is for.

use std::panic::Location;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::CoreShared;

#[derive(Default)]
pub(crate) struct PollSeq {
    seq: AtomicU64,
    /// Spawn location of the task being polled; null for the `block_on` future.
    running: AtomicPtr<Location<'static>>,
    /// Stalls reported on this core.
    stalls: AtomicU64,
    /// The core thread's kernel thread id (0: not known yet).
    tid: AtomicI32,
}

impl PollSeq {
    /// Records which task the next poll is for (`None`: not a task).
    pub(crate) fn running(&self, task: Option<&'static Location<'static>>) {
        let p = task.map_or(ptr::null_mut(), |l| ptr::from_ref(l).cast_mut());
        self.running.store(p, Ordering::Relaxed);
    }

    /// Called on the thread that runs the core, so its run-queue wait can be read.
    pub(crate) fn set_thread(&self) {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        self.tid.store(tid, Ordering::Relaxed);
    }

    /// Nanoseconds the core's thread has spent runnable but waiting for a CPU.
    fn runqueue_wait_ns(&self) -> Option<u64> {
        let tid = self.tid.load(Ordering::Relaxed);
        if tid == 0 {
            return None;
        }
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
        parse_runqueue_wait(&stat)
    }

    /// Stalls reported on this core so far.
    pub(crate) fn stalls(&self) -> u64 {
        self.stalls.load(Ordering::Relaxed)
    }

    fn running_task(&self) -> Option<&'static Location<'static>> {
        let p = self.running.load(Ordering::Relaxed);
        // SAFETY: only null or a `&'static Location` is ever stored.
        unsafe { p.as_ref() }
    }

    pub(crate) fn begin(&self) {
        let v = self.seq.load(Ordering::Relaxed);
        self.seq.store(v | 1, Ordering::Relaxed);
    }
    pub(crate) fn end(&self) {
        let v = self.seq.load(Ordering::Relaxed);
        self.seq.store((v | 1) + 1, Ordering::Relaxed);
    }
    fn get(&self) -> u64 {
        self.seq.load(Ordering::Relaxed)
    }
}

pub(crate) struct Watchdog {
    stop: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Watchdog {
    pub(crate) fn start(cores: Vec<crate::shim::Arc<CoreShared>>, threshold: Duration) -> Watchdog {
        let stop = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let stop2 = stop.clone();
        let reported = Arc::new(AtomicBool::new(false));
        let thread = thread::Builder::new()
            .name("uringo-watchdog".into())
            .spawn(move || {
                let half = threshold / 2;
                let mut watches: Vec<PollWatch> =
                    cores.iter().map(|_| PollWatch::default()).collect();
                let (lock, cvar) = &*stop2;
                let mut stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
                while !*stopped {
                    stopped = cvar
                        .wait_timeout(stopped, half)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                    for (core, watch) in cores.iter().zip(watches.iter_mut()) {
                        if watch.sample(&core.poll_seq, half, threshold) {
                            report(core, threshold);
                            reported.store(true, Ordering::Relaxed);
                        }
                    }
                }
            })
            .expect("spawn the watchdog thread");
        Watchdog {
            stop,
            thread: Some(thread),
        }
    }
}

/// What the watchdog knows of one core's current poll.
#[derive(Default)]
struct PollWatch {
    seq: u64,
    /// Samples, after the first, that found the same poll still running.
    strikes: u32,
    /// The thread's run-queue wait when the poll was first seen.
    wait_at_start: Option<u64>,
    reported: bool,
}

impl PollWatch {
    /// Takes one sample; true when the poll has just become a stall to report.
    fn sample(&mut self, poll_seq: &PollSeq, half: Duration, threshold: Duration) -> bool {
        let now = poll_seq.get();
        if now != self.seq || now & 1 == 0 {
            *self = PollWatch {
                seq: now,
                strikes: 0,
                wait_at_start: if now & 1 == 1 {
                    poll_seq.runqueue_wait_ns()
                } else {
                    None
                },
                reported: false,
            };
            return false;
        }
        self.strikes += 1;
        if self.reported || self.strikes < 2 {
            return false;
        }
        let starved = match (self.wait_at_start, poll_seq.runqueue_wait_ns()) {
            (Some(then), Some(now)) => Duration::from_nanos(now.saturating_sub(then)),
            _ => Duration::ZERO,
        };
        self.reported = is_stall(self.strikes, half, starved, threshold);
        self.reported
    }
}

/// A poll seen running for `strikes` sample periods of `half` is a stall
/// once that time, less what its thread spent waiting for a CPU, reaches the
/// threshold.
fn is_stall(strikes: u32, half: Duration, starved: Duration, threshold: Duration) -> bool {
    (half * strikes).saturating_sub(starved) >= threshold
}

/// The second field of a `schedstat` line: run-queue wait in nanoseconds.
fn parse_runqueue_wait(schedstat: &str) -> Option<u64> {
    schedstat.split_whitespace().nth(1)?.parse().ok()
}

fn report(core: &CoreShared, threshold: Duration) {
    core.poll_seq.stalls.fetch_add(1, Ordering::Relaxed);
    let task = match core.poll_seq.running_task() {
        Some(location) => format!("the task spawned at {location}"),
        None => "the block_on future".to_string(),
    };
    tracing::warn!(
        core = core.id,
        task = %task,
        "{task} has run for over {threshold:?} without yielding; \
         blocking calls belong in spawn_blocking"
    );
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.stop;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cvar.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_poll_running_the_whole_threshold_is_a_stall() {
        assert!(is_stall(2, 50 * MS, Duration::ZERO, 100 * MS));
        assert!(!is_stall(1, 50 * MS, Duration::ZERO, 100 * MS));
    }

    #[test]
    fn time_waiting_for_a_cpu_is_not_held_against_the_task() {
        assert!(!is_stall(2, 50 * MS, 30 * MS, 100 * MS));
        assert!(!is_stall(3, 50 * MS, 60 * MS, 100 * MS));
        assert!(is_stall(3, 50 * MS, 50 * MS, 100 * MS));
    }

    #[test]
    fn schedstat_gives_its_second_field() {
        assert_eq!(parse_runqueue_wait("812 10895394 3\n"), Some(10_895_394));
        assert_eq!(parse_runqueue_wait("812"), None);
        assert_eq!(parse_runqueue_wait(""), None);
    }

    #[test]
    fn this_threads_runqueue_wait_can_be_read() {
        let seq = PollSeq::default();
        assert_eq!(seq.runqueue_wait_ns(), None, "no thread recorded yet");
        seq.set_thread();
        assert!(seq.runqueue_wait_ns().is_some(), "schedstat of this thread");
    }
}
