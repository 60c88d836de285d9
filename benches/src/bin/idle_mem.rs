//! Idle-connection memory: hold N connections open against each echo server and
//! report how much its resident memory grew per connection.
//!
//! RSS is read from /proc/PID/status before and after. The connections come from
//! several loopback source addresses so that 50,000 of them fit in the ephemeral
//! port range, and close with RST (SO_LINGER 0) so no TIME_WAIT is left behind
//! for the next run. After measuring, every connection is checked to still echo.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use socket2::{Domain, Socket, Type};
use uringo_benches::procfs;
use uringo_benches::server::{default_bin_dir, ServerKind, ServerProcess};
use uringo_benches::stats::{thousands, Table};

#[derive(Debug, Parser)]
#[command(about = "Server RSS per idle connection for uringo-server and the peer echo servers")]
struct Cli {
    /// Servers to measure.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "uringo,tokio,monoio,glommio"
    )]
    servers: Vec<ServerKind>,
    /// Idle connection counts.
    #[arg(long, value_delimiter = ',', default_value = "10000,50000")]
    conns: Vec<usize>,
    /// CPU the server is pinned to.
    #[arg(long, default_value_t = 1)]
    server_cpu: usize,
    /// Directory holding the server binaries [default: the directory of this program].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Directory for the servers' logs [default: BIN_DIR].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// File descriptors kept free beyond the connections, in this process and in the server.
const FD_HEADROOM: usize = 256;

/// Connections per loopback source address: few, because the kernel's search for a free
/// ephemeral port slows down as a source address fills its range.
const CONNS_PER_SOURCE: usize = 1_000;

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("idle-mem: {e}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> io::Result<()> {
    let most = cli.conns.iter().copied().max().unwrap_or(0);
    // Servers inherit the limit, so raise it before starting them.
    let limit = raise_nofile((most + FD_HEADROOM) as u64)?;
    let bin_dir = cli.bin_dir.clone().unwrap_or_else(default_bin_dir);
    let out = cli.out.clone().unwrap_or_else(|| bin_dir.clone());
    let mut t = Table::new([
        "server",
        "idle conns",
        "RSS before KiB",
        "RSS after KiB",
        "bytes/conn",
        "still echoing",
    ]);
    for &n in &cli.conns {
        if (n + FD_HEADROOM) as u64 > limit {
            eprintln!(
                "skipping {n} connections: RLIMIT_NOFILE is {limit} and its hard limit cannot be \
                 raised here (needs CAP_SYS_RESOURCE); try --conns {}",
                limit as usize - FD_HEADROOM
            );
            continue;
        }
        for &kind in &cli.servers {
            let log = out.join(format!("idle-mem-{}.log", kind.name()));
            match measure(kind, n, &cli, &bin_dir, &log) {
                Ok(m) => {
                    eprintln!(
                        "{} x {n}: {:.0} bytes/conn",
                        kind.name(),
                        m.bytes_per_conn(n)
                    );
                    t.row([
                        kind.name().to_string(),
                        thousands(n as f64),
                        thousands(m.before_kib as f64),
                        thousands(m.after_kib as f64),
                        format!("{:.0}", m.bytes_per_conn(n)),
                        thousands(m.alive as f64),
                    ]);
                }
                Err(e) => eprintln!("{} x {n}: FAILED: {e}", kind.name()),
            }
        }
    }
    println!("{}", t.render());
    Ok(())
}

struct Memory {
    before_kib: u64,
    after_kib: u64,
    alive: usize,
}

impl Memory {
    fn bytes_per_conn(&self, n: usize) -> f64 {
        (self.after_kib as f64 - self.before_kib as f64) * 1024.0 / n as f64
    }
}

fn measure(
    kind: ServerKind,
    n: usize,
    cli: &Cli,
    bin_dir: &std::path::Path,
    log: &std::path::Path,
) -> io::Result<Memory> {
    let server = ServerProcess::start(kind, bin_dir, cli.server_cpu, log)?;
    // The readiness probe connection has come and gone; let the server settle.
    std::thread::sleep(Duration::from_millis(300));
    let before_kib = procfs::rss_kib(server.pid())?;
    let started = std::time::Instant::now();
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        conns.push(connect_from(source_ip(i), server.addr())?);
    }
    eprintln!(
        "{} x {n}: connected in {:.1?}",
        kind.name(),
        started.elapsed()
    );
    // Accept is FIFO: once the newest connection echoes, every older one was accepted
    // and its task has run.
    if let Some(last) = conns.last_mut() {
        echo_byte(last, Duration::from_secs(60))?;
    }
    std::thread::sleep(Duration::from_millis(500));
    let after_kib = procfs::rss_kib(server.pid())?;
    let alive = count_echoing(&mut conns);
    drop(conns);
    let _ = server.stop(Duration::from_secs(5))?;
    Ok(Memory {
        before_kib,
        after_kib,
        alive,
    })
}

/// 127.0.1.1, 127.0.1.2, ...: a new source address every CONNS_PER_SOURCE connections.
fn source_ip(i: usize) -> Ipv4Addr {
    let k = (i / CONNS_PER_SOURCE) as u32 + 1;
    Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 1, 0)) + k)
}

fn connect_from(src: Ipv4Addr, dst: SocketAddr) -> io::Result<TcpStream> {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    s.set_linger(Some(Duration::ZERO))?;
    // Let connect() pick the port for the whole 4-tuple: bind(port 0) would search the
    // ephemeral range on every call and grow quadratic over tens of thousands of sockets.
    let one: libc::c_int = 1;
    // SAFETY: `one` is a c_int that outlives the call, and its size is passed.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    s.bind(&SocketAddrV4::new(src, 0).into())?;
    s.connect(&dst.into())?;
    Ok(s.into())
}

fn echo_byte(s: &mut TcpStream, limit: Duration) -> io::Result<()> {
    s.set_read_timeout(Some(limit))?;
    s.write_all(b"x")?;
    let mut b = [0u8; 1];
    s.read_exact(&mut b)?;
    if b != *b"x" {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "echo mismatch"));
    }
    Ok(())
}

/// Sends a byte on every connection first, then reads every echo, so the server works on
/// them in parallel rather than one round trip at a time.
fn count_echoing(conns: &mut [TcpStream]) -> usize {
    let sent: Vec<bool> = conns
        .iter_mut()
        .map(|c| c.write_all(b"y").is_ok())
        .collect();
    let mut alive = 0;
    for (c, sent) in conns.iter_mut().zip(sent) {
        let mut b = [0u8; 1];
        if sent
            && c.set_read_timeout(Some(Duration::from_secs(10))).is_ok()
            && c.read_exact(&mut b).is_ok()
            && b == *b"y"
        {
            alive += 1;
        }
    }
    alive
}

/// Raises RLIMIT_NOFILE to `want` if it can (the hard limit too, which needs
/// CAP_SYS_RESOURCE), else as far as the hard limit; returns the soft limit now in force.
fn raise_nofile(want: u64) -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid out-pointer for getrlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if lim.rlim_cur >= want {
        return Ok(lim.rlim_cur);
    }
    let wanted = libc::rlimit {
        rlim_cur: want,
        rlim_max: lim.rlim_max.max(want),
    };
    // SAFETY: `wanted` is a valid, initialised rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } == 0 {
        return Ok(want);
    }
    let capped = libc::rlimit {
        rlim_cur: lim.rlim_max,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: as above; raising the soft limit up to the hard one needs no privilege.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &capped) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(lim.rlim_max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_change_every_block_of_connections() {
        assert_eq!(source_ip(0), Ipv4Addr::new(127, 0, 1, 1));
        assert_eq!(source_ip(CONNS_PER_SOURCE - 1), Ipv4Addr::new(127, 0, 1, 1));
        assert_eq!(source_ip(CONNS_PER_SOURCE), Ipv4Addr::new(127, 0, 1, 2));
        assert_eq!(
            source_ip(2 * CONNS_PER_SOURCE + 5),
            Ipv4Addr::new(127, 0, 1, 3)
        );
    }

    #[test]
    fn per_connection_delta() {
        let m = Memory {
            before_kib: 1000,
            after_kib: 1100,
            alive: 0,
        };
        assert_eq!(m.bytes_per_conn(100), 1024.0);
    }
}
