//! Prometheus metrics for both servers (`--metrics ADDR`, `GET /metrics`).
//!
//! Why this shape: the hot path must pay no lock and no allocation for
//! being observable. Each core writes its own counters ([`tally::Tally`],
//! a plain atomic store on a cache line no other core writes); a scrape
//! reads them all, asks each core for its runtime counters (one small task
//! per core), and encodes the Prometheus text format (0.0.4) with the
//! `prometheus-client` crate, building its registry for that scrape only.
//!
//! Families (prefix `uringo_`; `core` label = runtime core):
//! - runtime: `tasks`, `ops_in_flight` (gauges), `sqes_total`,
//!   `cqes_total`, `ring_enters_total` (io_uring_enter calls),
//!   `stalls_total` (tasks past the stall threshold).
//! - echo: `echo_connections_open`, `echo_connections_total`,
//!   `echo_bytes_total`, `echo_messages_total`.
//! - chat: `chat_clients`, `chat_channels`, `chat_lines_in_total`,
//!   `chat_deliveries_total`, `chat_sendq_disconnects_total`,
//!   `chat_flood_throttles_total`, `chat_error_numerics_total{code}`,
//!   `chat_fanout_seconds` (histogram); with `--cluster`:
//!   `cluster_publishes_total`, `cluster_receives_total`,
//!   `cluster_reconnects_total`, `cluster_dropped_total`, `cluster_outbox`.

mod chat;
mod echo;
mod family;
#[cfg(feature = "metrics-http")]
pub mod http;
mod runtime;
pub mod tally;

use std::sync::{Arc, Mutex};

use prometheus_client::encoding::prometheus_text;
use prometheus_client::registry::Registry;

pub use chat::{count, counting, ChatCore};
pub use echo::EchoCores;
pub use prometheus_text::CONTENT_TYPE;

use crate::cluster::ClusterCounters;
use tally::PerCore;

/// What one server exports; cheap to clone and `Send`, so every core and
/// the scrape handler can hold it.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    echo: Option<EchoCores>,
    chat: Option<Arc<[PerCore<ChatCore>]>>,
    /// Registered once per core at start; read at scrape (never on the hot path).
    cluster: Arc<Mutex<Vec<Arc<ClusterCounters>>>>,
}

impl Metrics {
    /// The echo server's metrics over `counters` (one slot per core).
    pub fn echo(counters: EchoCores) -> Metrics {
        Metrics {
            echo: Some(counters),
            ..Metrics::default()
        }
    }

    /// The chat server's metrics with a fresh slot for each of `cores`.
    pub fn chat(cores: usize) -> Metrics {
        Metrics {
            chat: Some((0..cores).map(|_| PerCore::default()).collect()),
            ..Metrics::default()
        }
    }

    /// Core `core`'s chat counters (for that core to write).
    ///
    /// # Panics
    /// If these are not chat metrics or `core` is out of range.
    #[cfg(test)]
    pub fn chat_core(&self, core: usize) -> &ChatCore {
        &self.chat.as_ref().expect("chat metrics")[core]
    }

    /// Makes this thread (runtime core `core`) count into its chat slot.
    pub fn install_chat(&self, core: usize) {
        if let Some(chat) = &self.chat {
            chat::install(chat.clone(), core);
        }
    }

    /// Adds a cluster client's counters (one per core, at start).
    pub fn add_cluster(&self, counters: Arc<ClusterCounters>) {
        self.cluster
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(counters);
    }

    /// One scrape, from a runtime thread: every core's runtime counters
    /// and the server's, in the Prometheus text format.
    pub async fn scrape(&self) -> String {
        self.render(runtime::gather().await)
    }

    /// Encodes the server's counters and `cores` (one per runtime core).
    pub fn render(&self, cores: Vec<uringo::CoreStats>) -> String {
        let mut registry = Registry::with_prefix("uringo");
        registry.register_collector(Box::new(runtime::RuntimeCollector(cores)));
        if let Some(echo) = &self.echo {
            registry.register_collector(Box::new(echo::EchoCollector(echo.clone())));
        }
        if let Some(chat) = &self.chat {
            let cluster = self
                .cluster
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let collector = chat::ChatCollector {
                cores: chat.clone(),
                cluster,
            };
            registry.register_collector(Box::new(collector));
        }
        let mut text = String::with_capacity(8 * 1024);
        prometheus_text::encode(&mut text, &registry).expect("writing to a String cannot fail");
        text
    }
}

/// Serves `/metrics` on `addr` until `stop` (see `http::spawn`); an error
/// if the address cannot be bound or the binary was built without the
/// `metrics-http` feature.
pub fn serve(
    addr: std::net::SocketAddr,
    metrics: Metrics,
    stop: impl std::future::Future<Output = ()> + 'static,
) -> std::io::Result<std::net::SocketAddr> {
    #[cfg(feature = "metrics-http")]
    return http::spawn(addr, metrics, stop);
    #[cfg(not(feature = "metrics-http"))]
    {
        drop((metrics, stop));
        Err(std::io::Error::other(format!(
            "--metrics {addr}: this uringo-server was built without the metrics-http feature"
        )))
    }
}

#[cfg(test)]
mod tests;
