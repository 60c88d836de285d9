//! What one run offers (clients, channels, deliveries/s, how long) and when a ladder step
//! counts as kept up with.

use std::str::FromStr;
use std::time::Duration;

use uringo_benches::irc::chat_load::ChatResult;

/// `clients` in `channels`, one channel each, at `deliveries` per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    pub clients: u64,
    pub channels: u64,
    pub deliveries: u64,
}

impl Workload {
    /// Deliveries per message: every member of the sender's channel but the sender.
    pub fn fanout(&self) -> f64 {
        self.clients as f64 / self.channels as f64 - 1.0
    }

    /// PRIVMSGs per second that produce `deliveries` per second.
    pub fn rate(&self) -> u64 {
        (self.deliveries as f64 / self.fanout()).round().max(1.0) as u64
    }

    /// Deliveries per second the rate actually offers (`deliveries` up to rounding).
    pub fn offered(&self) -> f64 {
        self.rate() as f64 * self.fanout()
    }
}

/// `CLIENTS/CHANNELS`.
pub fn parse_shape(s: &str) -> Result<(u64, u64), String> {
    let (c, ch) = s
        .split_once('/')
        .ok_or_else(|| format!("`{s}` is not CLIENTS/CHANNELS"))?;
    let num = |x: &str| {
        x.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{x}` in `{s}` is not a number"))
    };
    let (clients, channels) = (num(c)?, num(ch)?);
    if channels == 0 || clients < 2 * channels {
        return Err(format!(
            "`{s}`: every channel needs two members or more (CLIENTS >= 2 x CHANNELS)"
        ));
    }
    Ok((clients, channels))
}

impl FromStr for Workload {
    type Err = String;
    /// `CLIENTS/CHANNELS/DELIVERIES_PER_S`, e.g. `5000/100/24500`.
    fn from_str(s: &str) -> Result<Workload, String> {
        let (shape, deliveries) = s
            .rsplit_once('/')
            .ok_or_else(|| format!("`{s}` is not CLIENTS/CHANNELS/DELIVERIES_PER_S"))?;
        let (clients, channels) = parse_shape(shape)?;
        let deliveries = deliveries
            .parse()
            .map_err(|_| format!("`{deliveries}` in `{s}` is not a number"))?;
        Ok(Workload {
            clients,
            channels,
            deliveries,
        })
    }
}

/// One run: a workload, for how long, as a fixed-rate case or a ladder step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub work: Workload,
    pub duration: Duration,
    pub ladder: bool,
}

impl Step {
    pub fn fixed(work: Workload, secs: f64) -> Step {
        Step {
            work,
            duration: Duration::from_secs_f64(secs),
            ladder: false,
        }
    }

    pub fn ladder(work: Workload, secs: f64) -> Step {
        Step {
            ladder: true,
            ..Step::fixed(work, secs)
        }
    }

    /// File-name part: `fixed-5000c-24500d`, `ladder-1000c-150000d`.
    pub fn tag(&self) -> String {
        let kind = if self.ladder { "ladder" } else { "fixed" };
        format!("{kind}-{}c-{}d", self.work.clients, self.work.deliveries)
    }
}

/// Why `r` falls short of keeping up with `step`, or `None` if it kept up.
pub fn shortfall(r: &ChatResult, step: &Step, max_p99_ms: f64) -> Option<String> {
    let on_time = r.deliveries_per_s / step.work.offered();
    if r.error_total > 0 {
        Some(format!("{} errors", r.error_total))
    } else if r.lost > 0 {
        Some(format!("lost {} of {}", r.lost, r.expected))
    } else if on_time < 0.97 {
        Some(format!("{:.0}% of offered delivered", on_time * 100.0))
    } else if r.latency.p99_us / 1e3 > max_p99_ms {
        Some(format!("p99 {:.0} ms", r.latency.p99_us / 1e3))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uringo_loadgen::chat::summary::{ChatCpu, ChatSummary};
    use uringo_loadgen::latency::Percentiles;

    fn result(delivered: u64, lost: u64, per_s: f64, p99_ms: f64) -> ChatResult {
        ChatResult {
            summary: ChatSummary {
                expected: delivered + lost,
                delivered,
                lost,
                deliveries_per_s: per_s,
                latency: Percentiles {
                    p50_us: 500.0,
                    p99_us: p99_ms * 1e3,
                    ..Percentiles::default()
                },
                cpu: ChatCpu {
                    loadgen_cpu_s: 1.0,
                    server_user_s: Some(1.0),
                    server_system_s: Some(1.0),
                    ..ChatCpu::default()
                },
                ..ChatSummary::default()
            },
            window_cpu: Vec::new(),
        }
    }

    #[test]
    fn rates_give_the_issues_delivery_targets() {
        let small: Workload = "1000/50/38000".parse().unwrap();
        assert_eq!((small.rate(), small.offered()), (2000, 38_000.0));
        let big: Workload = "5000/100/24500".parse().unwrap();
        assert_eq!((big.rate(), big.offered()), (500, 24_500.0));
        assert!("1000/50".parse::<Workload>().is_err());
        assert!("10/10/100".parse::<Workload>().is_err());
        assert_eq!(parse_shape("1000/50"), Ok((1000, 50)));
    }

    #[test]
    fn a_step_is_missed_on_loss_lateness_or_latency() {
        let step = Step::ladder("1000/50/100000".parse().unwrap(), 3.0);
        assert_eq!(step.tag(), "ladder-1000c-100000d");
        assert_eq!(
            shortfall(&result(300_000, 0, 99_000.0, 20.0), &step, 100.0),
            None
        );
        let lost = shortfall(&result(299_000, 1_000, 99_000.0, 20.0), &step, 100.0);
        assert_eq!(lost.as_deref(), Some("lost 1000 of 300000"));
        let late = shortfall(&result(300_000, 0, 90_000.0, 20.0), &step, 100.0);
        assert_eq!(late.as_deref(), Some("90% of offered delivered"));
        let slow = shortfall(&result(300_000, 0, 99_000.0, 250.0), &step, 100.0);
        assert_eq!(slow.as_deref(), Some("p99 250 ms"));
    }
}
