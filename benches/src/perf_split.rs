//! A process's user/kernel CPU split from `perf record -e cpu-clock` samples.
//!
//! `/proc/PID/stat` splits a process's CPU between user and kernel by where the
//! scheduler tick (250 Hz here) happens to land, then rounds to 10 ms. A server
//! spending 0.3 µs/msg in user space at 30k msg/s earns ~20 ms of user time per
//! second — a handful of ticks — so single 3 s runs read anywhere from 0 to 5×
//! the truth. Sampling the process's own CPU clock at 10 kHz gives ~40× the
//! samples; the share of samples whose instruction pointer is in user space is
//! the user share of its CPU time. The sampling interrupts themselves cost the
//! process about 1–2 % of its CPU, all of it kernel, for every server alike.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Samples per second of the process's CPU time.
pub const FREQUENCY_HZ: u32 = 10_000;

/// Counts of samples that landed in user space and in the kernel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Samples {
    pub user: u64,
    pub kernel: u64,
}

impl Samples {
    /// The user-space share of the sampled CPU time, `None` without samples.
    pub fn user_share(self) -> Option<f64> {
        let total = self.user + self.kernel;
        (total > 0).then(|| self.user as f64 / total as f64)
    }

    /// Splits `total` CPU time by the sampled shares; `None` without samples.
    pub fn split(self, total: Duration) -> Option<(Duration, Duration)> {
        let user = total.mul_f64(self.user_share()?);
        Some((user, total.saturating_sub(user)))
    }
}

/// A running `perf record` attached to one process.
pub struct Sampler {
    perf: Child,
    data: PathBuf,
}

impl Sampler {
    /// Starts sampling every thread of `pid` into `data` (overwritten). Fails with a clear
    /// error when `perf` is not installed.
    pub fn start(pid: u32, data: &Path) -> io::Result<Self> {
        let perf = Command::new("perf")
            .args(["record", "--quiet", "-e", "cpu-clock"])
            .arg(format!("-F{FREQUENCY_HZ}"))
            .arg("-p")
            .arg(pid.to_string())
            .arg("-o")
            .arg(data)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| missing_perf(e, "perf record"))?;
        Ok(Self {
            perf,
            data: data.to_path_buf(),
        })
    }

    /// Stops sampling (SIGINT, so perf writes its file) and counts the samples.
    pub fn finish(self) -> io::Result<Samples> {
        let pid = libc::pid_t::try_from(self.perf.id())
            .map_err(|_| io::Error::other("perf's pid does not fit pid_t"))?;
        // SAFETY: kill(2) with a pid this process spawned and has not yet reaped.
        if unsafe { libc::kill(pid, libc::SIGINT) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let out = self.perf.wait_with_output()?;
        if !out.status.success() && !self.data.exists() {
            return Err(io::Error::other(format!(
                "perf record failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let script = Command::new("perf")
            .args(["script", "-F", "ip", "-i"])
            .arg(&self.data)
            .stderr(Stdio::null())
            .output()
            .map_err(|e| missing_perf(e, "perf script"))?;
        if !script.status.success() {
            return Err(io::Error::other(format!(
                "perf script failed ({})",
                script.status
            )));
        }
        Ok(count_samples(&String::from_utf8_lossy(&script.stdout)))
    }
}

fn missing_perf(e: io::Error, what: &str) -> io::Error {
    if e.kind() == io::ErrorKind::NotFound {
        io::Error::new(
            e.kind(),
            format!("{what}: `perf` not found (Debian package linux-perf)"),
        )
    } else {
        io::Error::new(e.kind(), format!("{what}: {e}"))
    }
}

/// Counts `perf script -F ip` lines (one hex address per sample) by address space: kernel
/// addresses on x86-64 and arm64 have their top 16 bits set.
pub fn count_samples(script: &str) -> Samples {
    let mut samples = Samples::default();
    for ip in script
        .lines()
        .filter_map(|l| u64::from_str_radix(l.trim(), 16).ok())
    {
        if ip >> 48 == 0xffff {
            samples.kernel += 1;
        } else {
            samples.user += 1;
        }
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_kernel_and_user_addresses() {
        let script = " ffffffff8225a9d6\n     7fa3cc444350\n  55d0c0ffee00\n\nnot-an-ip\n";
        assert_eq!(count_samples(script), Samples { user: 2, kernel: 1 });
    }

    #[test]
    fn splits_total_by_share() {
        let s = Samples { user: 1, kernel: 3 };
        let (user, kernel) = s.split(Duration::from_millis(400)).expect("samples");
        assert_eq!(user, Duration::from_millis(100));
        assert_eq!(kernel, Duration::from_millis(300));
        assert_eq!(Samples::default().split(Duration::from_secs(1)), None);
    }
}
