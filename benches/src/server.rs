//! Starting and stopping the echo servers under test, each pinned with `taskset`.
//!
//! Every server is given a free port chosen here and is ready when that port
//! accepts a connection, so no server's startup output has to be parsed.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The servers the harnesses know, in the order their columns appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerKind {
    Uringo,
    /// uringo-server forced onto its epoll backend.
    UringoEpoll,
    Tokio,
    Monoio,
    Glommio,
    Compio,
}

impl ServerKind {
    pub const ALL: [ServerKind; 6] = [
        ServerKind::Uringo,
        ServerKind::UringoEpoll,
        ServerKind::Tokio,
        ServerKind::Monoio,
        ServerKind::Glommio,
        ServerKind::Compio,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Uringo => "uringo",
            ServerKind::UringoEpoll => "uringo-epoll",
            ServerKind::Tokio => "tokio",
            ServerKind::Monoio => "monoio",
            ServerKind::Glommio => "glommio",
            ServerKind::Compio => "compio",
        }
    }

    pub fn binary(self) -> &'static str {
        match self {
            ServerKind::Uringo | ServerKind::UringoEpoll => "uringo-server",
            ServerKind::Tokio => "echo-tokio",
            ServerKind::Monoio => "echo-monoio",
            ServerKind::Glommio => "echo-glommio",
            ServerKind::Compio => "echo-compio",
        }
    }

    /// Arguments that make the server echo on `addr` with a single core.
    pub fn args(self, addr: SocketAddr) -> Vec<String> {
        let listen = addr.to_string();
        match self {
            // The stats lines give io_uring_enter calls per receive (see `enters_per_recv`).
            ServerKind::Uringo | ServerKind::UringoEpoll => vec![
                "echo".into(),
                "--listen".into(),
                listen,
                "--cores".into(),
                "1".into(),
                "--stats-interval".into(),
                "1".into(),
                "--backend".into(),
                if self == ServerKind::Uringo {
                    "io-uring"
                } else {
                    "epoll"
                }
                .into(),
            ],
            _ => vec!["--listen".into(), listen],
        }
    }
}

impl std::str::FromStr for ServerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        ServerKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown server {s:?} (one of uringo, uringo-epoll, tokio, monoio, glommio, compio)"
                )
            })
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_local_addr() -> io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// A running server under test. Dropping it kills the process if `stop` was not called.
#[derive(Debug)]
pub struct ServerProcess {
    kind: ServerKind,
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    /// Length of the log when this server started: its own output follows.
    log_start: u64,
}

impl ServerProcess {
    /// Starts `kind` from `bin_dir` pinned to `cpu`, its output appended to `log`, and waits
    /// until it accepts connections.
    pub fn start(
        kind: ServerKind,
        bin_dir: &Path,
        cpu: usize,
        log: &Path,
    ) -> io::Result<ServerProcess> {
        let addr = free_local_addr()?;
        let exe = bin_dir.join(kind.binary());
        if !exe.exists() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} not found (build it first)", exe.display()),
            ));
        }
        let out = File::options().create(true).append(true).open(log)?;
        let log_start = out.metadata()?.len();
        let child = Command::new("taskset")
            .arg("-c")
            .arg(cpu.to_string())
            .arg(&exe)
            .args(kind.args(addr))
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()?;
        let mut server = ServerProcess {
            kind,
            child,
            addr,
            log: log.to_path_buf(),
            log_start,
        };
        server.wait_ready(Duration::from_secs(10))?;
        Ok(server)
    }

    fn wait_ready(&mut self, limit: Duration) -> io::Result<()> {
        wait_accepting(&mut self.child, self.addr, self.kind.name(), limit)
    }

    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Threads of the server allowed on CPUs other than `cpu`: a server that re-pins itself
    /// (e.g. core 0 to CPU 0) would share a CPU with loadgen and make the figures meaningless.
    pub fn unpinned_threads(&self, cpu: usize) -> io::Result<Vec<String>> {
        let want = cpu.to_string();
        Ok(crate::procfs::thread_cpus_allowed(self.pid())?
            .into_iter()
            .filter(|l| *l != want)
            .collect())
    }

    /// What this server has written to its log so far.
    pub fn output(&self) -> io::Result<String> {
        let mut f = File::open(&self.log)?;
        f.seek(SeekFrom::Start(self.log_start))?;
        let mut text = String::new();
        f.read_to_string(&mut text)?;
        Ok(text)
    }

    /// Sends SIGTERM and waits for the exit (SIGKILL after `grace`).
    pub fn stop(mut self, grace: Duration) -> io::Result<ExitStatus> {
        terminate(&mut self.child, grace)
    }
}

/// Waits until `child` (called `name` in errors) accepts connections on `addr`; an error if
/// it exits first or `limit` passes.
pub fn wait_accepting(
    child: &mut Child,
    addr: SocketAddr,
    name: &str,
    limit: Duration,
) -> io::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Err(io::Error::other(format!(
                "{name} exited at startup: {status}"
            )));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{name} did not listen on {addr} within {limit:?}"),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `child` SIGTERM and waits for its exit (SIGKILL after `grace`).
pub fn terminate(child: &mut Child, grace: Duration) -> io::Result<ExitStatus> {
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill has no memory preconditions; `pid` is our own unreaped child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + grace;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            child.kill()?;
            return child.wait();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Where the built binaries are: the directory of the running harness (they are built together).
pub fn default_bin_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("target/release"))
}

/// Where a harness writes its logs and loadgen JSON: `out` if given, else `default` under
/// `bin_dir`; created if missing.
pub fn out_dir(out: Option<&Path>, bin_dir: &Path, default: &str) -> io::Result<PathBuf> {
    let out = out.map_or_else(|| bin_dir.join(default), Path::to_path_buf);
    std::fs::create_dir_all(&out)?;
    Ok(out)
}

/// Seconds since the Unix epoch: names a harness's run directory, so runs keep apart.
pub fn unix_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Median io_uring_enter calls per echoed receive over uringo-server's `--stats-interval` lines
/// (`... recvs_per_s=N ... enters_per_recv=X ...`) that saw traffic. A receive is one buffer
/// the kernel filled: at a fixed rate of small messages, one message; a busy closed loop packs
/// several of a connection's messages into one.
pub fn enters_per_recv(log: &str) -> Option<f64> {
    let field = |line: &str, key: &str| -> Option<f64> {
        let at = line.find(key)? + key.len();
        line[at..].split_whitespace().next()?.parse().ok()
    };
    let values: Vec<f64> = log
        .lines()
        .filter(|l| field(l, " recvs_per_s=").is_some_and(|r| r > 0.0))
        .filter_map(|l| field(l, " enters_per_recv="))
        .collect();
    crate::stats::median(&values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in ServerKind::ALL {
            assert_eq!(kind.name().parse::<ServerKind>(), Ok(kind));
        }
        assert!("nginx".parse::<ServerKind>().is_err());
    }

    #[test]
    fn uringo_gets_one_core_and_stats_and_peers_only_an_address() {
        let addr: SocketAddr = "127.0.0.1:7001".parse().unwrap();
        assert_eq!(
            ServerKind::Uringo.args(addr),
            [
                "echo",
                "--listen",
                "127.0.0.1:7001",
                "--cores",
                "1",
                "--stats-interval",
                "1",
                "--backend",
                "io-uring"
            ]
        );
        assert_eq!(
            ServerKind::UringoEpoll
                .args(addr)
                .last()
                .map(String::as_str),
            Some("epoll")
        );
        assert_eq!(ServerKind::Tokio.args(addr), ["--listen", "127.0.0.1:7001"]);
    }

    #[test]
    fn out_dir_is_the_given_one_or_the_default_under_bin_dir_and_exists() {
        let bin = std::env::temp_dir().join(format!("uringo-benches-out-{}", std::process::id()));
        let given = bin.join("given");
        assert_eq!(out_dir(Some(&given), &bin, "runs/1").unwrap(), given);
        assert!(given.is_dir());
        let default = out_dir(None, &bin, "runs/1").unwrap();
        assert_eq!(default, bin.join("runs").join("1"));
        assert!(default.is_dir());
        std::fs::remove_dir_all(&bin).unwrap();
    }

    #[test]
    fn missing_binary_is_a_clear_error() {
        let dir = std::env::temp_dir();
        let err = ServerProcess::start(
            ServerKind::Tokio,
            Path::new("/nonexistent"),
            0,
            &dir.join("x.log"),
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn enters_per_recv_from_busy_stats_lines() {
        let log = "\
2026-11-28T00:30:00Z  INFO uringo_server::echo: listening addr=127.0.0.1:7000 cores=1
2026-11-28T00:30:01Z  INFO uringo_server::echo::core: stats core=0 conns=128 recvs_per_s=0 enters_per_recv=0.000
2026-11-28T00:30:02Z  INFO uringo_server::echo::core: stats core=0 conns=128 recvs_per_s=30000 enters_per_recv=0.040
2026-11-28T00:30:03Z  INFO uringo_server::echo::core: stats core=0 conns=128 recvs_per_s=31000 enters_per_recv=0.060
2026-11-28T00:30:04Z  INFO uringo_server::echo::core: stats core=0 conns=128 recvs_per_s=29000 enters_per_recv=0.050
";
        assert_eq!(enters_per_recv(log), Some(0.05));
        assert_eq!(enters_per_recv("no stats here"), None);
    }
}
