//! Server memory per idle registered IRC client: uringo-server chat beside InspIRCd and
//! ngIRCd. Each server, pinned to one CPU, gets N clients registered in batches (10 at a time
//! for ngIRCd, whose listen backlog is 10; see `IrcKind::connect_batch`), left idle; its RSS
//! growth over N is the figure. Afterwards every tenth client must still answer a PING.
//! With `--rounds R` the servers take turns R times and the table shows medians, with the
//! spread of bytes per client.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use uringo_benches::irc::{register_many, IrcKind, IrcServer};
use uringo_benches::procfs;
use uringo_benches::server::default_bin_dir;
use uringo_benches::stats::{median, thousands, Table};

#[derive(Debug, Parser)]
#[command(about = "Server RSS per idle registered IRC client: uringo, InspIRCd, ngIRCd")]
struct Cli {
    #[arg(long, value_delimiter = ',', default_value = "uringo,inspircd,ngircd")]
    servers: Vec<IrcKind>,
    /// Idle registered clients per server.
    #[arg(long, default_value_t = 5_000)]
    clients: usize,
    #[arg(long, default_value_t = 1)]
    server_cpu: usize,
    /// Rounds; each round starts every server afresh, in turn.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Directory of uringo-server [default: this program's].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Where configs and logs go [default: BIN_DIR/chat-mem-runs; BIN_DIR/chat-mem is this program].
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("chat-mem: {e}");
        std::process::exit(1);
    }
}

fn still_answering(clients: &[TcpStream]) -> usize {
    clients
        .iter()
        .step_by(10)
        .filter(|c| {
            let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
            if (&**c).write_all(b"PING :alive\r\n").is_err() {
                return false;
            }
            let mut r = BufReader::new(*c);
            let mut line = String::new();
            while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if line.contains("PONG") && line.contains("alive") {
                    return true;
                }
                line.clear();
            }
            false
        })
        .count()
}

/// One server's figures in one round.
struct Sample {
    before_kib: u64,
    after_kib: u64,
    answering: usize,
}

impl Sample {
    fn bytes_per_client(&self, clients: usize) -> f64 {
        self.after_kib.saturating_sub(self.before_kib) as f64 * 1024.0 / clients as f64
    }
}

fn measure(cli: &Cli, kind: IrcKind, bin_dir: &Path, out: &Path) -> io::Result<Sample> {
    let server = IrcServer::start(kind, bin_dir, cli.server_cpu, out)?;
    let before_kib = procfs::rss_kib(server.pid())?;
    let clients = register_many(server.addr, "idle", cli.clients, kind.connect_batch())?;
    std::thread::sleep(Duration::from_millis(500)); // the last registrations settle
    let after_kib = procfs::rss_kib(server.pid())?;
    let answering = still_answering(&clients);
    eprintln!("{}: {before_kib} -> {after_kib} KiB", kind.name());
    Ok(Sample {
        before_kib,
        after_kib,
        answering,
    })
}

fn run(cli: Cli) -> io::Result<()> {
    let bin_dir = cli.bin_dir.clone().unwrap_or_else(default_bin_dir);
    let out = cli
        .out
        .clone()
        .unwrap_or_else(|| bin_dir.join("chat-mem-runs"));
    let mut samples: Vec<Vec<Sample>> = cli.servers.iter().map(|_| Vec::new()).collect();
    for _ in 0..cli.rounds.max(1) {
        for (i, &kind) in cli.servers.iter().enumerate() {
            samples[i].push(measure(&cli, kind, &bin_dir, &out)?);
        }
    }
    let mut t = Table::new([
        "server",
        "idle clients",
        "RSS before KiB",
        "RSS after KiB",
        "bytes/client",
        "spread",
        "answering PING (1 in 10)",
    ]);
    let med = |v: Vec<f64>| median(&v).unwrap_or(0.0);
    for (kind, runs) in cli.servers.iter().zip(&samples) {
        let per_client: Vec<f64> = runs
            .iter()
            .map(|s| s.bytes_per_client(cli.clients))
            .collect();
        let (lo, hi) = per_client
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), &b| (lo.min(b), hi.max(b)));
        let answering = runs.iter().map(|s| s.answering).min().unwrap_or(0);
        t.row([
            kind.name().to_string(),
            thousands(cli.clients as f64),
            format!(
                "{:.0}",
                med(runs.iter().map(|s| s.before_kib as f64).collect())
            ),
            format!(
                "{:.0}",
                med(runs.iter().map(|s| s.after_kib as f64).collect())
            ),
            format!("{:.0}", med(per_client)),
            format!("{lo:.0}-{hi:.0}"),
            format!("{answering}/{}", cli.clients.div_ceil(10)),
        ]);
    }
    let command: Vec<String> = std::env::args().collect();
    println!("`{}`\n\n{}", command.join(" "), t.render());
    Ok(())
}
