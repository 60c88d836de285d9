//! `interval`: ticks at a fixed period.

use std::future::poll_fn;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use super::{sleep_until, Sleep};

/// Ticks every `period`; the first tick completes at once. A tick that is
/// overdue completes at once; the ticks missed after it are skipped and the
/// next one is the next multiple of `period` in the future.
///
/// # Panics
/// If `period` is zero.
pub fn interval(period: Duration) -> Interval {
    assert!(!period.is_zero(), "interval period must be non-zero");
    let now = Instant::now();
    Interval {
        period,
        next: now,
        sleep: sleep_until(now),
    }
}

/// See [`interval`].
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    next: Instant,
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| Pin::new(&mut self.sleep).poll(cx)).await;
        let tick = self.next;
        let now = Instant::now();
        let mut next = tick + self.period;
        if next <= now {
            let behind = now.duration_since(tick).as_nanos() / self.period.as_nanos();
            next = tick + self.period * (behind as u32 + 1);
        }
        self.next = next;
        self.sleep.reset(next);
        tick
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}
