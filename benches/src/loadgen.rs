//! Running `uringo-loadgen echo` for one measurement and reading its `--json` summary.
//!
//! loadgen's JSON is read leniently, by a short list of candidate field paths per
//! figure, so that a renamed or nested field shows up as a clear "missing field"
//! error naming what was looked for rather than as a silently wrong table.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;

/// One loadgen invocation.
#[derive(Debug, Clone)]
pub struct LoadgenRun {
    pub addr: std::net::SocketAddr,
    pub conns: u64,
    pub size: u64,
    pub duration: Duration,
    pub warmup: Duration,
    /// Closed loop: messages in flight per connection.
    pub pipeline: u64,
    /// Open loop: messages/s across all connections (overrides `pipeline`).
    pub rate: Option<u64>,
    /// Loadgen runtime cores.
    pub cores: u64,
    pub json: PathBuf,
    pub server_pid: u32,
}

impl LoadgenRun {
    pub fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "echo".into(),
            "--addr".into(),
            self.addr.to_string(),
            "--conns".into(),
            self.conns.to_string(),
            "--size".into(),
            self.size.to_string(),
            "--duration".into(),
            secs(self.duration),
            "--warmup".into(),
            secs(self.warmup),
            "--cores".into(),
            self.cores.to_string(),
            "--json".into(),
            self.json.display().to_string(),
            "--server-pid".into(),
            self.server_pid.to_string(),
        ];
        match self.rate {
            Some(rate) => a.extend(["--rate".into(), rate.to_string()]),
            None => a.extend(["--pipeline".into(), self.pipeline.to_string()]),
        }
        a
    }

    /// Runs loadgen pinned to `cpu`, its output appended to `log`; returns its summary and the
    /// CPU time loadgen itself used (from the children's rusage, so warmup included).
    pub fn run(&self, exe: &Path, cpu: usize, log: &Path) -> io::Result<(Summary, Duration)> {
        let _ = std::fs::remove_file(&self.json);
        let before = children_cpu()?;
        let status = run_pinned(exe, cpu, &self.args(), log)?;
        let cpu_used = children_cpu()?.saturating_sub(before);
        if !status.success() {
            return Err(io::Error::other(format!(
                "loadgen failed ({status}); see {}",
                log.display()
            )));
        }
        let text = std::fs::read_to_string(&self.json)?;
        let summary =
            Summary::parse(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok((summary, cpu_used))
    }
}

/// Runs `exe args` pinned to `cpu` (taskset), its output appended to `log`.
fn run_pinned(exe: &Path, cpu: usize, args: &[String], log: &Path) -> io::Result<ExitStatus> {
    let out = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)?;
    Command::new("taskset")
        .arg("-c")
        .arg(cpu.to_string())
        .arg(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .status()
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// CPU time of all reaped children of this process.
fn children_cpu() -> io::Result<Duration> {
    // SAFETY: rusage is plain data that getrusage fills.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(tv(usage.ru_utime) + tv(usage.ru_stime))
}

/// The figures the comparison needs from one loadgen run.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub msgs_per_sec: f64,
    pub p99_us: f64,
    pub p999_us: Option<f64>,
    /// Messages measured (after warmup).
    pub messages: Option<f64>,
    /// Server CPU µs per message, when loadgen was given `--server-pid`.
    pub server_cpu_us_per_msg: Option<f64>,
    /// Loadgen's own CPU µs per message, if it reports it.
    pub loadgen_cpu_us_per_msg: Option<f64>,
    /// Every counted error (mismatches, short reads, resets, connect errors, ...).
    pub errors: u64,
}

// Field paths of loadgen's `EchoSummary` (loadgen/src/echo/summary.rs), then older spellings.
const MSGS_PER_SEC: &[&str] = &["msgs_per_s", "msgs_per_sec"];
const P99_US: &[&str] = &["latency.p99_us", "p99_us"];
const P999_US: &[&str] = &["latency.p999_us", "p999_us"];
const MESSAGES: &[&str] = &["messages"];
const SERVER_CPU: &[&str] = &["cpu.server_us_per_msg", "server_cpu_us_per_msg"];
const LOADGEN_CPU: &[&str] = &["cpu.loadgen_us_per_msg", "loadgen_cpu_us_per_msg"];
const ERRORS: &[&str] = &["error_total", "errors"];

impl Summary {
    pub fn parse(text: &str) -> Result<Summary, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("loadgen JSON: {e}"))?;
        let required = |paths: &[&str]| {
            number(&v, paths)
                .ok_or_else(|| format!("loadgen JSON has none of the fields {paths:?}"))
        };
        Ok(Summary {
            msgs_per_sec: required(MSGS_PER_SEC)?,
            p99_us: required(P99_US)?,
            p999_us: number(&v, P999_US),
            messages: number(&v, MESSAGES),
            server_cpu_us_per_msg: number(&v, SERVER_CPU),
            loadgen_cpu_us_per_msg: number(&v, LOADGEN_CPU),
            errors: ERRORS
                .iter()
                .find_map(|p| lookup(&v, p))
                .map_or(0, error_count),
        })
    }
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}

fn number(v: &Value, paths: &[&str]) -> Option<f64> {
    paths.iter().find_map(|p| lookup(v, p)?.as_f64())
}

/// An error count is either a number or an object of counts (summed, skipping a `total`
/// field so it is not counted twice).
fn error_count(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap_or(0),
        Value::Object(map) => match map.get("total").and_then(Value::as_u64) {
            Some(total) => total,
            None => map.values().map(error_count).sum(),
        },
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_and_open_loop_args() {
        let mut run = LoadgenRun {
            addr: "127.0.0.1:7000".parse().unwrap(),
            conns: 128,
            size: 64,
            duration: Duration::from_secs(8),
            warmup: Duration::from_millis(1500),
            pipeline: 1,
            rate: None,
            cores: 1,
            json: PathBuf::from("/tmp/x.json"),
            server_pid: 42,
        };
        let joined = run.args().join(" ");
        assert_eq!(
            joined,
            "echo --addr 127.0.0.1:7000 --conns 128 --size 64 --duration 8s --warmup 1.5s \
             --cores 1 --json /tmp/x.json --server-pid 42 --pipeline 1"
        );
        run.rate = Some(50_000);
        let args = run.args();
        assert!(args.ends_with(&["--rate".to_string(), "50000".to_string()]));
        assert!(
            !args.contains(&"--pipeline".to_string()),
            "loadgen rejects --pipeline with --rate"
        );
    }

    #[test]
    fn parses_nested_summary_with_error_object() {
        // The shape loadgen's EchoSummary serialises to, without error_total.
        let text = r#"{
            "addr": "127.0.0.1:7000", "mode": "closed", "conns": 128, "size": 64,
            "messages": 800000, "bytes": 51200000, "msgs_per_s": 100000.5, "mb_per_s": 6.4,
            "latency": {"count": 800000, "p50_us": 40.0, "p99_us": 95.5, "p999_us": 180.0},
            "service_latency": null,
            "errors": {"mismatches": 1, "short_reads": 0, "resets": 2, "connect_errors": 0},
            "cpu": {"loadgen_cpu_s": 2.0, "loadgen_us_per_msg": 2.5,
                    "server_cpu_s": 2.6, "server_us_per_msg": 3.25}
        }"#;
        let s = Summary::parse(text).unwrap();
        assert_eq!(s.msgs_per_sec, 100000.5);
        assert_eq!(s.p99_us, 95.5);
        assert_eq!(s.p999_us, Some(180.0));
        assert_eq!(s.messages, Some(800000.0));
        assert_eq!(s.server_cpu_us_per_msg, Some(3.25));
        assert_eq!(s.loadgen_cpu_us_per_msg, Some(2.5));
        assert_eq!(s.errors, 3);
    }

    #[test]
    fn error_total_is_preferred_and_not_double_counted() {
        let text = r#"{"msgs_per_s": 1, "latency": {"p99_us": 2}, "error_total": 4,
                       "errors": {"resets": 4}}"#;
        assert_eq!(Summary::parse(text).unwrap().errors, 4);
        let text = r#"{"msgs_per_s": 1, "p99_us": 2, "errors": {"total": 5, "resets": 5}}"#;
        assert_eq!(Summary::parse(text).unwrap().errors, 5);
    }

    #[test]
    fn missing_throughput_names_the_fields_looked_for() {
        let err = Summary::parse(r#"{"p99_us": 2}"#).unwrap_err();
        assert!(err.contains("msgs_per_s"), "{err}");
        assert!(Summary::parse("not json").is_err());
    }
}
