//! Stall detector (invariant 6): a background thread that notices a task
//! which runs past a threshold without yielding.
//!
//! A core bumps its poll sequence number before and after each poll with
//! plain stores (odd = inside a poll). The watchdog samples every half
//! threshold; the same odd number twice in a row means one poll has run for
//! at least half the threshold, three times for at least the threshold.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::CoreShared;

#[derive(Default)]
pub(crate) struct PollSeq(AtomicU64);

impl PollSeq {
    pub(crate) fn begin(&self) {
        let v = self.0.load(Ordering::Relaxed);
        self.0.store(v | 1, Ordering::Relaxed);
    }
    pub(crate) fn end(&self) {
        let v = self.0.load(Ordering::Relaxed);
        self.0.store((v | 1) + 1, Ordering::Relaxed);
    }
    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
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
                                tracing::warn!(
                                    core = core.id,
                                    "a task has run for over {threshold:?} without yielding; \
                                     blocking calls belong in spawn_blocking"
                                );
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
