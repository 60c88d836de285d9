//! CPU time of the server (from /proc/PID/stat) and of loadgen itself (getrusage), so a run can
//! report CPU microseconds per message for both: at saturation it shows which side is the limit.

use std::io;
use std::time::Duration;

/// utime and stime, in clock ticks, from the text of a /proc/PID/stat file.
///
/// The second field (comm) is in parentheses and may itself hold spaces and ')', so fields are
/// counted from the *last* ')'. utime and stime are fields 14 and 15 of the file.
pub fn parse_stat_ticks(stat: &str) -> Option<(u64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // rest starts at field 3 (state); utime is field 14, i.e. index 11 here.
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let utime = fields.next()?.parse().ok()?;
    let stime = fields.next()?.parse().ok()?;
    Some((utime, stime))
}

fn clock_ticks_per_sec() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as u64
    } else {
        100
    }
}

/// User + system CPU time consumed so far by process `pid` (all its threads).
pub fn process_cpu(pid: u32) -> io::Result<Duration> {
    let (user, system) = process_cpu_split(pid)?;
    Ok(user + system)
}

/// User and system (kernel) CPU time consumed so far by process `pid`, apart.
pub fn process_cpu_split(pid: u32) -> io::Result<(Duration, Duration)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let (utime, stime) = parse_stat_ticks(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unparsable /proc/{pid}/stat"),
        )
    })?;
    let hz = clock_ticks_per_sec();
    let time = |ticks| {
        Duration::from_secs(ticks / hz) + Duration::from_nanos((ticks % hz) * 1_000_000_000 / hz)
    };
    Ok((time(utime), time(stime)))
}

/// CPU time of this process and (summed) of the processes `pids`, at one moment. The
/// servers' figure is `None` when there are none or one cannot be read.
pub fn sample(pids: &[u32]) -> (Duration, Option<(Duration, Duration)>) {
    let own = own_cpu().unwrap_or_default();
    let servers = (!pids.is_empty())
        .then(|| {
            pids.iter()
                .try_fold((Duration::ZERO, Duration::ZERO), |(u, s), &pid| {
                    process_cpu_split(pid).ok().map(|(pu, ps)| (u + pu, s + ps))
                })
        })
        .flatten();
    (own, servers)
}

/// User + system CPU time consumed so far by this process (µs resolution).
pub fn own_cpu() -> io::Result<Duration> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` points to writable memory of the size getrusage writes.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: getrusage returned 0, so it filled the struct (and it was zeroed before anyway).
    let usage = unsafe { usage.assume_init() };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(tv(usage.ru_utime) + tv(usage.ru_stime))
}

/// CPU microseconds spent per message over an interval.
pub fn micros_per_msg(cpu: Duration, messages: u64) -> Option<f64> {
    (messages > 0).then(|| cpu.as_secs_f64() * 1e6 / messages as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_stat_line() {
        let line = "1234 (uringo-server) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 2 0 \
                    5000 10000000 500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_stat_ticks(line), Some((250, 75)));
    }

    #[test]
    fn parses_comm_with_spaces_and_parens() {
        let line = "77 (a) b (c d)) R 1 77 77 0 -1 0 0 0 0 0 9 4 0 0 20 0 1 0 1 1 1";
        assert_eq!(parse_stat_ticks(line), Some((9, 4)));
    }

    #[test]
    fn rejects_truncated_stat() {
        assert_eq!(parse_stat_ticks("1 (x) S 1 2 3"), None);
        assert_eq!(parse_stat_ticks("garbage"), None);
    }

    #[test]
    fn reads_own_process_from_proc_and_rusage() {
        // Spin on CPU time, not wall time: on a busy machine 60 ms of wall
        // time can be much less CPU time for this thread.
        let mut x = 0u64;
        while own_cpu().unwrap() < Duration::from_millis(60) {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        let from_proc = process_cpu(std::process::id()).unwrap();
        let from_rusage = own_cpu().unwrap();
        assert!(from_rusage >= Duration::from_millis(50), "{from_rusage:?}");
        // /proc counts in clock ticks (usually 10 ms); the two sources agree within a few ticks.
        let diff = from_rusage.abs_diff(from_proc);
        assert!(
            diff < Duration::from_millis(100),
            "{from_proc:?} vs {from_rusage:?}"
        );
    }

    #[test]
    fn per_message_cost() {
        assert_eq!(micros_per_msg(Duration::from_millis(3), 1000), Some(3.0));
        assert_eq!(micros_per_msg(Duration::from_secs(1), 0), None);
    }
}
