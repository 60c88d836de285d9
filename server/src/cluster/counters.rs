//! The cluster's counters, shared with the metrics scraper (atomics, so a
//! scrape from another core reads them without a lock).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Totals since start of one cluster client.
#[derive(Debug, Default)]
pub struct ClusterCounters {
    /// Messages published to Redis (including flushed outbox entries).
    pub publishes: AtomicU64,
    /// Messages received from subscribed topics.
    pub receives: AtomicU64,
    /// Reconnections to Redis after the first connection.
    pub reconnects: AtomicU64,
    /// Publishes dropped because the outbox was full.
    pub dropped: AtomicU64,
    /// Publishes waiting in the outbox now.
    pub queued: AtomicU64,
}

impl ClusterCounters {
    pub(super) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    /// A consistent-enough copy for reporting.
    pub fn snapshot(&self) -> [u64; 5] {
        [
            self.publishes.load(Relaxed),
            self.receives.load(Relaxed),
            self.reconnects.load(Relaxed),
            self.dropped.load(Relaxed),
            self.queued.load(Relaxed),
        ]
    }
}
