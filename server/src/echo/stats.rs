//! Per-core echo counters and the `--stats-interval` rates computed from them.

use crate::metrics::tally::Tally;

/// One core's counters: only that core writes them; `/metrics` reads them
/// from any thread (on cache lines of their own, see `metrics::tally`).
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct CoreCounters {
    pub accepted: Tally,
    pub open: Tally,
    pub messages: Tally,
    pub bytes: Tally,
}

impl CoreCounters {
    pub fn echoed(&self, bytes: usize) {
        self.messages.add(1);
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
            messages: self.messages.get(),
            bytes: self.bytes.get(),
            enters,
        }
    }
}

/// Monotonic counters at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    pub messages: u64,
    pub bytes: u64,
    pub enters: u64,
}

/// Rates between two samples `secs` apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub msgs_per_s: f64,
    pub mb_per_s: f64,
    /// io_uring_enter calls per echoed message (None when no messages).
    pub enters_per_msg: Option<f64>,
}

impl Rates {
    pub fn between(before: Sample, after: Sample, secs: f64) -> Rates {
        let msgs = after.messages - before.messages;
        let secs = secs.max(f64::MIN_POSITIVE);
        Rates {
            msgs_per_s: msgs as f64 / secs,
            mb_per_s: (after.bytes - before.bytes) as f64 / secs / 1e6,
            enters_per_msg: (msgs > 0).then(|| (after.enters - before.enters) as f64 / msgs as f64),
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
                messages: 2,
                bytes: 100,
                enters: 9
            }
        );
    }

    #[test]
    fn rates_over_an_interval() {
        let a = Sample {
            messages: 100,
            bytes: 1_000,
            enters: 10,
        };
        let b = Sample {
            messages: 2_100,
            bytes: 2_001_000,
            enters: 110,
        };
        let r = Rates::between(a, b, 2.0);
        assert_eq!(r.msgs_per_s, 1000.0);
        assert_eq!(r.mb_per_s, 1.0);
        assert_eq!(r.enters_per_msg, Some(0.05));
        assert_eq!(Rates::between(b, b, 1.0).enters_per_msg, None);
    }
}
