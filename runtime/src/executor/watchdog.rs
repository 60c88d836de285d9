//! Stall detector (invariant 6): a background thread that notices a task
//! which runs past a threshold without yielding.
//!
//! A core bumps its poll sequence number before and after each poll with
//! plain stores (odd = inside a poll). The watchdog samples every half
//! threshold; the same odd number twice in a row means one poll has run for
//! at least half the threshold, three times for at least the threshold.
//! The task being polled leaves its spawn location here too, so the report
//! names it, and each report is counted in the core's stats.

use std::panic::Location;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
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
}

impl PollSeq {
    /// Records which task the next poll is for (`None`: not a task).
    pub(crate) fn running(&self, task: Option<&'static Location<'static>>) {
        let p = task.map_or(ptr::null_mut(), |l| ptr::from_ref(l).cast_mut());
        self.running.store(p, Ordering::Relaxed);
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
                let mut last: Vec<(u64, u32)> =
                    cores.iter().map(|c| (c.poll_seq.get(), 0)).collect();
                let (lock, cvar) = &*stop2;
                let mut stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
                while !*stopped {
                    stopped = cvar
                        .wait_timeout(stopped, half)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                    for (core, (seq, strikes)) in cores.iter().zip(last.iter_mut()) {
                        let now = core.poll_seq.get();
                        if now == *seq && now & 1 == 1 {
                            *strikes += 1;
                            if *strikes == 2 {
                                report(core, threshold);
                                reported.store(true, Ordering::Relaxed);
                            }
                        } else {
                            *seq = now;
                            *strikes = 0;
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
