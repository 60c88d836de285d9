//! The runtime's per-core counters (`uringo::stats()`), asked of every core
//! at scrape time: one small task per core per scrape, nothing on the hot
//! path.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use uringo::CoreStats;

use super::family::{per_core, Type};

/// Every core's counters, in core order.
pub async fn gather() -> Vec<CoreStats> {
    let asks: Vec<_> = (0..uringo::cores())
        .map(|core| uringo::spawn_on(core, || async { uringo::stats() }))
        .collect();
    let mut stats = Vec::with_capacity(asks.len());
    for ask in asks {
        stats.push(ask.await);
    }
    stats
}

/// One scrape's snapshot of [`gather`].
#[derive(Debug)]
pub struct RuntimeCollector(pub Vec<CoreStats>);

impl Collector for RuntimeCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let each = |f: fn(&CoreStats) -> u64| self.0.iter().map(f).collect::<Vec<_>>();
        per_core(
            &mut e,
            ("tasks", "Live tasks on the core.", Type::Gauge),
            each(|s| s.tasks),
        )?;
        per_core(
            &mut e,
            (
                "ops_in_flight",
                "Operations in the core's ring (kernel-owned until their last completion).",
                Type::Gauge,
            ),
            each(|s| s.ops_in_flight),
        )?;
        per_core(
            &mut e,
            ("sqes", "Submission queue entries pushed.", Type::Counter),
            each(|s| s.sqes),
        )?;
        per_core(
            &mut e,
            ("cqes", "Completion queue entries reaped.", Type::Counter),
            each(|s| s.cqes),
        )?;
        per_core(
            &mut e,
            (
                "ring_enters",
                "io_uring_enter system calls (epoll_wait on the epoll backend).",
                Type::Counter,
            ),
            each(|s| s.enters),
        )?;
        let stalls = (
            "stalls",
            "Polls that ran past the stall threshold without yielding.",
            Type::Counter,
        );
        per_core(&mut e, stalls, each(|s| s.stalls))?;
        per_core(
            &mut e,
            (
                "run_queue",
                "Tasks queued to run on the core, local and from other threads.",
                Type::Gauge,
            ),
            each(|s| s.run_queue),
        )?;
        per_core(
            &mut e,
            (
                "parks",
                "Times the core blocked in the kernel with nothing to run.",
                Type::Counter,
            ),
            each(|s| s.parks),
        )?;
        let remote_wakes = (
            "remote_wakes",
            "Tasks woken or spawned on the core from another thread.",
            Type::Counter,
        );
        per_core(&mut e, remote_wakes, each(|s| s.remote_wakes))
    }
}
