//! Per-core echo counters and the `--stats-interval` rates computed from them.

use crate::metrics::tally::Tally;

/// One core's counters: only that core writes them; `/metrics` reads them
/// from any thread (on cache lines of their own, see `metrics::tally`).
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct CoreCounters {
    pub accepted: Tally,
    pub open: Tally,
    /// Receive completions echoed back (each one buffer the kernel filled).
    pub recvs: Tally,
    pub bytes: Tally,
}

impl CoreCounters {
    pub fn echoed(&self, bytes: usize) {
        self.recvs.add(1);
        self.bytes.add(bytes as u64);
    }

    pub fn opened(&self) {
        self.accepted.add(1);
        self.open.add(1);
    }

    pub fn closed(&self) {
        self.open.sub(1);
    }

    /// The monotonic counters now, plus the runtime's io_uring_enter count.
    pub fn sample(&self, enters: u64) -> Sample {
        Sample {
            recvs: self.recvs.get(),
            bytes: self.bytes.get(),
            enters,
        }
    }
}

/// Monotonic counters at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    pub recvs: u64,
    pub bytes: u64,
    pub enters: u64,
}

/// Rates between two samples `secs` apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Receive completions echoed per second: a recv takes what has arrived, so one can hold
    /// several of a client's messages (or part of one); the stream has no message framing.
    pub recvs_per_s: f64,
    pub mb_per_s: f64,
    /// io_uring_enter calls per echoed receive (None when none).
    pub enters_per_recv: Option<f64>,
}

impl Rates {
    pub fn between(before: Sample, after: Sample, secs: f64) -> Rates {
        let recvs = after.recvs - before.recvs;
        let secs = secs.max(f64::MIN_POSITIVE);
        Rates {
            recvs_per_s: recvs as f64 / secs,
            mb_per_s: (after.bytes - before.bytes) as f64 / secs / 1e6,
            enters_per_recv: (recvs > 0)
                .then(|| (after.enters - before.enters) as f64 / recvs as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_track_open_connections_and_traffic() {
        let c = CoreCounters::default();
        c.opened();
        c.opened();
        c.closed();
        c.echoed(64);
        c.echoed(36);
        assert_eq!((c.accepted.get(), c.open.get()), (2, 1));
        assert_eq!(
            c.sample(9),
            Sample {
                recvs: 2,
                bytes: 100,
                enters: 9
            }
        );
    }

    #[test]
    fn rates_over_an_interval() {
        let a = Sample {
            recvs: 100,
            bytes: 1_000,
            enters: 10,
        };
        let b = Sample {
            recvs: 2_100,
            bytes: 2_001_000,
            enters: 110,
        };
        let r = Rates::between(a, b, 2.0);
        assert_eq!(r.recvs_per_s, 1000.0);
        assert_eq!(r.mb_per_s, 1.0);
        assert_eq!(r.enters_per_recv, Some(0.05));
        assert_eq!(Rates::between(b, b, 1.0).enters_per_recv, None);
    }
}
