//! The IRC servers of the chat benchmarks: uringo-server chat and the Debian packages of
//! InspIRCd 3 and ngIRCd, each started pinned to one CPU on a free port, with configs
//! (benches/irc/*.conf.in) that lift connection and flood limits. A test that needs a peer
//! fails with a clear error when its package is missing.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::free_local_addr;

pub mod chat_load;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IrcKind {
    Uringo,
    InspIrcd,
    NgIrcd,
}

impl IrcKind {
    pub fn name(self) -> &'static str {
        match self {
            IrcKind::Uringo => "uringo",
            IrcKind::InspIrcd => "inspircd",
            IrcKind::NgIrcd => "ngircd",
        }
    }
}

impl IrcKind {
    /// Clients to connect at once. ngIRCd listens with a backlog of 10 (a constant in its
    /// source): more connects at once overflow it, and the kernel drops SYNs that the clients
    /// then retry a second later. InspIRCd completes registrations on a once-a-second tick,
    /// so its clients are best registered many at a time.
    pub fn connect_batch(self) -> usize {
        match self {
            IrcKind::NgIrcd => 10,
            IrcKind::Uringo | IrcKind::InspIrcd => 500,
        }
    }

    /// loadgen's `--connect-concurrency` for this server: ngIRCd's backlog, no limit elsewhere.
    pub fn loadgen_connect_concurrency(self) -> Option<usize> {
        (self == IrcKind::NgIrcd).then(|| self.connect_batch())
    }
}

impl std::str::FromStr for IrcKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [IrcKind::Uringo, IrcKind::InspIrcd, IrcKind::NgIrcd]
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown IRC server {s:?} (uringo, inspircd, ngircd)"))
    }
}

/// A running IRC server; dropping it kills the process.
pub struct IrcServer {
    pub kind: IrcKind,
    pub addr: SocketAddr,
    child: Child,
}

fn config_template(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("irc").join(name)
}

/// Writes `template` with @PORT@ and @DIR@ filled in to `dir/name` and returns the path.
fn write_config(template: &str, dir: &Path, port: u16) -> io::Result<PathBuf> {
    let text = std::fs::read_to_string(config_template(template))?
        .replace("@PORT@", &port.to_string())
        .replace("@DIR@", &dir.display().to_string());
    let path = dir.join(template.trim_end_matches(".in"));
    std::fs::write(&path, text)?;
    Ok(path)
}

impl IrcServer {
    /// Starts `kind` pinned to `cpu`; `bin_dir` holds uringo-server; configs and logs go to
    /// `dir`.
    pub fn start(kind: IrcKind, bin_dir: &Path, cpu: usize, dir: &Path) -> io::Result<IrcServer> {
        std::fs::create_dir_all(dir)?;
        let addr = free_local_addr()?;
        let mut cmd = Command::new("taskset");
        cmd.arg("-c").arg(cpu.to_string());
        match kind {
            IrcKind::Uringo => {
                cmd.arg(bin_dir.join("uringo-server")).args([
                    "chat",
                    "--listen",
                    &addr.to_string(),
                    "--cores",
                    "1",
                    "--flood-rate",
                    "0",
                ]);
            }
            IrcKind::NgIrcd => {
                let conf = write_config("ngircd.conf.in", dir, addr.port())?;
                cmd.arg(find_program("ngircd")?)
                    .arg("-n")
                    .arg("-f")
                    .arg(conf);
            }
            IrcKind::InspIrcd => {
                let conf = write_config("inspircd.conf.in", dir, addr.port())?;
                cmd.arg(find_program("inspircd")?)
                    .args(["--runasroot", "--nofork"])
                    .arg(format!("--config={}", conf.display()));
            }
        }
        let log = File::create(dir.join(format!("{}.log", kind.name())))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut server = IrcServer { kind, addr, child };
        server.wait_registering(Duration::from_secs(15))?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ready once a client can register.
    fn wait_registering(&mut self, limit: Duration) -> io::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "{} exited: {status}",
                    self.kind.name()
                )));
            }
            if let Ok(c) = register(self.addr, "probe") {
                drop(c);
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "{} never let a client register",
                    self.kind.name()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for IrcServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `/usr/sbin/NAME` or NAME on PATH; a clear error naming the Debian package otherwise.
fn find_program(name: &str) -> io::Result<PathBuf> {
    let sbin = Path::new("/usr/sbin").join(name);
    if sbin.exists() {
        return Ok(sbin);
    }
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|p| p.exists())
        })
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{name} not found: apt-get install {name}"),
            )
        })
}

/// Connects and registers as `nick`; returns once the server sent 001.
pub fn register(addr: SocketAddr, nick: &str) -> io::Result<TcpStream> {
    let stream = start_registration(addr, nick)?;
    await_welcome(stream, nick)
}

/// Registers `count` clients named `{prefix}{i}`, `batch` at a time (connect and send NICK/USER
/// for a batch, then wait for each one's 001).
pub fn register_many(
    addr: SocketAddr,
    prefix: &str,
    count: usize,
    batch: usize,
) -> io::Result<Vec<TcpStream>> {
    let mut done = Vec::with_capacity(count);
    for start in (0..count).step_by(batch.max(1)) {
        let names: Vec<String> = (start..(start + batch).min(count))
            .map(|i| format!("{prefix}{i}"))
            .collect();
        let pending = names
            .iter()
            .map(|n| start_registration(addr, n))
            .collect::<io::Result<Vec<_>>>()?;
        for (stream, nick) in pending.into_iter().zip(&names) {
            done.push(await_welcome(stream, nick)?);
        }
    }
    Ok(done)
}

fn start_registration(addr: SocketAddr, nick: &str) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    (&stream).write_all(format!("NICK {nick}\r\nUSER {nick} 0 * :bench\r\n").as_bytes())?;
    Ok(stream)
}

fn await_welcome(stream: TcpStream, nick: &str) -> io::Result<TcpStream> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::Error::other(format!("{nick}: closed before 001")));
        }
        let code = line.split(' ').nth(1).unwrap_or("");
        if code == "001" {
            return Ok(stream);
        }
        if let Some(token) = line.strip_prefix("PING ") {
            (&stream).write_all(format!("PONG {token}").as_bytes())?;
        }
        if code.starts_with('4') || line.starts_with("ERROR") {
            return Err(io::Error::other(format!("{nick}: {}", line.trim_end())));
        }
    }
}
