//! Readers for the few `/proc` figures the harnesses need: a process's CPU time
//! (`stat`, through uringo-loadgen's reader), resident memory (`status`), open fds, the CPUs
//! its threads may run on, and the machine's load average. Parsing is split from reading so it can be unit tested.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

fn proc_path(pid: u32, rest: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/{rest}"))
}

/// User plus system CPU time used so far by all threads of `pid` (loadgen's
/// reader, so the harness and loadgen's `--server-pid` count the same way).
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    uringo_loadgen::cpu::process_cpu(pid)
}

/// User and system (kernel) CPU time used so far by all threads of `pid`, apart.
pub fn cpu_split(pid: u32) -> io::Result<(Duration, Duration)> {
    uringo_loadgen::cpu::process_cpu_split(pid)
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

/// `/proc/loadavg`'s three averages (1, 5 and 15 minutes), `?` if unreadable.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Number of open file descriptors of `pid`.
pub fn fd_count(pid: u32) -> io::Result<usize> {
    Ok(open_fds(pid)?.len())
}

/// The numbers of the file descriptors `pid` has open.
pub fn open_fds(pid: u32) -> io::Result<Vec<i32>> {
    let mut fds = Vec::new();
    for entry in std::fs::read_dir(proc_path(pid, "fd"))? {
        if let Some(fd) = entry?.file_name().to_str().and_then(|n| n.parse().ok()) {
            fds.push(fd);
        }
    }
    Ok(fds)
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
    fn open_fds_lists_a_new_fd() {
        // Other tests in this process open and close fds concurrently, so only the
        // presence of this fd can be asserted, not a change in the count.
        use std::os::fd::AsRawFd;
        let me = std::process::id();
        let f = std::fs::File::open("/proc/self/stat").unwrap();
        assert!(open_fds(me).unwrap().contains(&f.as_raw_fd()));
        assert!(fd_count(me).unwrap() >= 1);
    }

    #[test]
    fn thread_affinity_lists_every_thread() {
        let lists = thread_cpus_allowed(std::process::id()).unwrap();
        assert!(!lists.is_empty());
        assert!(lists.iter().all(|l| !l.is_empty()));
    }
}
