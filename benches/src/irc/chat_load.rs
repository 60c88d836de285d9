//! One `uringo-loadgen chat` run against one or more IRC servers, the figures of its `--json`
//! summary, and the CPU time of groups of processes (chat nodes, Redis) over its sending
//! window. Both chat benchmarks (chat-compare, cluster-bench) drive loadgen through this.
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

use uringo_loadgen::chat::summary::ChatSummary;

use crate::procfs;

/// How loadgen paces its PRIVMSGs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pace {
    /// Open loop: messages per second across all clients.
    Rate(u64),
    /// Closed loop: messages in flight per client.
    InFlight(u64),
}

/// One loadgen invocation: `clients` spread over `addrs`, in `channels` (one channel each).
#[derive(Debug, Clone)]
pub struct ChatLoad {
    pub addrs: Vec<SocketAddr>,
    pub clients: u64,
    pub channels: u64,
    pub pace: Pace,
    /// PRIVMSG text bytes.
    pub size: u64,
    pub duration: Duration,
    /// loadgen's runtime cores.
    pub cores: u64,
    /// At most this many clients between connect and 001 (for ngIRCd's backlog of 10).
    pub connect_concurrency: Option<usize>,
    /// Given to loadgen as `--server-pid` (the server CPU figures of its summary).
    pub server_pids: Vec<u32>,
    pub json: PathBuf,
    /// Where loadgen writes the delivery latency distribution.
    pub hgrm: Option<PathBuf>,
}

/// What one run measured: loadgen's own summary (its `--json`) and the sending window's CPU.
/// Derefs to the summary (`r.delivered`, `r.latency.p99_us`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResult {
    pub summary: ChatSummary,
    /// CPU time (user + kernel) of each watched group over the sending window.
    pub window_cpu: Vec<Duration>,
}

impl std::ops::Deref for ChatResult {
    type Target = ChatSummary;
    fn deref(&self) -> &ChatSummary {
        &self.summary
    }
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
        if let Some(n) = self.connect_concurrency {
            a.extend(["--connect-concurrency".into(), n.to_string()]);
        }
        if let Some(h) = &self.hgrm {
            a.extend(["--hgrm".into(), h.display().to_string()]);
        }
        a
    }

    /// Runs loadgen on `cpus` (a taskset list), its output appended to `log`, sampling the
    /// CPU time of every group in `watch` over the sending window (none: `window_cpu` empty).
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
        // Exit status 1 only says that some delivery was lost, duplicated or reordered, or an
        // error counted: the summary counts those and the tables show them.
        if !matches!(status.code(), Some(0 | 1)) {
            return Err(io::Error::other(format!(
                "loadgen failed ({status}); see {}",
                log.display()
            )));
        }
        let text = std::fs::read_to_string(&self.json)?;
        let mut result =
            ChatResult::parse(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        result.window_cpu = match (opened?, closed?) {
            (Some(a), Some(b)) => b
                .iter()
                .zip(&a)
                .map(|(b, a)| b.saturating_sub(*a))
                .collect(),
            _ if watch.is_empty() => Vec::new(),
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

impl ChatResult {
    /// Reads loadgen's `--json` summary; the benchmarks always pass `--server-pid`, so a
    /// summary without the server's CPU is an error.
    pub fn parse(text: &str) -> Result<ChatResult, String> {
        let summary: ChatSummary =
            serde_json::from_str(text).map_err(|e| format!("loadgen chat JSON: {e}"))?;
        if summary.cpu.server_user_s.is_none() || summary.cpu.server_system_s.is_none() {
            return Err(
                "loadgen chat JSON has no cpu.server_user_s/server_system_s \
                 (run without --server-pid?)"
                    .into(),
            );
        }
        Ok(ChatResult {
            summary,
            window_cpu: Vec::new(),
        })
    }

    /// The `--server-pid` processes' user and kernel CPU seconds, summed, as loadgen measured
    /// them (present: [`parse`](Self::parse) checks).
    pub fn server_cpu_s(&self) -> (f64, f64) {
        let cpu = &self.summary.cpu;
        (
            cpu.server_user_s.unwrap_or(0.0),
            cpu.server_system_s.unwrap_or(0.0),
        )
    }

    /// Duplicated or reordered deliveries.
    pub fn misordered(&self) -> u64 {
        self.duplicated + self.out_of_order
    }

    /// Server user + kernel CPU µs per delivery (loadgen's figure).
    pub fn server_us_per_delivery(&self) -> Option<f64> {
        let (user, kernel) = self.server_cpu_s();
        (self.delivered > 0).then(|| (user + kernel) * 1e6 / self.delivered as f64)
    }

    /// The server's user and kernel CPU µs per delivery, apart.
    pub fn server_split_us(&self) -> Option<(f64, f64)> {
        let (user, kernel) = self.server_cpu_s();
        let d = self.delivered as f64;
        (self.delivered > 0).then(|| (user * 1e6 / d, kernel * 1e6 / d))
    }

    /// µs of the `group`-th watched group's window CPU per delivery.
    pub fn window_us_per_delivery(&self, group: usize) -> Option<f64> {
        let cpu = self.window_cpu.get(group)?;
        (self.delivered > 0).then(|| cpu.as_secs_f64() * 1e6 / self.delivered as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load() -> ChatLoad {
        ChatLoad {
            addrs: vec!["127.0.0.1:6667".parse().unwrap()],
            clients: 5000,
            channels: 100,
            pace: Pace::Rate(500),
            size: 64,
            duration: Duration::from_secs(5),
            cores: 1,
            connect_concurrency: None,
            server_pids: vec![42],
            json: PathBuf::from("/tmp/c.json"),
            hgrm: None,
        }
    }

    #[test]
    fn args_name_the_workload_and_the_optional_limits() {
        let mut load = load();
        assert_eq!(
            load.args().join(" "),
            "chat --addr 127.0.0.1:6667 --clients 5000 --channels 100 --joins 1 --size 64 \
             --duration 5s --cores 1 --json /tmp/c.json --rate 500 --server-pid 42"
        );
        load.connect_concurrency = Some(10);
        load.hgrm = Some(PathBuf::from("/tmp/c.hgrm"));
        assert!(load
            .args()
            .join(" ")
            .ends_with("--connect-concurrency 10 --hgrm /tmp/c.hgrm"));
    }

    #[test]
    fn closed_loop_over_several_nodes() {
        let mut load = load();
        load.addrs.push("127.0.0.1:6668".parse().unwrap());
        load.server_pids.push(43);
        load.pace = Pace::InFlight(1);
        let args = load.args().join(" ");
        assert!(
            args.contains("--addr 127.0.0.1:6667,127.0.0.1:6668 "),
            "{args}"
        );
        assert!(
            args.ends_with("--in-flight 1 --server-pid 42 --server-pid 43"),
            "{args}"
        );
        assert!(!args.contains("--rate"), "{args}");
    }

    /// A summary as loadgen writes it.
    fn summary_json(server_cpu: Option<(f64, f64)>) -> String {
        let mut s = ChatSummary {
            sent: 10_000,
            expected: 190_000,
            delivered: 189_990,
            lost: 10,
            duplicated: 1,
            out_of_order: 2,
            order_conflicts: 4,
            deliveries_per_s: 37_998.0,
            error_total: 3,
            ..ChatSummary::default()
        };
        s.latency.p50_us = 800.0;
        s.latency.p99_us = 2900.5;
        s.cpu.server_user_s = server_cpu.map(|c| c.0);
        s.cpu.server_system_s = server_cpu.map(|c| c.1);
        serde_json::to_string(&s).unwrap()
    }

    #[test]
    fn parses_loadgen_chat_summary() {
        let mut r = ChatResult::parse(&summary_json(Some((0.5, 1.4)))).unwrap();
        assert_eq!(r.sent, 10_000);
        assert_eq!((r.expected, r.delivered, r.lost), (190_000, 189_990, 10));
        assert_eq!((r.duplicated, r.out_of_order, r.misordered()), (1, 2, 3));
        assert_eq!((r.order_conflicts, r.error_total), (4, 3));
        assert_eq!(
            (r.latency.p50_us, r.latency.p99_us, r.deliveries_per_s),
            (800.0, 2900.5, 37998.0)
        );
        let us = r.server_us_per_delivery().unwrap();
        assert!((us - 1.9e6 / 189_990.0).abs() < 1e-9, "{us}");
        let (user, kernel) = r.server_split_us().unwrap();
        assert!((user + kernel - us).abs() < 1e-9);
        assert_eq!(r.window_us_per_delivery(0), None);
        r.window_cpu = vec![Duration::from_secs(1)];
        let window = r.window_us_per_delivery(0).unwrap();
        assert!((window - 1e6 / 189_990.0).abs() < 1e-9, "{window}");
    }

    #[test]
    fn missing_figures_are_named() {
        let err = ChatResult::parse(r#"{"sent": 1}"#).unwrap_err();
        assert!(err.contains("missing field"), "{err}");
        let err = ChatResult::parse(&summary_json(None)).unwrap_err();
        assert!(err.contains("cpu.server_user_s"), "{err}");
    }

    #[test]
    fn the_window_opens_at_sending_and_closes_before_the_summary() {
        let me = vec![vec![std::process::id()]];
        let log =
            Mutex::new(File::create(std::env::temp_dir().join("chat-load-window.log")).unwrap());
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
}
