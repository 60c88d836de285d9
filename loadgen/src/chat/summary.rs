//! The result of a chat run: printed for people, serialised for `--json`.

use crate::errors::Errors;
use crate::latency::{human_us, Percentiles};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatSummary {
    pub addr: String,
    pub clients: u64,
    pub channels: u64,
    pub joins: u64,
    pub rate: u64,
    pub size: u64,
    pub cores: u64,
    /// Sending time, seconds.
    pub duration_s: f64,
    /// PRIVMSGs written to the server.
    pub sent: u64,
    /// Deliveries the sent messages should produce (channel members minus the sender).
    pub expected: u64,
    /// Distinct deliveries received.
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub deliveries_per_s: f64,
    /// From intended send time to receipt by each member.
    pub latency: Percentiles,
    pub errors: Errors,
    pub error_total: u64,
}

impl fmt::Display for ChatSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "chat {}: {} clients, {} channels, {} joins each, {} msg/s, {} B, {} cores, {:.1} s",
            self.addr,
            self.clients,
            self.channels,
            self.joins,
            self.rate,
            self.size,
            self.cores,
            self.duration_s
        )?;
        writeln!(f, "  sent               {}", self.sent)?;
        writeln!(
            f,
            "  deliveries         {} expected, {} delivered ({:.0}/s)",
            self.expected, self.delivered, self.deliveries_per_s
        )?;
        writeln!(
            f,
            "  lost/dup/reorder   {} / {} / {}",
            self.lost, self.duplicated, self.out_of_order
        )?;
        let p = &self.latency;
        writeln!(
            f,
            "  delivery latency   p50 {}  p99 {}  p99.9 {}  max {}",
            human_us(p.p50_us),
            human_us(p.p99_us),
            human_us(p.p999_us),
            human_us(p.max_us)
        )?;
        writeln!(f, "  errors             {}", self.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_loss_and_order_counts() {
        let s = ChatSummary {
            addr: "127.0.0.1:6667".into(),
            clients: 1000,
            channels: 50,
            joins: 1,
            rate: 1000,
            size: 64,
            cores: 2,
            duration_s: 5.0,
            sent: 5000,
            expected: 95_000,
            delivered: 94_990,
            lost: 10,
            duplicated: 1,
            out_of_order: 2,
            deliveries_per_s: 18_998.0,
            latency: Percentiles::of(&crate::latency::histogram()),
            errors: Errors::default(),
            error_total: 0,
        };
        let text = s.to_string();
        assert!(text.contains("95000 expected, 94990 delivered"), "{text}");
        assert!(text.contains("10 / 1 / 2"), "{text}");
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["lost"], 10);
        assert_eq!(v["out_of_order"], 2);
    }
}
