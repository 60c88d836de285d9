//! The result of a chat run: printed for people, serialised for `--json` (and read back by
//! the chat benchmarks in benches/).

use crate::errors::Errors;
use crate::latency::{human_us, Percentiles};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatSummary {
    pub addr: String,
    pub clients: u64,
    pub channels: u64,
    pub joins: u64,
    /// Open loop: PRIVMSGs per second (ignored in closed loop).
    pub rate: u64,
    /// Closed loop: messages in flight per client.
    pub in_flight: Option<u64>,
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
    /// Channels whose receivers' orders were compared (those with two or more receivers).
    pub order_channels_checked: u64,
    /// Channels whose receivers saw some messages in different orders.
    pub order_conflicts: u64,
    pub deliveries_per_s: f64,
    /// From intended send time to receipt by each member.
    pub latency: Percentiles,
    pub errors: Errors,
    pub error_total: u64,
    pub cpu: ChatCpu,
}

/// CPU time from the start of sending to the end of the drain, per delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCpu {
    pub loadgen_cpu_s: f64,
    pub loadgen_us_per_delivery: Option<f64>,
    /// With `--server-pid`: the servers' user and kernel time, summed over the pids.
    pub server_user_s: Option<f64>,
    pub server_system_s: Option<f64>,
    pub server_us_per_delivery: Option<f64>,
}

impl fmt::Display for ChatSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "chat {}: {} clients, {} channels, {} joins each, {}, {} B, {} cores, {:.1} s",
            self.addr,
            self.clients,
            self.channels,
            self.joins,
            match self.in_flight {
                Some(k) => format!("closed loop {k} in flight per client"),
                None => format!("{} msg/s", self.rate),
            },
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
        writeln!(
            f,
            "  one order/channel  {} of {} channels disagree across receivers",
            self.order_conflicts, self.order_channels_checked
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
        writeln!(f, "  errors             {}", self.errors)?;
        let per = |v: Option<f64>| v.map_or("n/a".into(), |us| format!("{us:.2} us/delivery"));
        writeln!(
            f,
            "  loadgen cpu        {:.2} s, {}",
            self.cpu.loadgen_cpu_s,
            per(self.cpu.loadgen_us_per_delivery)
        )?;
        if let (Some(u), Some(s)) = (self.cpu.server_user_s, self.cpu.server_system_s) {
            writeln!(
                f,
                "  server cpu         {u:.2} s user + {s:.2} s kernel, {}",
                per(self.cpu.server_us_per_delivery)
            )?;
        }
        Ok(())
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
            in_flight: None,
            size: 64,
            cores: 2,
            duration_s: 5.0,
            sent: 5000,
            expected: 95_000,
            delivered: 94_990,
            lost: 10,
            duplicated: 1,
            out_of_order: 2,
            order_channels_checked: 50,
            order_conflicts: 1,
            deliveries_per_s: 18_998.0,
            latency: Percentiles::of(&crate::latency::histogram()),
            errors: Errors::default(),
            error_total: 0,
            cpu: ChatCpu {
                loadgen_cpu_s: 1.0,
                loadgen_us_per_delivery: Some(10.5),
                server_user_s: Some(0.5),
                server_system_s: Some(1.5),
                server_us_per_delivery: Some(21.05),
            },
        };
        let text = s.to_string();
        assert!(text.contains("95000 expected, 94990 delivered"), "{text}");
        assert!(text.contains("10 / 1 / 2"), "{text}");
        assert!(text.contains("1 of 50 channels disagree"), "{text}");
        assert!(
            text.contains("0.50 s user + 1.50 s kernel, 21.05 us/delivery"),
            "{text}"
        );
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["lost"], 10);
        assert_eq!(v["out_of_order"], 2);
        let back: ChatSummary = serde_json::from_value(v).unwrap();
        assert_eq!(back, s, "the JSON reads back as the same summary");
    }
}
