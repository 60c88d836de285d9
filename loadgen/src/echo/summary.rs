//! The result of an echo run: printed as a table for people, serialised for `--json`.

use crate::errors::Errors;
use crate::latency::{human_us, Percentiles};
use serde::Serialize;
use std::fmt;

/// CPU cost of the run, both sides, over the measured window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CpuReport {
    pub loadgen_cpu_s: f64,
    pub loadgen_us_per_msg: Option<f64>,
    /// io_uring_enter (epoll: epoll_wait) calls of loadgen's cores per message.
    pub loadgen_enters_per_msg: Option<f64>,
    /// Times loadgen's cores blocked in the kernel with nothing to run, per message.
    pub loadgen_parks_per_msg: Option<f64>,
    pub server_cpu_s: Option<f64>,
    pub server_us_per_msg: Option<f64>,
}

/// Open loop: how the sends kept to the schedule over the measured window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScheduleReport {
    /// Messages the schedule made due within the measured window.
    pub due: u64,
    /// Of those, the ones sent before the window ended.
    pub sent_by_end: u64,
    /// Sends made before their due time (a working rate limiter makes none).
    pub early: u64,
    /// Sends later after their due time than the sender woke after the time it slept until. A
    /// working limiter makes none: on a busy machine its sends are late only by its own late
    /// wake-ups (a late timer or CPU), and it then sends everything due at once.
    pub late_beyond_wakeup: u64,
    /// How long after its due time each of them was sent (the loadgen falling behind).
    pub lateness: Percentiles,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EchoSummary {
    pub addr: String,
    /// "closed" (fixed in-flight per connection) or "open" (fixed rate).
    pub mode: &'static str,
    pub conns: u64,
    pub size: u64,
    pub pipeline: u64,
    pub rate: Option<u64>,
    pub cores: u64,
    /// Length of the measured window, seconds.
    pub duration_s: f64,
    /// Every connection was gone before `--duration` ended (the window stops there).
    pub ended_early: bool,
    /// Messages echoed and verified within the window.
    pub messages: u64,
    pub bytes: u64,
    pub msgs_per_s: f64,
    pub mb_per_s: f64,
    /// Latency; in open loop from the intended send time (coordinated-omission corrected).
    pub latency: Percentiles,
    /// Open loop only: latency from the actual send, for comparison.
    pub service_latency: Option<Percentiles>,
    /// Open loop only: the schedule and how late the sends were against it.
    pub schedule: Option<ScheduleReport>,
    pub errors: Errors,
    pub error_total: u64,
    pub cpu: CpuReport,
}

fn row(f: &mut fmt::Formatter<'_>, name: &str, value: impl fmt::Display) -> fmt::Result {
    writeln!(f, "  {name:<18} {value}")
}

fn latency_row(f: &mut fmt::Formatter<'_>, name: &str, p: &Percentiles) -> fmt::Result {
    row(
        f,
        name,
        format_args!(
            "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            human_us(p.p50_us),
            human_us(p.p90_us),
            human_us(p.p99_us),
            human_us(p.p999_us),
            human_us(p.max_us)
        ),
    )
}

impl fmt::Display for EchoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let load = match self.rate {
            Some(r) => format!("open loop, {r} msg/s target"),
            None => format!("closed loop, {} in flight per connection", self.pipeline),
        };
        writeln!(
            f,
            "echo {}: {} conns, {} B, {}, {} cores, {:.1} s measured",
            self.addr, self.conns, self.size, load, self.cores, self.duration_s
        )?;
        if self.ended_early {
            row(
                f,
                "stopped early",
                "every connection closed before --duration ended",
            )?;
        }
        row(f, "messages", self.messages)?;
        row(
            f,
            "throughput",
            format_args!("{:.0} msg/s, {:.2} MB/s", self.msgs_per_s, self.mb_per_s),
        )?;
        let name = if self.rate.is_some() {
            "latency (corr.)"
        } else {
            "latency"
        };
        latency_row(f, name, &self.latency)?;
        if let Some(s) = &self.service_latency {
            latency_row(f, "latency (service)", s)?;
        }
        if let Some(s) = &self.schedule {
            row(
                f,
                "schedule",
                format_args!(
                    "{} due, {} sent in time, {} early, {} late beyond the sender's wake-up; \
                     late p50 {}  p99 {}  max {}",
                    s.due,
                    s.sent_by_end,
                    s.early,
                    s.late_beyond_wakeup,
                    human_us(s.lateness.p50_us),
                    human_us(s.lateness.p99_us),
                    human_us(s.lateness.max_us)
                ),
            )?;
        }
        row(f, "errors", self.errors)?;
        let per_msg = |v: Option<f64>| v.map_or("n/a".to_string(), |us| format!("{us:.2} us/msg"));
        row(
            f,
            "loadgen cpu",
            format_args!(
                "{:.2} s, {}",
                self.cpu.loadgen_cpu_s,
                per_msg(self.cpu.loadgen_us_per_msg)
            ),
        )?;
        if let (Some(enters), Some(parks)) = (
            self.cpu.loadgen_enters_per_msg,
            self.cpu.loadgen_parks_per_msg,
        ) {
            row(
                f,
                "loadgen ring",
                format_args!("{enters:.3} enters, {parks:.3} parks per message"),
            )?;
        }
        if let Some(s) = self.cpu.server_cpu_s {
            row(
                f,
                "server cpu",
                format_args!("{s:.2} s, {}", per_msg(self.cpu.server_us_per_msg)),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency;
    use std::time::Duration;

    fn summary() -> EchoSummary {
        let mut h = latency::histogram();
        latency::record(&mut h, Duration::from_micros(120));
        EchoSummary {
            addr: "127.0.0.1:7000".into(),
            mode: "open",
            conns: 128,
            size: 64,
            pipeline: 1,
            rate: Some(50_000),
            cores: 1,
            duration_s: 8.0,
            ended_early: false,
            messages: 400_000,
            bytes: 25_600_000,
            msgs_per_s: 50_000.0,
            mb_per_s: 3.2,
            latency: Percentiles::of(&h),
            service_latency: Some(Percentiles::of(&h)),
            schedule: Some(ScheduleReport {
                due: 400_010,
                sent_by_end: 400_000,
                early: 0,
                late_beyond_wakeup: 0,
                lateness: Percentiles::of(&h),
            }),
            errors: Errors {
                resets: 2,
                ..Errors::default()
            },
            error_total: 2,
            cpu: CpuReport {
                loadgen_cpu_s: 1.5,
                loadgen_us_per_msg: Some(3.75),
                loadgen_enters_per_msg: Some(0.125),
                loadgen_parks_per_msg: Some(0.0625),
                server_cpu_s: Some(1.0),
                server_us_per_msg: Some(2.5),
            },
        }
    }

    #[test]
    fn table_shows_what_people_look_for() {
        let text = summary().to_string();
        for want in [
            "open loop, 50000 msg/s target",
            "50000 msg/s, 3.20 MB/s",
            "p99 120us",
            "2 resets",
            "3.75 us/msg",
            "server cpu",
            "2.50 us/msg",
            "latency (service)",
            "400010 due, 400000 sent in time, 0 early, 0 late beyond",
            "late p50 120us",
            "0.125 enters, 0.062 parks per message",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
    }

    #[test]
    fn json_has_the_same_fields() {
        let v = serde_json::to_value(summary()).unwrap();
        assert_eq!(v["messages"], 400_000);
        assert_eq!(v["errors"]["resets"], 2);
        assert_eq!(v["error_total"], 2);
        assert_eq!(v["cpu"]["server_us_per_msg"], 2.5);
        assert_eq!(v["cpu"]["loadgen_enters_per_msg"], 0.125);
        assert_eq!(v["latency"]["count"], 1);
        assert_eq!(v["mode"], "open");
        assert_eq!(v["schedule"]["due"], 400_010);
        assert_eq!(v["schedule"]["lateness"]["count"], 1);
    }
}
