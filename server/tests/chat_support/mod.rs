//! Shared helpers for the chat server tests: run the `uringo-server chat`
//! binary on an ephemeral port, and line-oriented IRC clients over TCP.

#![allow(dead_code)]

pub mod drivers;
pub mod log;
pub mod real;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The cores every server under test runs on.
pub const CORES: usize = 2;

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    log: Option<Arc<log::ServerLog>>,
}

impl Server {
    /// Starts the server on [`CORES`] cores with `extra` flags.
    pub fn start(extra: &[&str]) -> Server {
        Server::spawn(extra, false)
    }

    /// As [`Server::start`], and keeps what it logs on stderr for [`Server::log`].
    pub fn start_logged(extra: &[&str]) -> Server {
        Server::spawn(extra, true)
    }

    fn spawn(extra: &[&str], logged: bool) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_uringo-server"))
            .args([
                "chat",
                "--listen",
                "127.0.0.1:0",
                "--cores",
                &CORES.to_string(),
                "--name",
                "irc.test",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(if logged {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .expect("spawn uringo-server");
        let log = child.stderr.take().map(log::ServerLog::tee);
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(a) = line.strip_prefix("listening on ") {
                    let _ = tx.send(a.parse::<SocketAddr>().ok());
                }
            }
        });
        let addr = match rx.recv_timeout(TIMEOUT) {
            Ok(Some(a)) => a,
            other => {
                let _ = child.kill();
                panic!("server did not report its address: {other:?}");
            }
        };
        Server { child, addr, log }
    }

    /// What it logged, if started with [`Server::start_logged`].
    pub fn log(&self) -> &log::ServerLog {
        self.log
            .as_deref()
            .expect("started with Server::start_logged")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the server process is running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM.
    pub fn signal_term(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -TERM failed");
    }

    /// Waits (bounded) for the process to exit; its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        // A pidfd becomes readable when the child exits: wait on it, with a
        // bound, instead of polling try_wait.
        // SAFETY: pidfd_open takes a pid and flags and has no memory preconditions.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.child.id() as libc::pid_t, 0) }
            as i32;
        if fd >= 0 {
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd; the fd is ours and closed right after.
            unsafe {
                libc::poll(&mut pfd, 1, TIMEOUT.as_millis() as i32);
                libc::close(fd);
            }
        }
        match self.child.try_wait() {
            Ok(Some(status)) => status.code(),
            _ => None,
        }
    }

    /// Resident set size in KiB, from /proc.
    pub fn rss_kib(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    pub nick: String,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        s.set_nodelay(true).unwrap();
        Client {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
            nick: "*".into(),
        }
    }

    /// Connects and registers, returning after the end of the MOTD.
    pub fn register(addr: SocketAddr, nick: &str) -> Client {
        Client::register_as(addr, nick, nick)
    }

    /// Registers with a user name other than the nick.
    pub fn register_as(addr: SocketAddr, nick: &str, user: &str) -> Client {
        let mut c = Client::connect(addr);
        c.send(&format!("NICK {nick}"));
        c.send(&format!("USER {user} 0 * :Real {user}"));
        c.expect(|l| code(l) == "376" || code(l) == "422");
        c.nick = nick.into();
        c
    }

    /// A registered client on the given core (tries fresh connections
    /// until the kernel's SO_REUSEPORT choice lands there).
    pub fn on_core(addr: SocketAddr, nick: &str, core: usize) -> Client {
        for i in 0..200 {
            let probe = format!("probe{i}x{}", std::process::id() % 1000);
            let mut c = Client::register_as(addr, &probe, nick);
            if c.core() == core {
                c.send(&format!("NICK {nick}"));
                c.expect(|l| l.contains(" NICK :"));
                c.nick = nick.into();
                return c;
            }
            c.send("QUIT");
            c.expect(|l| l.starts_with("ERROR"));
        }
        panic!("no connection landed on core {core}");
    }

    /// The core serving this client, from WHOIS 312.
    pub fn core(&mut self) -> usize {
        let nick = self.nick.clone();
        let me = if nick == "*" { self.whoami() } else { nick };
        self.send(&format!("WHOIS {me}"));
        let lines = self.expect(|l| code(l) == "318");
        let l = lines
            .iter()
            .find(|l| code(l) == "312")
            .expect("312 in WHOIS");
        l.rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("core number")
    }

    fn whoami(&mut self) -> String {
        self.send("PING whoami");
        let lines = self.expect(|l| l.contains("PONG"));
        lines[0].split(' ').nth(2).unwrap_or("*").to_string()
    }

    pub fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes());
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
    }

    /// The next line, without CRLF (checked); None at EOF.
    pub fn next_line(&mut self) -> Option<String> {
        let mut buf = Vec::new();
        match self.reader.read_until(b'\n', &mut buf) {
            Ok(0) => None,
            Ok(_) => {
                assert!(buf.ends_with(b"\r\n"), "line without CRLF: {buf:?}");
                buf.truncate(buf.len() - 2);
                Some(String::from_utf8_lossy(&buf).into_owned())
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => None,
            Err(e) => panic!("{}: read: {e}", self.nick),
        }
    }

    /// Reads lines until one matches; returns all of them, the match last.
    pub fn expect(&mut self, pred: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + TIMEOUT;
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            let Some(l) = self.next_line() else {
                panic!("{}: EOF while waiting; got {}", self.nick, tail(&seen));
            };
            let done = pred(&l);
            seen.push(l);
            if done {
                return seen;
            }
        }
        panic!("{}: no matching line; got {}", self.nick, tail(&seen));
    }

    /// Everything the server sends before the answer to a PING sent now.
    pub fn sync(&mut self) -> Vec<String> {
        self.send("PING sync");
        let mut lines = self.expect(|l| l.ends_with("PONG irc.test :sync"));
        lines.pop();
        lines
    }

    /// Reads to EOF, returning the remaining bytes.
    pub fn read_to_end(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        let _ = self.reader.read_to_end(&mut v);
        v
    }

    pub fn stream(&self) -> &TcpStream {
        &self.writer
    }
}

/// The numeric or command of a server line (second word).
pub fn code(line: &str) -> &str {
    line.split(' ').nth(1).unwrap_or("")
}

pub fn codes(lines: &[String]) -> Vec<&str> {
    lines.iter().map(|l| code(l)).collect()
}

/// The last few lines, shortened, for failure messages.
fn tail(lines: &[String]) -> String {
    let last: Vec<String> = lines
        .iter()
        .rev()
        .take(5)
        .rev()
        .map(|l| l.chars().take(120).collect())
        .collect();
    format!("{} lines, ending {last:?}", lines.len())
}
