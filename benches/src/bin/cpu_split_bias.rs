//! How far this machine's user/system CPU split can be trusted.
//!
//! The echo comparison reports a server's user-space CPU per message from `/proc/PID/stat`
//! (tick-sampled: each timer tick is charged whole to user or system by the mode it
//! interrupts) and, in places, from the share of perf's cpu-clock samples in user space.
//! This program makes a known split and prints what the kernel's accounting says about it:
//! in bursts it spins in user space for `--user-us`, then reads `/dev/zero` (kernel work: a
//! 64 KiB clear per call) for `--kernel-us`, then sleeps `--sleep-us`. The "designed" figures
//! come from `CLOCK_THREAD_CPUTIME_ID` (exact run time, not sampled) around each phase (two
//! of those system calls per phase are counted in it); the read loop's own user part (the
//! libc wrapper, one vDSO clock read per call) is counted as kernel. Run it pinned and under
//! SCHED_FIFO (`chrt -f 1 taskset -c 1`) so no other task runs inside a phase.

use std::fs::File;
use std::io::Read;
use std::time::{Duration, Instant};

use clap::Parser;

#[derive(Debug, Parser)]
struct Cli {
    /// User-space spin per burst, µs.
    #[arg(long, default_value_t = 5.0)]
    user_us: f64,
    /// Kernel work (reads of /dev/zero) per burst, µs.
    #[arg(long, default_value_t = 40.0)]
    kernel_us: f64,
    /// Sleep between bursts, µs (0: none).
    #[arg(long, default_value_t = 50)]
    sleep_us: u64,
    /// Seconds to run.
    #[arg(long, default_value_t = 4.0)]
    seconds: f64,
}

/// This thread's exact CPU time so far, µs.
fn thread_cpu_us() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    t.tv_sec as f64 * 1e6 + t.tv_nsec as f64 / 1e3
}

/// getrusage's (tick-sampled) user and system time of this process, µs.
fn rusage_us() -> (f64, f64) {
    // SAFETY: an all-zero rusage is a valid value for getrusage to overwrite.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `r` is a valid, writable rusage for the duration of the call.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut r) };
    assert_eq!(rc, 0, "getrusage failed");
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    (us(r.ru_utime), us(r.ru_stime))
}

fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let mut zero = File::open("/dev/zero")?;
    let mut buf = vec![0u8; 64 * 1024];
    let (mut user, mut kernel) = (0.0, 0.0);
    let (ru_user0, ru_sys0) = rusage_us();
    let start = Instant::now();
    let user_phase = Duration::from_secs_f64(cli.user_us / 1e6);
    let kernel_phase = Duration::from_secs_f64(cli.kernel_us / 1e6);
    let mut spins = 0u64;
    while start.elapsed().as_secs_f64() < cli.seconds {
        // Phases are timed by the (vDSO, user-mode) monotonic clock; their CPU is read exactly
        // at the boundaries only, as that clock is a system call.
        let a = thread_cpu_us();
        let phase = Instant::now();
        while phase.elapsed() < user_phase {
            spins = std::hint::black_box(spins.wrapping_mul(31).wrapping_add(7));
        }
        let b = thread_cpu_us();
        let phase = Instant::now();
        while phase.elapsed() < kernel_phase {
            zero.read_exact(&mut buf)?;
        }
        let c = thread_cpu_us();
        user += b - a;
        kernel += c - b;
        if cli.sleep_us > 0 {
            std::thread::sleep(Duration::from_micros(cli.sleep_us));
        }
    }
    let (ru_user1, ru_sys1) = rusage_us();
    let (ru_user, ru_sys) = (ru_user1 - ru_user0, ru_sys1 - ru_sys0);
    println!(
        "user {} us + kernel {} us per burst, sleep {} us: designed user {:.1}% ({:.3} s user, {:.3} s kernel); getrusage user {:.1}% ({:.3} s user, {:.3} s sys)",
        cli.user_us,
        cli.kernel_us,
        cli.sleep_us,
        100.0 * user / (user + kernel),
        user / 1e6,
        kernel / 1e6,
        100.0 * ru_user / (ru_user + ru_sys),
        ru_user / 1e6,
        ru_sys / 1e6,
    );
    Ok(())
}
