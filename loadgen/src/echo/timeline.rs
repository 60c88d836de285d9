//! The phases of a run on the clock: warmup, measured window, drain.

use std::time::{Duration, Instant};

/// How long, after sending stops, loadgen waits for the last echoes before counting them as
/// timeouts.
pub const DRAIN: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    pub start: Instant,
    /// Start of the measured window (end of warmup).
    pub measure_from: Instant,
    /// End of the measured window; no message is sent at or after it.
    pub end: Instant,
    /// Last moment to wait for outstanding echoes.
    pub drain_until: Instant,
}

impl Timeline {
    pub fn new(start: Instant, warmup: Duration, duration: Duration) -> Self {
        let measure_from = start + warmup;
        let end = measure_from + duration;
        Timeline {
            start,
            measure_from,
            end,
            drain_until: end + DRAIN,
        }
    }

    /// Whether `t` lies in the measured window.
    pub fn measured(&self, t: Instant) -> bool {
        t >= self.measure_from && t < self.end
    }

    /// End of report second `n` (1-based), capped at the end of the run.
    pub fn second_end(&self, n: u64) -> Instant {
        (self.start + Duration::from_secs(n)).min(self.end)
    }

    /// Whether report second `n` lies wholly in the warmup.
    pub fn second_is_warmup(&self, n: u64) -> bool {
        self.second_end(n) <= self.measure_from
    }

    pub fn window(&self) -> Duration {
        self.end - self.measure_from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_follow_each_other() {
        let t0 = Instant::now();
        let tl = Timeline::new(t0, Duration::from_secs(1), Duration::from_millis(2500));
        assert!(!tl.measured(t0));
        assert!(tl.measured(t0 + Duration::from_secs(1)));
        assert!(!tl.measured(t0 + Duration::from_millis(3500)));
        assert_eq!(tl.window(), Duration::from_millis(2500));
        assert!(tl.second_is_warmup(1));
        assert!(!tl.second_is_warmup(2));
        assert_eq!(tl.second_end(4), t0 + Duration::from_millis(3500));
        assert_eq!(tl.drain_until, tl.end + DRAIN);
    }
}
