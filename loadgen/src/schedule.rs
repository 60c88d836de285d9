//! Open-loop send schedule: when each message *should* be sent.
//!
//! With `--rate R` over `C` connections, global message `n` is due at `n / R` seconds after the
//! start, and message `n` belongs to connection `n % C`. So connection `c` sends its `k`-th
//! message at `(k * C + c) / R`: connections are evenly interleaved and the total rate is exact
//! with no drift (integer nanoseconds from the start, never accumulated intervals).
//!
//! Latency in open loop is measured from this intended time, not from when the send actually
//! happened. A stalled server delays sends too; measuring from the actual send would hide that
//! stall from the histogram (coordinated omission, as wrk2 corrects it).

use std::time::Duration;

/// The schedule of one connection among `conns` sharing `rate` messages per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    conn: u64,
    conns: u64,
    rate: u64,
}

impl Schedule {
    pub fn new(conn: u64, conns: u64, rate: u64) -> Self {
        assert!(conns > 0 && rate > 0 && conn < conns, "invalid schedule");
        Schedule { conn, conns, rate }
    }

    /// Offset from the start at which this connection's `k`-th message is due.
    pub fn due(&self, k: u64) -> Duration {
        let n = k as u128 * self.conns as u128 + self.conn as u128;
        let nanos = n * 1_000_000_000 / self.rate as u128;
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// How many of this connection's messages are due at or before `elapsed`.
    pub fn due_by(&self, elapsed: Duration) -> u64 {
        // message k is due iff floor((k*C + c) * 1e9 / R) <= t  <=>  (k*C + c) * 1e9 < (t + 1) * R
        let t = elapsed.as_nanos();
        let limit = (t + 1) * self.rate as u128; // n * 1e9 < limit
        let n_max = (limit - 1) / 1_000_000_000; // largest n with n * 1e9 <= limit - 1
        if n_max < self.conn as u128 {
            return 0;
        }
        let k = (n_max - self.conn as u128) / self.conns as u128 + 1;
        u64::try_from(k).unwrap_or(u64::MAX)
    }
}

/// How many messages, over all connections, `rate` per second makes due strictly before
/// `elapsed`: global message `n` is due at `floor(n * 1e9 / rate)` ns, which is below `t` iff
/// `n * 1e9 < t * rate`.
pub fn due_before(rate: u64, elapsed: Duration) -> u64 {
    let limit = elapsed.as_nanos() * rate as u128;
    u64::try_from(limit.div_ceil(1_000_000_000)).unwrap_or(u64::MAX)
}

/// The connection ids (of `0..conns`) that core `core` of `cores` runs.
pub fn conns_of_core(core: usize, cores: usize, conns: usize) -> impl Iterator<Item = usize> {
    (core..conns).step_by(cores.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_rate_is_exact_across_connections() {
        let (conns, rate) = (7, 1000);
        let scheds: Vec<_> = (0..conns).map(|c| Schedule::new(c, conns, rate)).collect();
        let mut times: Vec<Duration> = scheds
            .iter()
            .flat_map(|s| (0..1000).map(move |k| s.due(k)))
            .collect();
        times.sort();
        // 7000 messages at 1000/s: the n-th is due at exactly n ms.
        for (n, t) in times.iter().enumerate() {
            assert_eq!(*t, Duration::from_millis(n as u64));
        }
    }

    #[test]
    fn connections_are_interleaved() {
        let s0 = Schedule::new(0, 4, 400);
        let s3 = Schedule::new(3, 4, 400);
        assert_eq!(s0.due(0), Duration::ZERO);
        assert_eq!(s3.due(0), Duration::from_micros(7500));
        assert_eq!(s0.due(1), Duration::from_millis(10));
    }

    #[test]
    fn non_integer_intervals_do_not_drift() {
        let s = Schedule::new(0, 1, 3);
        assert_eq!(s.due(3), Duration::from_secs(1));
        assert_eq!(s.due(3_000_000), Duration::from_secs(1_000_000));
        assert_eq!(s.due(1), Duration::from_nanos(333_333_333));
    }

    #[test]
    fn due_by_agrees_with_due() {
        for (c, conns, rate) in [(0, 1, 3), (2, 5, 1000), (4, 5, 7), (1, 128, 50_000)] {
            let s = Schedule::new(c, conns, rate);
            for k in 0..50 {
                let t = s.due(k);
                assert_eq!(s.due_by(t), k + 1, "at due({k}) {c}/{conns}@{rate}");
                if t > Duration::ZERO {
                    assert_eq!(s.due_by(t - Duration::from_nanos(1)), k);
                }
            }
        }
    }

    #[test]
    fn due_before_adds_up_the_connections() {
        for (conns, rate) in [(1, 3), (5, 1000), (5, 7), (128, 50_000)] {
            for t in [0, 1, 333_333_333, 1_000_000_000, 2_500_000_017] {
                let t = Duration::from_nanos(t);
                let sum: u64 = (0..conns)
                    .map(|c| Schedule::new(c, conns, rate).due_by(t))
                    .sum();
                // due_by counts up to and including t; due_before stops short of it.
                let at_t = (0..conns)
                    .filter(|&c| {
                        let s = Schedule::new(c, conns, rate);
                        let k = s.due_by(t);
                        k > 0 && s.due(k - 1) == t
                    })
                    .count() as u64;
                assert_eq!(due_before(rate, t), sum - at_t, "{conns}@{rate} t={t:?}");
            }
        }
        assert_eq!(due_before(2000, Duration::from_secs(1)), 2000);
    }

    #[test]
    fn cores_split_connections_without_overlap() {
        let mut all: Vec<usize> = (0..3).flat_map(|core| conns_of_core(core, 3, 10)).collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(conns_of_core(1, 3, 10).collect::<Vec<_>>(), vec![1, 4, 7]);
    }
}
