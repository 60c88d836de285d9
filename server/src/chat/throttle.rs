//! Flood throttling, as IRC servers do it: a client may send a burst of
//! lines, then lines are taken at a steady rate and the rest wait (in the
//! socket, since the reader stops reading). Nothing is dropped.

use std::time::{Duration, Instant};

/// Kept per connection (in its task), so as the integers it was given.
pub struct Throttle {
    burst: u32,
    /// Lines per second; 0 disables throttling.
    rate: u32,
    tokens: f64,
    last: Instant,
}

impl Throttle {
    pub fn new(burst: u32, rate: u32, now: Instant) -> Self {
        let burst = burst.max(1);
        Throttle {
            burst,
            rate,
            tokens: f64::from(burst),
            last: now,
        }
    }

    /// Takes one line's token; if none is left, how long to wait first.
    pub fn take(&mut self, now: Instant) -> Option<Duration> {
        if self.rate == 0 {
            return None;
        }
        let rate = f64::from(self.rate);
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * rate).min(f64::from(self.burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return None;
        }
        let wait = (1.0 - self.tokens) / rate;
        self.tokens -= 1.0;
        Some(Duration::from_secs_f64(wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_rate() {
        let t0 = Instant::now();
        let mut t = Throttle::new(3, 2, t0);
        assert_eq!(t.take(t0), None);
        assert_eq!(t.take(t0), None);
        assert_eq!(t.take(t0), None);
        let w = t.take(t0).unwrap();
        assert!((w.as_secs_f64() - 0.5).abs() < 1e-6, "{w:?}");
        // after waiting, the next line waits another half second
        let t1 = t0 + w;
        let w2 = t.take(t1).unwrap();
        assert!((w2.as_secs_f64() - 0.5).abs() < 1e-6, "{w2:?}");
        // a long pause refills only up to the burst
        let t2 = t1 + w2 + Duration::from_secs(100);
        for _ in 0..3 {
            assert_eq!(t.take(t2), None);
        }
        assert!(t.take(t2).is_some());
    }

    #[test]
    fn zero_rate_is_unlimited() {
        let t0 = Instant::now();
        let mut t = Throttle::new(1, 0, t0);
        assert!((0..10_000).all(|_| t.take(t0).is_none()));
    }
}
