//! Command-line options of `uringo-server chat`.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct ChatArgs {
    /// Address to listen on (every core binds it with SO_REUSEPORT).
    #[arg(long, default_value = "127.0.0.1:6667")]
    pub listen: SocketAddr,
    /// Cores to run on (default: all available).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub cores: Option<u16>,
    /// Server name, the source of numerics.
    #[arg(long, default_value = "irc.local")]
    pub name: String,
    /// Message of the day file (422 when absent).
    #[arg(long)]
    pub motd: Option<PathBuf>,
    /// Connection password clients must send with PASS.
    #[arg(long)]
    pub password: Option<String>,
    /// IRC operator credentials `NAME:PASSWORD` for OPER (repeatable).
    /// Operators may KILL.
    #[arg(long = "oper", value_name = "NAME:PASSWORD", value_parser = parse_oper)]
    pub opers: Vec<(String, String)>,
    /// Outbound bytes queued for one client before it is dropped.
    #[arg(long, default_value_t = 1 << 20)]
    pub sendq: usize,
    /// Seconds of silence before a client is pinged; as long again without
    /// an answer and it is dropped.
    #[arg(long, default_value_t = 120)]
    pub ping_interval: u64,
    /// Lines a client may send in a burst before throttling starts.
    #[arg(long, default_value_t = 20)]
    pub flood_burst: u32,
    /// Lines per second a client may send once its burst is spent
    /// (0 = unlimited, for load tests).
    #[arg(long, default_value_t = 10)]
    pub flood_rate: u32,
    /// I/O backend: auto (io_uring, or epoll where it is unavailable), io-uring or epoll
    /// [default: $URINGO_BACKEND, else auto].
    #[arg(long, value_name = "auto|io-uring|epoll")]
    pub backend: Option<uringo::Backend>,
    /// Serve Prometheus metrics at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// Join a network of nodes through this Redis server: nicks are unique
    /// across the nodes and channel messages reach every node in one order.
    #[arg(long, value_name = "redis://HOST:PORT", requires = "node")]
    pub cluster: Option<String>,
    /// This node's name in the cluster (unique per node; no spaces or ':').
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub node: Option<String>,
    /// How long a node's nicks outlive it if it dies without saying so.
    #[arg(long, value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(300..))]
    pub cluster_lease_ms: u64,
}

fn parse_oper(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((n, p)) if !n.is_empty() && !p.is_empty() && !n.contains(' ') => {
            Ok((n.to_string(), p.to_string()))
        }
        _ => Err("expected NAME:PASSWORD".into()),
    }
}
