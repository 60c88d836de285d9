//! Server memory per idle registered IRC client: uringo-server chat beside InspIRCd and
//! ngIRCd. Each server, pinned to one CPU, gets N clients registered in batches (10 at a time
//! for ngIRCd, whose listen backlog is 10; see `IrcKind::connect_batch`), left idle; its RSS
//! growth over N is the figure. Afterwards every tenth client must still answer a PING.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use uringo_benches::irc::{register_many, IrcKind, IrcServer};
use uringo_benches::procfs;
use uringo_benches::server::default_bin_dir;
use uringo_benches::stats::{thousands, Table};

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
    /// Directory of uringo-server [default: this program's].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Where configs and logs go [default: BIN_DIR/chat-mem].
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

fn run(cli: Cli) -> io::Result<()> {
    let bin_dir = cli.bin_dir.clone().unwrap_or_else(default_bin_dir);
    let out = cli.out.clone().unwrap_or_else(|| bin_dir.join("chat-mem"));
    let mut t = Table::new([
        "server",
        "idle clients",
        "RSS before KiB",
        "RSS after KiB",
        "bytes/client",
        "answering PING (1 in 10)",
    ]);
    for &kind in &cli.servers {
        let server = IrcServer::start(kind, &bin_dir, cli.server_cpu, &out)?;
        let before = procfs::rss_kib(server.pid())?;
        let clients = register_many(server.addr, "idle", cli.clients, kind.connect_batch())?;
        std::thread::sleep(Duration::from_millis(500)); // the last registrations settle
        let after = procfs::rss_kib(server.pid())?;
        let answering = still_answering(&clients);
        eprintln!("{}: {before} -> {after} KiB", kind.name());
        t.row([
            kind.name().to_string(),
            thousands(cli.clients as f64),
            before.to_string(),
            after.to_string(),
            format!(
                "{:.0}",
                after.saturating_sub(before) as f64 * 1024.0 / cli.clients as f64
            ),
            format!("{answering}/{}", cli.clients.div_ceil(10)),
        ]);
        drop(clients);
        drop(server);
    }
    let command: Vec<String> = std::env::args().collect();
    println!("`{}`\n\n{}", command.join(" "), t.render());
    Ok(())
}
