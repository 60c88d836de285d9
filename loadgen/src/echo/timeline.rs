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
    /// `measure_from` and `end` in [`nanos`](Timeline::nanos), for the closed loop's per-message
    /// checks.
    measure_from_ns: u64,
    end_ns: u64,
}

impl Timeline {
    pub fn new(start: Instant, warmup: Duration, duration: Duration) -> Self {
        let measure_from = start + warmup;
        let end = measure_from + duration;
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Timeline {
            start,
            measure_from,
            end,
            drain_until: end + DRAIN,
            measure_from_ns: nanos(warmup),
            end_ns: nanos(warmup).saturating_add(nanos(duration)),
        }
    }

    /// `t` as nanoseconds since the start of the run (0 before it): the closed loop keeps its
    /// send times in this unit, so that a latency is an integer subtraction.
    pub fn nanos(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.start).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Whether `ns` ([`nanos`](Timeline::nanos)) lies in the measured window.
    pub fn measured_nanos(&self, ns: u64) -> bool {
        ns >= self.measure_from_ns && ns < self.end_ns
    }

    /// Whether the measured window has ended by `ns` ([`nanos`](Timeline::nanos)).
    pub fn ended_by_nanos(&self, ns: u64) -> bool {
        ns >= self.end_ns
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

    #[test]
    fn nanosecond_checks_agree_with_instants() {
        let t0 = Instant::now();
        let tl = Timeline::new(t0, Duration::from_secs(1), Duration::from_millis(2500));
        for ms in [0, 999, 1000, 1001, 3499, 3500, 3501] {
            let t = t0 + Duration::from_millis(ms);
            assert_eq!(tl.nanos(t), ms * 1_000_000);
            assert_eq!(tl.measured_nanos(tl.nanos(t)), tl.measured(t), "{ms} ms");
        }
        assert!(tl.measured_nanos(3_499_999_999) && !tl.measured_nanos(3_500_000_000));
        assert!(!tl.measured_nanos(999_999_999) && tl.measured_nanos(1_000_000_000));
        assert!(!tl.ended_by_nanos(3_499_999_999) && tl.ended_by_nanos(3_500_000_000));
    }
}
