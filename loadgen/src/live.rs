//! How many connections of a run are still alive, across every core. When the last one is gone
//! (the server was killed, or refused them all) the run is over: the per-second report, the CPU
//! sampler and the summary stop there instead of reporting 0 msg/s until `--duration` ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

#[derive(Debug)]
pub struct Live {
    conns: AtomicUsize,
    /// When the last connection ended.
    ended: Mutex<Option<Instant>>,
    ended_cv: Condvar,
}

impl Live {
    pub fn new(conns: usize) -> Self {
        Live {
            conns: AtomicUsize::new(conns),
            ended: Mutex::new(None),
            ended_cv: Condvar::new(),
        }
    }

    /// One connection is finished for good (its task returned).
    pub fn conn_done(&self) {
        if self.conns.fetch_sub(1, Ordering::AcqRel) == 1 {
            *self.ended.lock().unwrap() = Some(Instant::now());
            self.ended_cv.notify_all();
        }
    }

    /// When the last connection ended, if it has.
    pub fn ended(&self) -> Option<Instant> {
        *self.ended.lock().unwrap()
    }

    /// Blocks the calling (plain) thread until `deadline` or the end of the last connection,
    /// whichever comes first, and returns that moment.
    pub fn wait_until(&self, deadline: Instant) -> Instant {
        let mut ended = self.ended.lock().unwrap();
        loop {
            if let Some(at) = *ended {
                return at.min(deadline);
            }
            let now = Instant::now();
            if now >= deadline {
                return deadline;
            }
            ended = self.ended_cv.wait_timeout(ended, deadline - now).unwrap().0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn ends_when_the_last_connection_does() {
        let live = Live::new(2);
        live.conn_done();
        assert_eq!(live.ended(), None);
        let far = Instant::now() + Duration::from_secs(60);
        let live = Arc::new(live);
        let waiter = {
            let live = live.clone();
            std::thread::spawn(move || live.wait_until(far))
        };
        live.conn_done();
        let ended = live.ended().expect("ended");
        assert_eq!(waiter.join().unwrap(), ended);
    }

    #[test]
    fn wait_returns_at_the_deadline_while_connections_live() {
        let live = Live::new(1);
        let deadline = Instant::now() + Duration::from_millis(20);
        assert_eq!(live.wait_until(deadline), deadline);
    }
}
