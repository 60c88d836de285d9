//! Starting the real `uringo-server echo` binary for integration tests, reading its announced
//! address and logs, and stopping it with a signal.
#![allow(dead_code)]

pub mod seccomp;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Generous bound on anything a test waits for; a healthy run needs far less.
pub const PATIENCE: Duration = Duration::from_secs(20);

#[derive(Default)]
struct Log {
    text: Mutex<String>,
    grew: Condvar,
}

pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub pid: u32,
    log: Arc<Log>,
}

pub struct Options {
    pub cores: u32,
    /// RLIMIT_NOFILE soft limit for the server process (the hard limit is inherited).
    pub max_fds: Option<u64>,
    /// RUST_LOG for the server.
    pub log: &'static str,
    /// `--stats-interval` seconds (0 = off).
    pub stats_interval: u32,
    /// `--backend` (none: the default, `URINGO_BACKEND` or auto).
    pub backend: Option<&'static str>,
    /// Run under a seccomp filter that fails io_uring_setup with this errno.
    pub deny_io_uring: Option<i32>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cores: 1,
            max_fds: None,
            log: "info",
            stats_interval: 0,
            backend: None,
            deny_io_uring: None,
        }
    }
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(Options::default())
    }

    /// The server's command line for `opts` (the caller pipes or captures its output).
    pub fn command(opts: &Options) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_uringo-server"));
        cmd.args([
            "echo",
            "--listen",
            "127.0.0.1:0",
            "--cores",
            &opts.cores.to_string(),
            "--stats-interval",
            &opts.stats_interval.to_string(),
        ])
        .env("RUST_LOG", opts.log)
        .stdin(Stdio::null());
        if let Some(backend) = opts.backend {
            cmd.args(["--backend", backend]);
        }
        let max_fds = opts.max_fds;
        // Built here: the child may not allocate between fork and exec.
        let filter = opts.deny_io_uring.map(seccomp::deny_io_uring_setup);
        if max_fds.is_some() || filter.is_some() {
            // SAFETY: the closure runs in the forked child before exec and only makes raw
            // syscalls (getrlimit, setrlimit, prctl, seccomp), which are async-signal-safe.
            unsafe {
                cmd.pre_exec(move || {
                    if let Some(limit) = max_fds {
                        let mut lim = libc::rlimit {
                            rlim_cur: 0,
                            rlim_max: 0,
                        };
                        // The hard limit stays, so a test can raise the soft one later.
                        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        lim.rlim_cur = limit.min(lim.rlim_max);
                        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    match &filter {
                        Some(program) => seccomp::install(program),
                        None => Ok(()),
                    }
                });
            }
        }
        cmd
    }

    pub fn start_with(opts: Options) -> Server {
        let mut cmd = Server::command(&opts);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("starting uringo-server");
        let pid = child.id();
        let log = Arc::new(Log::default());
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = log.clone();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut text = sink.text.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
                sink.grew.notify_all();
            }
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = tx.send(
                        addr.parse::<SocketAddr>()
                            .expect("announced address parses"),
                    );
                }
            }
        });
        let mut server = Server {
            child: Some(child),
            addr: "0.0.0.0:0".parse().unwrap(),
            pid,
            log,
        };
        match rx.recv_timeout(PATIENCE) {
            Ok(addr) => server.addr = addr,
            Err(_) => panic!(
                "server did not announce its address; log:\n{}",
                server.log()
            ),
        }
        server
    }

    pub fn log(&self) -> String {
        self.log.text.lock().unwrap().clone()
    }

    /// Waits until the server's log contains `needle`; panics after [`PATIENCE`].
    pub fn wait_for_log(&self, needle: &str) {
        self.wait_for_log_count(needle, 1);
    }

    /// Waits until the server's log contains `needle` at least `n` times.
    pub fn wait_for_log_count(&self, needle: &str, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        let mut text = self.log.text.lock().unwrap();
        while text.matches(needle).count() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "log never showed {needle:?}:\n{text}");
            text = self.log.grew.wait_timeout(text, left).unwrap().0;
        }
    }

    pub fn signal(&self, signo: libc::c_int) {
        // SAFETY: kill has no memory-safety preconditions; pid is our child, not yet reaped.
        assert_eq!(unsafe { libc::kill(self.pid as libc::pid_t, signo) }, 0);
    }

    /// Sends SIGTERM and returns the exit status (panics if it takes longer than [`PATIENCE`]).
    pub fn terminate(self) -> ExitStatus {
        self.stop_with(libc::SIGTERM)
    }

    /// Sends `signo` and returns the exit status (panics if it takes longer than [`PATIENCE`]).
    pub fn stop_with(mut self, signo: libc::c_int) -> ExitStatus {
        self.signal(signo);
        let mut child = self.child.take().expect("running");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(PATIENCE) {
            Ok(status) => status.expect("waiting for the server"),
            Err(_) => {
                self.signal(libc::SIGKILL);
                panic!("server ignored signal {signo}; log:\n{}", self.log());
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Loadgen arguments for a short, bounded closed-loop run against `addr`.
pub fn loadgen_args(addr: SocketAddr) -> uringo_loadgen::cli::EchoArgs {
    uringo_loadgen::cli::EchoArgs {
        addr,
        conns: 8,
        size: 64,
        duration: Duration::from_millis(1000),
        warmup: Duration::from_millis(200),
        pipeline: 4,
        rate: None,
        cores: Some(1),
        json: None,
        hgrm: None,
        plot: None,
        server_pid: None,
    }
}

/// A file path in the temp dir unique to this test process and `name`.
pub fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("uringo-echo-test-{}-{name}", std::process::id()))
}
