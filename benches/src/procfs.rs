//! Readers for the few `/proc` figures the harnesses need: a process's CPU time
//! (`stat`), resident memory (`status`), open fds and the CPUs its threads may
//! run on. Parsing is split from reading so it can be unit tested.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

fn proc_path(pid: u32, rest: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/{rest}"))
}

/// User plus system CPU time used so far by all threads of `pid`.
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    let stat = std::fs::read_to_string(proc_path(pid, "stat"))?;
    let ticks = parse_stat_ticks(&stat)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "malformed /proc/PID/stat"))?;
    Ok(ticks_to_duration(ticks, clock_ticks_per_sec()))
}

/// utime + stime, in clock ticks, from the text of `/proc/PID/stat`.
///
/// The command name (field 2) is in parentheses and may hold spaces or ')', so
/// fields are counted from the last ')'.
pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After the name: state is field 3, utime field 14, stime field 15.
    let utime: u64 = fields.nth(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks_per_sec() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as u64
    } else {
        100
    }
}

fn ticks_to_duration(ticks: u64, hz: u64) -> Duration {
    Duration::from_nanos(ticks.saturating_mul(1_000_000_000) / hz)
}

/// Resident set size of `pid` in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(proc_path(pid, "status"))?;
    status_field(&status, "VmRSS")
        .and_then(|v| v.trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmRSS in /proc/PID/status"))
}

/// The value of `key:` in the text of a `/proc/PID/status` file, trimmed.
pub fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k == key).then(|| v.trim())
    })
}

/// Number of open file descriptors of `pid`.
pub fn fd_count(pid: u32) -> io::Result<usize> {
    Ok(std::fs::read_dir(proc_path(pid, "fd"))?.count())
}

/// `Cpus_allowed_list` of every thread of `pid`, e.g. `["1", "1", "0-1"]`.
pub fn thread_cpus_allowed(pid: u32) -> io::Result<Vec<String>> {
    let mut lists = Vec::new();
    for entry in std::fs::read_dir(proc_path(pid, "task"))? {
        let status = match std::fs::read_to_string(entry?.path().join("status")) {
            Ok(s) => s,
            // The thread exited between listing and reading.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if let Some(list) = status_field(&status, "Cpus_allowed_list") {
            lists.push(list.to_owned());
        }
    }
    Ok(lists)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_ticks_skip_a_name_with_spaces_and_parens() {
        let stat = "4242 (we ird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 75 0 0 20 0 3 0 12345 1000000 200 18446744073709551615";
        assert_eq!(parse_stat_ticks(stat), Some(325));
    }

    #[test]
    fn stat_ticks_reject_truncated_input() {
        assert_eq!(parse_stat_ticks("1 (x) S 1 2 3"), None);
        assert_eq!(parse_stat_ticks("no parens at all"), None);
    }

    #[test]
    fn own_cpu_time_grows_with_work() {
        let me = std::process::id();
        let before = cpu_time(me).unwrap();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(60) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        assert!(cpu_time(me).unwrap() > before);
    }

    #[test]
    fn status_fields_and_own_rss() {
        let status = "Name:\tcat\nVmRSS:\t    1234 kB\nThreads:\t1\n";
        assert_eq!(status_field(status, "VmRSS"), Some("1234 kB"));
        assert_eq!(status_field(status, "VmHWM"), None);
        assert!(rss_kib(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn fd_count_sees_a_new_fd() {
        let me = std::process::id();
        let before = fd_count(me).unwrap();
        let _f = std::fs::File::open("/proc/self/stat").unwrap();
        assert!(fd_count(me).unwrap() > before);
    }

    #[test]
    fn thread_affinity_lists_every_thread() {
        let lists = thread_cpus_allowed(std::process::id()).unwrap();
        assert!(!lists.is_empty());
        assert!(lists.iter().all(|l| !l.is_empty()));
    }
}
