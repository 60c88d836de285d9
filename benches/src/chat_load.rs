//! Running `uringo-loadgen chat` for one measurement and reading its `--json` summary, plus
//! the CPU time of groups of processes (the chat nodes, Redis) over the sending window.
//!
//! The window opens when loadgen says it is sending (its "setup: ...; sending" line on
//! stderr) and closes at its last per-second line on stdout, before the summary: clients
//! registering and quitting (nick claims and releases in Redis) stay outside it.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::procfs;

/// How loadgen paces its PRIVMSGs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pace {
    /// Open loop: messages per second across all clients.
    Rate(u64),
    /// Closed loop: messages in flight per client.
    InFlight(u64),
}

/// One `uringo-loadgen chat` invocation.
#[derive(Debug, Clone)]
pub struct ChatLoad {
    pub addrs: Vec<SocketAddr>,
    pub clients: u64,
    pub channels: u64,
    pub pace: Pace,
    pub size: u64,
    pub duration: Duration,
    pub cores: u64,
    pub json: PathBuf,
    /// Given to loadgen as `--server-pid` (its own server CPU figure, in the log).
    pub server_pids: Vec<u32>,
}

/// What one run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResult {
    pub sent: u64,
    pub delivered: u64,
    pub deliveries_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    /// Channels whose receivers disagreed on the order.
    pub order_conflicts: u64,
    pub errors: u64,
    /// CPU time (user + kernel) of each watched group over the sending window.
    pub window_cpu: Vec<Duration>,
}

impl ChatLoad {
    pub fn args(&self) -> Vec<String> {
        let addrs: Vec<String> = self.addrs.iter().map(ToString::to_string).collect();
        let mut a: Vec<String> = vec![
            "chat".into(),
            "--addr".into(),
            addrs.join(","),
            "--clients".into(),
            self.clients.to_string(),
            "--channels".into(),
            self.channels.to_string(),
            "--joins".into(),
            "1".into(),
            "--size".into(),
            self.size.to_string(),
            "--duration".into(),
            format!("{}s", self.duration.as_secs_f64()),
            "--cores".into(),
            self.cores.to_string(),
            "--json".into(),
            self.json.display().to_string(),
        ];
        match self.pace {
            Pace::Rate(r) => a.extend(["--rate".into(), r.to_string()]),
            Pace::InFlight(k) => a.extend(["--in-flight".into(), k.to_string()]),
        }
        for pid in &self.server_pids {
            a.extend(["--server-pid".into(), pid.to_string()]);
        }
        a
    }

    /// Runs loadgen on `cpus` (a taskset list), its output appended to `log`, sampling the
    /// CPU time of every group in `watch` over the sending window.
    pub fn run(
        &self,
        exe: &Path,
        cpus: &str,
        log: &Path,
        watch: &[Vec<u32>],
    ) -> io::Result<ChatResult> {
        let _ = std::fs::remove_file(&self.json);
        let log_file = Arc::new(Mutex::new(
            File::options().create(true).append(true).open(log)?,
        ));
        let mut child = Command::new("taskset")
            .args(["-c", cpus])
            .arg(exe)
            .args(self.args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().expect("piped stderr");
        let stdout = child.stdout.take().expect("piped stdout");
        let opened = {
            let (log_file, watch) = (log_file.clone(), watch.to_vec());
            std::thread::spawn(move || window_start(stderr, &log_file, &watch))
        };
        let closed = window_end(stdout, &log_file, watch);
        let status = child.wait()?;
        let opened = opened.join().expect("stderr reader");
        // Exit status 1 only says that some delivery was lost, duplicated or reordered:
        // the summary counts those and the table shows them.
        if !matches!(status.code(), Some(0 | 1)) {
            return Err(io::Error::other(format!(
                "loadgen failed ({status}); see {}",
                log.display()
            )));
        }
        let text = std::fs::read_to_string(&self.json)?;
        let mut result = parse(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        result.window_cpu = match (opened?, closed?) {
            (Some(a), Some(b)) => b
                .iter()
                .zip(&a)
                .map(|(b, a)| b.saturating_sub(*a))
                .collect(),
            _ => return Err(io::Error::other("loadgen never reported sending")),
        };
        Ok(result)
    }
}

/// CPU time used so far by each group of processes (summed over the group).
fn sample(watch: &[Vec<u32>]) -> io::Result<Vec<Duration>> {
    watch
        .iter()
        .map(|pids| pids.iter().map(|&p| procfs::cpu_time(p)).sum())
        .collect()
}

/// Copies loadgen's stderr to the log; the sample taken when it starts sending.
fn window_start(
    stderr: impl io::Read,
    log: &Mutex<File>,
    watch: &[Vec<u32>],
) -> io::Result<Option<Vec<Duration>>> {
    let mut start = None;
    for line in BufReader::new(stderr).lines() {
        let line = line?;
        if start.is_none() && line.starts_with("setup:") && line.ends_with("sending") {
            start = Some(sample(watch)?);
        }
        writeln!(log.lock().expect("log lock"), "{line}")?;
    }
    Ok(start)
}

/// Copies loadgen's stdout to the log; the sample taken at the last per-second line
/// (`[   5s] sent ...`) before the summary (which starts with "chat ").
fn window_end(
    stdout: impl io::Read,
    log: &Mutex<File>,
    watch: &[Vec<u32>],
) -> io::Result<Option<Vec<Duration>>> {
    let mut end = None;
    let mut in_summary = false;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        in_summary |= line.starts_with("chat ");
        if !in_summary && line.starts_with('[') {
            end = Some(sample(watch)?);
        }
        writeln!(log.lock().expect("log lock"), "{line}")?;
    }
    Ok(end)
}

/// The figures of loadgen's `ChatSummary` JSON (loadgen/src/chat/summary.rs).
pub fn parse(text: &str) -> Result<ChatResult, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("loadgen JSON: {e}"))?;
    let num = |path: &str| {
        path.split('.')
            .try_fold(&v, |v, key| v.get(key))
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("loadgen JSON has no number at {path}"))
    };
    let count = |path: &str| num(path).map(|x| x as u64);
    Ok(ChatResult {
        sent: count("sent")?,
        delivered: count("delivered")?,
        deliveries_per_s: num("deliveries_per_s")?,
        p50_us: num("latency.p50_us")?,
        p99_us: num("latency.p99_us")?,
        lost: count("lost")?,
        duplicated: count("duplicated")?,
        out_of_order: count("out_of_order")?,
        order_conflicts: count("order_conflicts")?,
        errors: count("error_total")?,
        window_cpu: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_and_closed_loop_args() {
        let mut load = ChatLoad {
            addrs: vec![
                "127.0.0.1:1".parse().unwrap(),
                "127.0.0.1:2".parse().unwrap(),
            ],
            clients: 1000,
            channels: 50,
            pace: Pace::Rate(2000),
            size: 64,
            duration: Duration::from_secs(5),
            cores: 1,
            json: PathBuf::from("/tmp/c.json"),
            server_pids: vec![7, 8],
        };
        assert_eq!(
            load.args().join(" "),
            "chat --addr 127.0.0.1:1,127.0.0.1:2 --clients 1000 --channels 50 --joins 1 \
             --size 64 --duration 5s --cores 1 --json /tmp/c.json --rate 2000 \
             --server-pid 7 --server-pid 8"
        );
        load.pace = Pace::InFlight(1);
        let args = load.args();
        assert!(args.windows(2).any(|w| w == ["--in-flight", "1"]));
        assert!(!args.contains(&"--rate".to_string()));
    }

    #[test]
    fn parses_the_chat_summary() {
        let text = r#"{"addr": "a", "sent": 10000, "expected": 190000, "delivered": 189990,
            "lost": 10, "duplicated": 0, "out_of_order": 1, "order_channels_checked": 50,
            "order_conflicts": 2, "deliveries_per_s": 37998.0,
            "latency": {"count": 1, "mean_us": 1.0, "p50_us": 800.0, "p90_us": 1.0,
                        "p99_us": 5000.0, "p999_us": 1.0, "max_us": 1.0},
            "error_total": 3, "cpu": {"loadgen_cpu_s": 1.0}}"#;
        let r = parse(text).unwrap();
        assert_eq!(
            (r.sent, r.delivered, r.lost, r.out_of_order),
            (10000, 189990, 10, 1)
        );
        assert_eq!((r.order_conflicts, r.errors), (2, 3));
        assert_eq!(
            (r.p50_us, r.p99_us, r.deliveries_per_s),
            (800.0, 5000.0, 37998.0)
        );
        assert!(parse(r#"{"sent": 1}"#).unwrap_err().contains("delivered"));
    }

    #[test]
    fn the_window_opens_at_sending_and_closes_before_the_summary() {
        let me = vec![vec![std::process::id()]];
        let log = Mutex::new(tempfile_in_tmp("chat-load-window.log"));
        let err = "setup [  1s]: 5 connected\nsetup: 5 clients ready in 1.2s; sending\n";
        assert!(window_start(err.as_bytes(), &log, &me).unwrap().is_some());
        assert!(window_start(&b"setup [  1s]: 5\n"[..], &log, &me)
            .unwrap()
            .is_none());
        let out = "[  1s] 900 deliveries/s\nchat 127.0.0.1:1: 5 clients\n  sent 9\n";
        assert!(window_end(out.as_bytes(), &log, &me).unwrap().is_some());
        assert!(window_end(&b"chat x: summary only\n"[..], &log, &me)
            .unwrap()
            .is_none());
    }

    fn tempfile_in_tmp(name: &str) -> File {
        File::create(std::env::temp_dir().join(name)).unwrap()
    }
}
