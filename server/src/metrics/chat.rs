//! The chat server's counters (one [`ChatCore`] per core, written by that
//! core) and their families, with the cluster client's counters.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;

use super::family::{labelled, per_core, Type};
use super::tally::{merge, Histogram, PerCore, Tally};
use crate::cluster::ClusterCounters;

/// Numerics counted by code: 400..600 (the error replies).
const NUMERICS: std::ops::Range<u16> = 400..600;

/// One core's chat counters. Only that core calls the methods.
#[derive(Debug)]
pub struct ChatCore {
    clients: Tally,
    channels: Tally,
    lines_in: Tally,
    deliveries: Tally,
    sendq_disconnects: Tally,
    throttles: Tally,
    numerics: [Tally; (NUMERICS.end - NUMERICS.start) as usize],
    fanout: Histogram,
}

impl Default for ChatCore {
    fn default() -> ChatCore {
        ChatCore {
            clients: Tally::default(),
            channels: Tally::default(),
            lines_in: Tally::default(),
            deliveries: Tally::default(),
            sendq_disconnects: Tally::default(),
            throttles: Tally::default(),
            numerics: std::array::from_fn(|_| Tally::default()),
            fanout: Histogram::default(),
        }
    }
}

impl ChatCore {
    pub fn client_connected(&self) {
        self.clients.add(1);
    }
    pub fn client_gone(&self) {
        self.clients.sub(1);
    }
    /// The channels this core owns now.
    pub fn set_channels(&self, n: usize) {
        self.channels.set(n as u64);
    }
    pub fn line_in(&self) {
        self.lines_in.add(1);
    }
    /// Lines written to `n` local clients.
    pub fn delivered(&self, n: usize) {
        self.deliveries.add(n as u64);
    }
    pub fn sendq_disconnect(&self) {
        self.sendq_disconnects.add(1);
    }
    pub fn throttled(&self) {
        self.throttles.add(1);
    }
    /// An error numeric sent to a client (other codes are not counted).
    pub fn numeric(&self, code: u16) {
        if NUMERICS.contains(&code) {
            self.numerics[(code - NUMERICS.start) as usize].add(1);
        }
    }
    /// How long one channel message took from its owner to its last local
    /// member's queue.
    pub fn fanout(&self, took: Duration) {
        self.fanout.observe(took);
    }
}

thread_local! {
    /// This core's slot, once `install`ed (runtime threads of a chat server
    /// started with `--metrics`); elsewhere counting does nothing.
    static HERE: std::cell::OnceCell<(Arc<[PerCore<ChatCore>]>, usize)> = const { std::cell::OnceCell::new() };
}

/// Makes `cores[core]` the slot this thread counts into.
pub fn install(cores: Arc<[PerCore<ChatCore>]>, core: usize) {
    HERE.with(|here| {
        let _ = here.set((cores, core));
    });
}

/// Whether this thread counts (so callers can skip measuring for nothing).
pub fn counting() -> bool {
    HERE.with(|here| here.get().is_some())
}

/// Counts on this core's slot, if there is one.
pub fn count(f: impl FnOnce(&ChatCore)) {
    HERE.with(|here| {
        if let Some((cores, core)) = here.get() {
            f(&cores[*core]);
        }
    });
}

/// Every core's chat counters and the cluster clients' (if `--cluster`).
#[derive(Debug)]
pub struct ChatCollector {
    pub cores: Arc<[PerCore<ChatCore>]>,
    pub cluster: Vec<Arc<ClusterCounters>>,
}

impl Collector for ChatCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let each =
            |f: fn(&ChatCore) -> &Tally| self.cores.iter().map(|c| f(c).get()).collect::<Vec<_>>();
        per_core(
            &mut e,
            ("chat_clients", "Connected clients.", Type::Gauge),
            each(|c| &c.clients),
        )?;
        per_core(
            &mut e,
            ("chat_channels", "Channels owned by the core.", Type::Gauge),
            each(|c| &c.channels),
        )?;
        per_core(
            &mut e,
            (
                "chat_lines_in",
                "IRC lines received from clients.",
                Type::Counter,
            ),
            each(|c| &c.lines_in),
        )?;
        let deliveries = (
            "chat_deliveries",
            "Lines queued to local clients.",
            Type::Counter,
        );
        per_core(&mut e, deliveries, each(|c| &c.deliveries))?;
        let sendq = (
            "chat_sendq_disconnects",
            "Clients disconnected for exceeding their SendQ.",
            Type::Counter,
        );
        per_core(&mut e, sendq, each(|c| &c.sendq_disconnects))?;
        let flood = (
            "chat_flood_throttles",
            "Lines delayed by flood control.",
            Type::Counter,
        );
        per_core(&mut e, flood, each(|c| &c.throttles))?;
        self.encode_numerics(&mut e)?;
        self.encode_fanout(&mut e)?;
        self.encode_cluster(&mut e)
    }
}

impl ChatCollector {
    fn encode_numerics(&self, e: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let samples = NUMERICS.filter_map(|code| {
            let i = (code - NUMERICS.start) as usize;
            let n: u64 = self.cores.iter().map(|c| c.numerics[i].get()).sum();
            (n > 0).then(|| (code.to_string(), n))
        });
        let desc = (
            "chat_error_numerics",
            "Error numerics sent to clients, by code.",
            Type::Counter,
        );
        labelled(e, desc, "code", samples.collect::<Vec<_>>())
    }

    fn encode_fanout(&self, e: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let (sum, count, buckets) = merge(self.cores.iter().map(|c| &c.fanout));
        let help = "Time from a channel message's owner to its last local member's queue.";
        let metric =
            e.encode_descriptor("chat_fanout_seconds", help, None, MetricType::Histogram)?;
        let histogram = ConstHistogram {
            sum,
            count,
            buckets,
        };
        histogram.encode(metric)
    }

    fn encode_cluster(&self, e: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        if self.cluster.is_empty() {
            return Ok(());
        }
        let field = |i: usize| {
            self.cluster
                .iter()
                .map(|c| c.snapshot()[i])
                .collect::<Vec<_>>()
        };
        per_core(
            e,
            (
                "cluster_publishes",
                "Messages published to Redis.",
                Type::Counter,
            ),
            field(0),
        )?;
        per_core(
            e,
            (
                "cluster_receives",
                "Messages received from Redis.",
                Type::Counter,
            ),
            field(1),
        )?;
        per_core(
            e,
            (
                "cluster_reconnects",
                "Reconnections to Redis.",
                Type::Counter,
            ),
            field(2),
        )?;
        let dropped = (
            "cluster_dropped",
            "Channel lines dropped: outbox full (Redis away) or bridge queue full.",
            Type::Counter,
        );
        per_core(e, dropped, field(3))?;
        per_core(
            e,
            (
                "cluster_outbox",
                "Publishes waiting for Redis.",
                Type::Gauge,
            ),
            field(4),
        )
    }
}

/// A histogram already summed (prometheus-client's own `Histogram` is one
/// shared, locked value; ours are per core and lock-free).
#[derive(Debug)]
struct ConstHistogram {
    sum: f64,
    count: u64,
    buckets: Vec<(f64, u64)>,
}

impl EncodeMetric for ConstHistogram {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::MetricEncoder,
    ) -> Result<(), std::fmt::Error> {
        encoder.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
            self.sum,
            self.count,
            &self.buckets,
            None,
        )
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}
