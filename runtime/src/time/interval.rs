//! `interval`: ticks at a fixed period, with a choice of what to do about
//! ticks missed while the task was busy.

use std::future::poll_fn;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use super::{sleep_until, Sleep};

/// What an [`Interval`] does when a tick is handed out late (the task was
/// busy for more than a period), as tokio's `MissedTickBehavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Hand out the missed ticks at once, one per `tick()`, until back on
    /// the original grid (the number of ticks over time is kept).
    Burst,
    /// Start a new grid: the next tick is a period after the late one was
    /// taken (the spacing between ticks is kept).
    Delay,
    /// Drop the missed ticks: the next tick is the next point of the
    /// original grid in the future (the phase is kept). The default, as
    /// Go's `time.Ticker` drops ticks for a slow receiver. tokio's default
    /// is `Burst`.
    #[default]
    Skip,
}

/// Ticks every `period`; the first tick completes at once. Missed ticks
/// are skipped (see [`MissedTickBehavior`]).
///
/// # Panics
/// If `period` is zero.
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// ```
/// use std::time::{Duration, Instant};
/// use uringo::time::{interval_at, MissedTickBehavior};
///
/// uringo::start(async {
///     let start = Instant::now() + Duration::from_millis(2);
///     let mut ticks = interval_at(start, Duration::from_millis(1));
///     ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
///     assert_eq!(ticks.tick().await, start);
///     assert_eq!(ticks.tick().await, start + Duration::from_millis(1));
/// });
/// ```
///
/// # Panics
/// If `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "interval period must be non-zero");
    Interval {
        period,
        next: start,
        sleep: sleep_until(start),
        missed: MissedTickBehavior::default(),
    }
}

/// See [`interval`].
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    next: Instant,
    sleep: Sleep,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| Pin::new(&mut self.sleep).poll(cx)).await;
        let tick = self.next;
        let next = self.after(tick, Instant::now());
        self.next = next;
        self.sleep.reset(next);
        tick
    }

    /// The tick after `tick`, taken at `now`.
    fn after(&self, tick: Instant, now: Instant) -> Instant {
        let on_grid = tick + self.period;
        if on_grid > now {
            return on_grid;
        }
        match self.missed {
            MissedTickBehavior::Burst => on_grid,
            MissedTickBehavior::Delay => now + self.period,
            MissedTickBehavior::Skip => {
                let behind = now.duration_since(tick).as_nanos() / self.period.as_nanos();
                tick + self.period * (behind as u32 + 1)
            }
        }
    }

    /// Starts over: the next tick is a period from now.
    pub fn reset(&mut self) {
        self.next = Instant::now() + self.period;
        self.sleep.reset(self.next);
    }

    /// What missed ticks do.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets what missed ticks do.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(behavior: MissedTickBehavior) -> Interval {
        Interval {
            period: Duration::from_millis(10),
            next: Instant::now(),
            sleep: sleep_until(Instant::now()),
            missed: behavior,
        }
    }

    #[test]
    fn each_behavior_picks_its_next_tick_after_a_late_one() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        // The tick at t0 is taken 25 ms late.
        let late = t0 + ms(25);
        assert_eq!(at(MissedTickBehavior::Burst).after(t0, late), t0 + ms(10));
        assert_eq!(at(MissedTickBehavior::Delay).after(t0, late), late + ms(10));
        assert_eq!(at(MissedTickBehavior::Skip).after(t0, late), t0 + ms(30));
        // On time, all three keep the grid.
        for b in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            assert_eq!(at(b).after(t0, t0 + ms(3)), t0 + ms(10));
        }
    }
}
