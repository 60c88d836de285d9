//! Command line: `uringo-loadgen echo ...` and `uringo-loadgen chat ...`.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "uringo-loadgen",
    version,
    about = "Load generator for uringo-server (echo, chat)",
    // A later flag overrides an earlier one, so scripts can append to a base command line.
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Drive an echo server: verify every byte, report throughput and latency.
    Echo(EchoArgs),
    /// Drive an IRC server: N clients in C channels, check every delivery.
    Chat(ChatArgs),
}

#[derive(Debug, Clone, Args)]
pub struct EchoArgs {
    /// Server address. To an IPv4 loopback address, connections come from 1,024 source
    /// addresses of 127.1.0.0/16 (round robin), not all from 127.0.0.1 and its ports.
    #[arg(long, default_value = "127.0.0.1:7000")]
    pub addr: SocketAddr,
    /// Connections, spread over the cores.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..))]
    pub conns: u64,
    /// Message size in bytes.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=(1 << 24)))]
    pub size: u64,
    /// Measured time (e.g. 10s, 500ms, 1m), after the warmup.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Time to run before measuring (connections established, caches warm).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Closed loop: messages in flight per connection.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=4096), conflicts_with = "rate")]
    pub pipeline: u64,
    /// Open loop: messages per second across all connections; latency is measured from each
    /// message's intended send time (coordinated-omission correction).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub rate: Option<u64>,
    /// Runtime cores (threads) loadgen uses [default: available CPUs].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub cores: Option<u64>,
    /// Write the summary as JSON to this file (`-` for stdout).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the HdrHistogram percentile distribution (milliseconds) to this file.
    #[arg(long)]
    pub hgrm: Option<PathBuf>,
    /// Write an SVG latency-by-percentile chart to this file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Server process id: report its CPU time per message (from /proc/PID/stat).
    #[arg(long)]
    pub server_pid: Option<u32>,
}

#[derive(Debug, Clone, Args)]
pub struct ChatArgs {
    /// Server address; several (comma-separated or repeated) spread the clients over them,
    /// client i on address i mod count, as for the nodes of one cluster.
    #[arg(long, default_value = "127.0.0.1:6667", value_delimiter = ',', num_args = 1..)]
    pub addr: Vec<SocketAddr>,
    /// IRC clients to register.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    pub clients: u64,
    /// Channels (#lg0, #lg1, ...).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub channels: u64,
    /// Channels each client joins (at most --channels).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub joins: u64,
    /// Open loop: PRIVMSGs per second, across all clients.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub rate: u64,
    /// Closed loop instead of --rate: each client keeps about this many of its messages in
    /// flight (a message is in flight until every member of its channel received it).
    #[arg(long, conflicts_with = "rate", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub in_flight: Option<u64>,
    /// PRIVMSG text size in bytes (at least the header loadgen needs, about 40).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=400))]
    pub size: u64,
    /// Time spent sending (e.g. 10s); deliveries are then drained before the summary.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Runtime cores (threads) loadgen uses [default: available CPUs].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub cores: Option<u64>,
    /// Write the summary as JSON to this file (`-` for stdout).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the HdrHistogram percentile distribution of delivery latency (ms) to this file.
    #[arg(long)]
    pub hgrm: Option<PathBuf>,
    /// Write an SVG delivery-latency-by-percentile chart to this file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Server process id (repeat for several): report its CPU time per delivery.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// At most this many clients between connect and 001 at once [default: no limit]; for
    /// servers with a short listen backlog (ngIRCd's is 10), which drop connects beyond it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub connect_concurrency: Option<u64>,
}

impl Default for ChatArgs {
    /// The command line's defaults (`uringo-loadgen chat` with no flags).
    fn default() -> Self {
        match Cli::parse_from(["uringo-loadgen", "chat"]).command {
            Command::Chat(args) => args,
            Command::Echo(_) => unreachable!("parsed the chat subcommand"),
        }
    }
}

/// Parses `10s`, `250ms`, `2m`, `1.5s`, `100us` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (try 10s, 500ms, 2m)"))?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown duration unit `{other}` (use h, m, s, ms, us)"
            ))
        }
    };
    Duration::try_from_secs_f64(value * scale).map_err(|e| format!("`{s}`: {e}"))
}

impl ChatArgs {
    /// A short run for tests: two seconds of 64-byte messages from one core, each client in
    /// one channel; set clients, channels and rate (or `in_flight`) with struct update syntax.
    pub fn short(addr: Vec<SocketAddr>) -> ChatArgs {
        ChatArgs {
            addr,
            joins: 1,
            size: 64,
            duration: Duration::from_secs(2),
            cores: Some(1),
            ..ChatArgs::default()
        }
    }

    /// Checks what clap cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if self.joins > self.channels {
            return Err(format!(
                "--joins {} exceeds --channels {}",
                self.joins, self.channels
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("uringo-loadgen").chain(args.iter().copied()))
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("100us"), Ok(Duration::from_micros(100)));
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn echo_defaults_and_flags() {
        let Command::Echo(e) = parse(&["echo"]).unwrap().command else {
            panic!("not echo")
        };
        assert_eq!((e.conns, e.size, e.pipeline, e.rate), (128, 64, 1, None));
        assert_eq!(e.addr, "127.0.0.1:7000".parse().unwrap());
        let Command::Echo(e) = parse(&[
            "echo",
            "--addr",
            "127.0.0.1:9",
            "--conns",
            "16",
            "--size",
            "1024",
            "--duration",
            "2s",
            "--warmup",
            "0s",
            "--rate",
            "50000",
            "--cores",
            "1",
            "--json",
            "out.json",
            "--hgrm",
            "out.hgrm",
            "--plot",
            "out.svg",
            "--server-pid",
            "42",
        ])
        .unwrap()
        .command
        else {
            panic!("not echo")
        };
        assert_eq!(
            (e.conns, e.size, e.rate, e.cores, e.server_pid),
            (16, 1024, Some(50000), Some(1), Some(42))
        );
        assert_eq!(
            (e.duration, e.warmup),
            (Duration::from_secs(2), Duration::ZERO)
        );
        assert_eq!(e.plot.as_deref(), Some(std::path::Path::new("out.svg")));
    }

    #[test]
    fn echo_rejects_nonsense() {
        assert!(parse(&["echo", "--conns", "0"]).is_err());
        assert!(parse(&["echo", "--size", "0"]).is_err());
        assert!(parse(&["echo", "--pipeline", "4", "--rate", "100"]).is_err());
        assert!(parse(&["echo", "--addr", "localhost"]).is_err());
    }

    #[test]
    fn chat_flags_and_validation() {
        let Command::Chat(c) = parse(&[
            "chat",
            "--clients",
            "1000",
            "--channels",
            "50",
            "--joins",
            "3",
            "--rate",
            "5000",
            "--size",
            "100",
            "--duration",
            "3s",
        ])
        .unwrap()
        .command
        else {
            panic!("not chat")
        };
        assert_eq!(
            (c.clients, c.channels, c.joins, c.rate, c.size),
            (1000, 50, 3, 5000, 100)
        );
        assert!(c.validate().is_ok());
        assert_eq!(c.addr, vec!["127.0.0.1:6667".parse().unwrap()]);
        let Command::Chat(c) = parse(&["chat", "--channels", "2", "--joins", "3"])
            .unwrap()
            .command
        else {
            panic!("not chat")
        };
        assert!(c.validate().is_err());
        assert!(parse(&["chat", "--clients", "1"]).is_err());
    }

    #[test]
    fn chat_takes_several_addresses_and_closed_loop() {
        let addrs = |args: &[&str]| match parse(args).unwrap().command {
            Command::Chat(c) => c.addr,
            Command::Echo(_) => panic!("not chat"),
        };
        let two: Vec<SocketAddr> = vec![
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
        ];
        assert_eq!(addrs(&["chat", "--addr", "127.0.0.1:1,127.0.0.1:2"]), two);
        assert_eq!(
            addrs(&["chat", "--addr", "127.0.0.1:1", "--addr", "127.0.0.1:2"]),
            two
        );
        let Command::Chat(c) = parse(&["chat", "--in-flight", "4", "--server-pid", "7,8"])
            .unwrap()
            .command
        else {
            panic!("not chat")
        };
        assert_eq!((c.in_flight, c.server_pid), (Some(4), vec![7, 8]));
        assert_eq!(c.connect_concurrency, None);
        assert!(parse(&["chat", "--connect-concurrency", "0"]).is_err());
        assert!(parse(&["chat", "--in-flight", "4", "--rate", "10"]).is_err());
        assert_eq!(ChatArgs::default().clients, 100);
    }
}
