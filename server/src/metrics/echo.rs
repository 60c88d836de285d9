//! The echo server's families, read from its per-core counters.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

use super::family::{per_core, Type};
use crate::echo::CoreCounters;

/// Every core's echo counters (core `i` writes slot `i`).
pub type EchoCores = Arc<[Arc<CoreCounters>]>;

#[derive(Debug)]
pub struct EchoCollector(pub EchoCores);

impl Collector for EchoCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let each = |f: fn(&CoreCounters) -> u64| self.0.iter().map(|c| f(c)).collect::<Vec<_>>();
        per_core(
            &mut e,
            (
                "echo_connections_open",
                "Connections open now.",
                Type::Gauge,
            ),
            each(|c| c.open.get()),
        )?;
        per_core(
            &mut e,
            ("echo_connections", "Connections accepted.", Type::Counter),
            each(|c| c.accepted.get()),
        )?;
        per_core(
            &mut e,
            ("echo_bytes", "Bytes echoed.", Type::Counter),
            each(|c| c.bytes.get()),
        )?;
        per_core(
            &mut e,
            (
                "echo_messages",
                "Received chunks echoed back.",
                Type::Counter,
            ),
            each(|c| c.recvs.get()),
        )
    }
}
