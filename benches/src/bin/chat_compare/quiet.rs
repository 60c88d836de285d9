//! Waiting out other real-time processes. Under `--realtime` the runs outrank ordinary work,
//! but another benchmark running under SCHED_FIFO or SCHED_RR at the same time would still
//! preempt them, so before each run the harness waits (up to a limit) until no other user
//! process has a real-time policy.

use std::time::{Duration, Instant};

/// `/proc/PID/stat` fields after the command: index 6 is `flags`, 38 is `policy`.
const FLAGS: usize = 6;
const POLICY: usize = 38;
const PF_KTHREAD: u64 = 0x0020_0000;

/// The real-time scheduling policy of a user process, from its `/proc/PID/stat` text; `None`
/// for kernel threads and ordinary (SCHED_OTHER, BATCH, IDLE) processes.
pub fn realtime_user_process(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_comm.split(' ').collect();
    let flags: u64 = fields.get(FLAGS)?.parse().ok()?;
    let policy: u64 = fields.get(POLICY)?.parse().ok()?;
    let realtime = policy == 1 || policy == 2;
    (realtime && flags & PF_KTHREAD == 0).then_some(policy)
}

/// Real-time user processes other than this one, as `PID COMMAND`.
fn others() -> Vec<String> {
    let me = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            realtime_user_process(&stat)?;
            let comm = stat.split(['(', ')']).nth(1).unwrap_or("?").to_string();
            Some(format!("{pid} {comm}"))
        })
        .collect()
}

/// Waits until no other user process runs under a real-time policy, or `limit` passed;
/// returns how long it waited.
pub fn wait_for_others(limit: Duration) -> Duration {
    let start = Instant::now();
    let mut told = false;
    loop {
        let busy = others();
        if busy.is_empty() || start.elapsed() >= limit {
            if !busy.is_empty() {
                eprintln!("chat-compare: running beside real-time {}", busy.join(", "));
            }
            return start.elapsed();
        }
        if !told {
            eprintln!(
                "chat-compare: waiting for real-time {} to end",
                busy.join(", ")
            );
            told = true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stat line with `flags` and `policy` in their places (other fields zero).
    fn stat(comm: &str, flags: u64, policy: u64) -> String {
        let mut f = vec!["0".to_string(); 50];
        f[0] = "S".into();
        f[FLAGS] = flags.to_string();
        f[POLICY] = policy.to_string();
        format!("42 ({comm}) {}", f.join(" "))
    }

    #[test]
    fn finds_real_time_user_processes_only() {
        assert_eq!(
            realtime_user_process(&stat("compare", 0x400000, 1)),
            Some(1)
        );
        assert_eq!(realtime_user_process(&stat("rr (x) y", 0, 2)), Some(2));
        assert_eq!(realtime_user_process(&stat("rustc", 0x400000, 0)), None);
        assert_eq!(
            realtime_user_process(&stat("migration/0", PF_KTHREAD, 1)),
            None
        );
        assert_eq!(realtime_user_process("garbage"), None);
    }

    #[test]
    fn this_process_reads_as_not_real_time() {
        let me = std::fs::read_to_string("/proc/self/stat").unwrap();
        assert_eq!(realtime_user_process(&me), None);
    }
}
