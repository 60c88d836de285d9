//! One `uringo-loadgen chat` run against an IRC server, and the figures of its `--json`
//! summary that the chat comparison reports.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::loadgen::run_pinned;

/// One loadgen invocation: `clients` in `channels` (one channel each), `rate` PRIVMSGs/s.
#[derive(Debug, Clone)]
pub struct ChatLoad {
    pub addr: SocketAddr,
    pub clients: u64,
    pub channels: u64,
    /// PRIVMSGs per second across all clients (open loop).
    pub rate: u64,
    pub duration: Duration,
    /// At most this many clients between connect and 001 (for ngIRCd's backlog of 10).
    pub connect_concurrency: Option<usize>,
    pub server_pid: u32,
    pub json: PathBuf,
    /// Where loadgen writes the delivery latency distribution.
    pub hgrm: Option<PathBuf>,
}

impl ChatLoad {
    pub fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = [
            "chat",
            "--addr",
            &self.addr.to_string(),
            "--clients",
            &self.clients.to_string(),
            "--channels",
            &self.channels.to_string(),
            "--rate",
            &self.rate.to_string(),
            "--duration",
            &format!("{}s", self.duration.as_secs_f64()),
            "--cores",
            "1",
            "--server-pid",
            &self.server_pid.to_string(),
            "--json",
            &self.json.display().to_string(),
        ]
        .map(String::from)
        .into();
        if let Some(n) = self.connect_concurrency {
            a.extend(["--connect-concurrency".into(), n.to_string()]);
        }
        if let Some(h) = &self.hgrm {
            a.extend(["--hgrm".into(), h.display().to_string()]);
        }
        a
    }

    /// Runs loadgen (`exe`) pinned to `cpu`, its output appended to `log`. loadgen exits 1
    /// when something was lost or an error counted; its summary still says what happened.
    pub fn run(&self, exe: &Path, cpu: usize, log: &Path) -> io::Result<ChatResult> {
        let _ = std::fs::remove_file(&self.json);
        let status = run_pinned(exe, cpu, &self.args(), log)?;
        let text = std::fs::read_to_string(&self.json).map_err(|e| {
            io::Error::other(format!(
                "loadgen chat wrote no summary ({status}, {e}); see {}",
                log.display()
            ))
        })?;
        ChatResult::parse(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

/// The figures of one chat run (loadgen's `ChatSummary`, loadgen/src/chat/summary.rs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChatResult {
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    /// Duplicated or reordered deliveries.
    pub misordered: u64,
    pub deliveries_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub server_user_s: f64,
    pub server_system_s: f64,
    pub loadgen_cpu_s: f64,
    pub errors: u64,
}

impl ChatResult {
    pub fn parse(text: &str) -> Result<ChatResult, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("loadgen JSON: {e}"))?;
        let num = |path: &str| {
            path.split('.')
                .try_fold(&v, |v, key| v.get(key))
                .and_then(Value::as_f64)
                .ok_or_else(|| format!("loadgen chat JSON has no number at {path}"))
        };
        Ok(ChatResult {
            expected: num("expected")? as u64,
            delivered: num("delivered")? as u64,
            lost: num("lost")? as u64,
            misordered: (num("duplicated")? + num("out_of_order")?) as u64,
            deliveries_per_s: num("deliveries_per_s")?,
            p50_us: num("latency.p50_us")?,
            p99_us: num("latency.p99_us")?,
            server_user_s: num("cpu.server_user_s")?,
            server_system_s: num("cpu.server_system_s")?,
            loadgen_cpu_s: num("cpu.loadgen_cpu_s")?,
            errors: num("error_total")? as u64,
        })
    }

    /// Server user + kernel CPU µs per delivery.
    pub fn server_us_per_delivery(&self) -> Option<f64> {
        (self.delivered > 0)
            .then(|| (self.server_user_s + self.server_system_s) * 1e6 / self.delivered as f64)
    }

    /// The server's user and kernel CPU µs per delivery, apart.
    pub fn server_split_us(&self) -> Option<(f64, f64)> {
        let d = self.delivered as f64;
        (self.delivered > 0).then(|| (self.server_user_s * 1e6 / d, self.server_system_s * 1e6 / d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_name_the_workload_and_the_optional_limits() {
        let mut load = ChatLoad {
            addr: "127.0.0.1:6667".parse().unwrap(),
            clients: 5000,
            channels: 100,
            rate: 500,
            duration: Duration::from_secs(5),
            connect_concurrency: None,
            server_pid: 42,
            json: PathBuf::from("/tmp/c.json"),
            hgrm: None,
        };
        assert_eq!(
            load.args().join(" "),
            "chat --addr 127.0.0.1:6667 --clients 5000 --channels 100 --rate 500 --duration 5s \
             --cores 1 --server-pid 42 --json /tmp/c.json"
        );
        load.connect_concurrency = Some(10);
        load.hgrm = Some(PathBuf::from("/tmp/c.hgrm"));
        assert!(load
            .args()
            .join(" ")
            .ends_with("--connect-concurrency 10 --hgrm /tmp/c.hgrm"));
    }

    #[test]
    fn parses_loadgen_chat_summary() {
        // The shape of loadgen's ChatSummary as serde_json writes it (fields trimmed).
        let text = r#"{"clients": 1000, "sent": 10000, "expected": 190000, "delivered": 189990,
            "lost": 10, "duplicated": 1, "out_of_order": 2, "deliveries_per_s": 37998.0,
            "latency": {"count": 189990, "p50_us": 800.0, "p99_us": 2900.5},
            "errors": {"connect_errors": 0}, "error_total": 3,
            "cpu": {"loadgen_cpu_s": 1.5, "loadgen_us_per_delivery": 7.9,
                    "server_user_s": 0.5, "server_system_s": 1.4,
                    "server_us_per_delivery": 10.0}}"#;
        let r = ChatResult::parse(text).unwrap();
        assert_eq!((r.expected, r.delivered, r.lost), (190_000, 189_990, 10));
        assert_eq!(r.misordered, 3);
        assert_eq!((r.p50_us, r.p99_us), (800.0, 2900.5));
        assert_eq!(r.errors, 3);
        let us = r.server_us_per_delivery().unwrap();
        assert!((us - 1.9e6 / 189_990.0).abs() < 1e-9, "{us}");
        let (user, kernel) = r.server_split_us().unwrap();
        assert!((user + kernel - us).abs() < 1e-9);
    }

    #[test]
    fn missing_figures_are_named() {
        let err = ChatResult::parse(r#"{"expected": 1}"#).unwrap_err();
        assert!(err.contains("delivered"), "{err}");
        let no_server = r#"{"expected": 1, "delivered": 1, "lost": 0, "duplicated": 0,
            "out_of_order": 0, "deliveries_per_s": 1, "latency": {"p50_us": 1, "p99_us": 1},
            "error_total": 0, "cpu": {"loadgen_cpu_s": 1, "server_user_s": null}}"#;
        let err = ChatResult::parse(no_server).unwrap_err();
        assert!(err.contains("cpu.server_user_s"), "{err}");
    }
}
