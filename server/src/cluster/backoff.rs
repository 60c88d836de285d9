//! Reconnect delays: exponential from `min` to `max`, with jitter so that
//! every node of a cluster does not reconnect to a restarted Redis at once.

use std::time::Duration;

/// Delays between reconnect attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
    seed: u64,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration, seed: u64) -> Backoff {
        Backoff {
            min,
            max,
            next: min,
            seed: seed | 1,
        }
    }

    /// The delay before the next attempt: the current step plus up to 25%
    /// jitter (never past `max`); the step then doubles.
    pub fn next_delay(&mut self) -> Duration {
        // xorshift64: jitter needs no quality, only spread.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let step = self.next;
        self.next = (self.next * 2).min(self.max);
        let jitter = step.mul_f64((self.seed % 1000) as f64 / 4000.0);
        (step + jitter).min(self.max)
    }

    /// After a success: start again from `min`.
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_max_with_bounded_jitter_and_resets() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(2));
        let mut b = Backoff::new(min, max, 7);
        let mut step = min;
        for _ in 0..10 {
            let d = b.next_delay();
            assert!(
                d >= step && d <= (step + step / 4).min(max),
                "{d:?} for step {step:?}"
            );
            step = (step * 2).min(max);
        }
        b.reset();
        assert!(b.next_delay() < min * 2);
    }
}
