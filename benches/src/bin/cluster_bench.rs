//! Chat across a cluster on this machine: `uringo-server chat --cluster` with 1, 2 and 3
//! nodes on one real redis-server, and one server without `--cluster` (what the cluster
//! costs a single node), driven by `uringo-loadgen chat` with its clients spread over the
//! nodes. loadgen checks every delivery (lost, duplicated, reordered) and that all members
//! of a channel saw one order.
//!
//! Two workloads: a fixed rate (open loop, latency from the intended send time) and a closed
//! loop (each client keeps K messages in flight until every member got them), the
//! throughput the setup sustains. Setups run interleaved, in a rotated order each round,
//! and every figure is the median over the rounds. CPU per delivery is user + kernel time
//! from /proc/PID/stat over the sending window (see `uringo_benches::irc::chat_load`), summed over
//! the node processes, and apart for redis-server.
//!
//! Build first: `cargo build --release -p uringo-server -p uringo-loadgen -p uringo-benches`.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use uringo_benches::irc::chat_load::{ChatLoad, ChatResult, Pace};
use uringo_benches::procfs::loadavg;
use uringo_benches::redis::Redis;
use uringo_benches::server::{
    default_bin_dir, free_local_addr, out_dir, terminate, unix_time, wait_accepting,
};
use uringo_benches::stats::{fixed, median, thousands, Table};

#[derive(Debug, Parser)]
#[command(about = "Chat throughput, latency and CPU with 1, 2 and 3 cluster nodes on one Redis")]
struct Cli {
    /// Setups, in round order: `none` (one server without --cluster) or a node count.
    #[arg(long, value_delimiter = ',', default_value = "none,1,2,3")]
    setups: Vec<Setup>,
    /// Interleaved rounds; every figure is the median over them.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Seconds of sending per run.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    #[arg(long, default_value_t = 1000)]
    clients: u64,
    #[arg(long, default_value_t = 50)]
    channels: u64,
    /// The fixed-rate workload: PRIVMSGs per second over all clients (0: skip it).
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// The closed-loop workload: messages in flight per client (0: skip it).
    #[arg(long, default_value_t = 1)]
    in_flight: u64,
    /// PRIVMSG text bytes.
    #[arg(long, default_value_t = 64)]
    size: u64,
    /// Cores (`--cores`) of each chat server.
    #[arg(long, default_value_t = 1)]
    node_cores: usize,
    /// CPUs of the nodes (taskset lists, `:`-separated): node k runs on the k-th, cycling.
    #[arg(long, value_delimiter = ':', default_value = "0:1")]
    node_cpus: Vec<String>,
    /// CPUs loadgen may run on (a taskset list).
    #[arg(long, default_value = "0-1")]
    loadgen_cpus: String,
    /// Runtime cores of loadgen.
    #[arg(long, default_value_t = 1)]
    loadgen_cores: u64,
    /// The redis-server binary.
    #[arg(long, default_value = "redis-server")]
    redis: String,
    /// Directory of uringo-server and uringo-loadgen [default: this program's].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Logs and loadgen JSON [default: BIN_DIR/cluster-runs/UNIX_TIME].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// What serves the chat: one server without `--cluster`, or N cluster nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Setup {
    Alone,
    Nodes(usize),
}

impl std::str::FromStr for Setup {
    type Err = String;
    fn from_str(s: &str) -> Result<Setup, String> {
        match s {
            "none" => Ok(Setup::Alone),
            n => match n.parse() {
                Ok(n @ 1..=9) => Ok(Setup::Nodes(n)),
                _ => Err(format!("setup {s:?}: `none` or a node count 1-9")),
            },
        }
    }
}

impl Setup {
    fn servers(self) -> usize {
        match self {
            Setup::Alone => 1,
            Setup::Nodes(n) => n,
        }
    }

    fn label(self) -> String {
        match self {
            Setup::Alone => "1, no --cluster".into(),
            Setup::Nodes(n) => n.to_string(),
        }
    }
}

/// One chat server process; dropping it kills the process if it still runs.
struct Node {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("cluster-bench: {e}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> io::Result<()> {
    let bin_dir = cli.bin_dir.clone().unwrap_or_else(default_bin_dir);
    let out = out_dir(
        cli.out.as_deref(),
        &bin_dir,
        &format!("cluster-runs/{}", unix_time()),
    )?;
    let paces = paces(&cli);
    if cli.setups.is_empty() || paces.is_empty() || cli.rounds == 0 {
        return Err(io::Error::other("nothing to measure"));
    }
    let load_before = loadavg();
    let started = Instant::now();
    let redis = Redis::start(&cli.redis, &out.join("redis.log"))?;
    println!(
        "redis-server {} (pid {}); logs in {}",
        redis.addr,
        redis.pid(),
        out.display()
    );
    let mut results: HashMap<(Pace, Setup), Vec<ChatResult>> = HashMap::new();
    for round in 0..cli.rounds {
        for &pace in &paces {
            for i in 0..cli.setups.len() {
                let setup = cli.setups[(i + round) % cli.setups.len()];
                let r = measure(&cli, &bin_dir, &out, &redis, setup, pace, round)?;
                println!(
                    "round {} {} {}: {}",
                    round + 1,
                    pace_label(pace),
                    setup.label(),
                    progress(&r, cli.duration)
                );
                results.entry((pace, setup)).or_default().push(r);
            }
        }
    }
    redis.stop(Duration::from_secs(5))?;
    let load_after = loadavg();
    println!();
    println!("`{}`", std::env::args().collect::<Vec<_>>().join(" "));
    println!(
        "{} rounds x {} s, median of rounds, took {} s; load average {} (start), {} (end)\n",
        cli.rounds,
        cli.duration,
        started.elapsed().as_secs(),
        load_before,
        load_after
    );
    print!("{}", table(&cli, &paces, &results).render());
    Ok(())
}

fn paces(cli: &Cli) -> Vec<Pace> {
    let mut paces = Vec::new();
    if cli.rate > 0 {
        paces.push(Pace::Rate(cli.rate));
    }
    if cli.in_flight > 0 {
        paces.push(Pace::InFlight(cli.in_flight));
    }
    paces
}

/// One run: fresh Redis keys, the setup's servers started, loadgen over them, servers stopped.
fn measure(
    cli: &Cli,
    bin_dir: &Path,
    out: &Path,
    redis: &Redis,
    setup: Setup,
    pace: Pace,
    round: usize,
) -> io::Result<ChatResult> {
    redis.flush_all()?;
    let tag = format!("r{}-{}-{}", round + 1, pace_tag(pace), setup_tag(setup));
    let log = out.join(format!("{tag}.log"));
    let mut nodes = Vec::new();
    for k in 0..setup.servers() {
        nodes.push(start_node(cli, bin_dir, &log, setup, k, redis)?);
    }
    let pids: Vec<u32> = nodes.iter().map(|n| n.child.id()).collect();
    let load = ChatLoad {
        addrs: nodes.iter().map(|n| n.addr).collect(),
        clients: cli.clients,
        channels: cli.channels,
        pace,
        size: cli.size,
        duration: Duration::from_secs_f64(cli.duration),
        cores: cli.loadgen_cores,
        connect_concurrency: None,
        server_pids: pids.clone(),
        json: out.join(format!("{tag}.json")),
        hgrm: None,
    };
    let watch = [pids, vec![redis.pid()]];
    let result = load.run(
        &bin_dir.join("uringo-loadgen"),
        &cli.loadgen_cpus,
        &log,
        &watch,
    );
    for mut node in nodes {
        terminate(&mut node.child, Duration::from_secs(5))?;
    }
    result
}

/// Starts server `k` of `setup`, pinned to its CPUs, and waits until it accepts.
fn start_node(
    cli: &Cli,
    bin_dir: &Path,
    log: &Path,
    setup: Setup,
    k: usize,
    redis: &Redis,
) -> io::Result<Node> {
    let addr = free_local_addr()?;
    let cpus = &cli.node_cpus[k % cli.node_cpus.len()];
    let out = File::options().create(true).append(true).open(log)?;
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", cpus])
        .arg(bin_dir.join("uringo-server"))
        .args(["chat", "--listen", &addr.to_string()])
        .args(["--cores", &cli.node_cores.to_string(), "--flood-rate", "0"]);
    if let Setup::Nodes(_) = setup {
        cmd.args(["--cluster", &redis.url(), "--node", &format!("n{}", k + 1)]);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()?;
    let mut node = Node { child, addr };
    let name = format!("uringo-server node {}", k + 1);
    wait_accepting(&mut node.child, addr, &name, Duration::from_secs(10))?;
    Ok(node)
}

fn progress(r: &ChatResult, duration: f64) -> String {
    format!(
        "sent {}/s, {} deliveries/s, p50 {} ms, p99 {} ms, nodes {} us/delivery, redis {} us/delivery, \
         lost/dup/reordered/order conflicts/errors {}/{}/{}/{}/{}",
        thousands(r.sent as f64 / duration),
        thousands(r.deliveries_per_s),
        fixed(Some(r.latency.p50_us / 1e3), 2),
        fixed(Some(r.latency.p99_us / 1e3), 2),
        fixed(r.window_us_per_delivery(0), 2),
        fixed(r.window_us_per_delivery(1), 2),
        r.lost,
        r.duplicated,
        r.out_of_order,
        r.order_conflicts,
        r.error_total
    )
}

fn table(cli: &Cli, paces: &[Pace], results: &HashMap<(Pace, Setup), Vec<ChatResult>>) -> Table {
    let mut t = Table::new([
        "workload",
        "nodes",
        "clients",
        "channels",
        "offered msg/s",
        "sent msg/s",
        "deliveries/s",
        "p50 ms",
        "p99 ms",
        "nodes CPU µs/delivery",
        "redis CPU µs/delivery",
        "lost/dup/reordered/order conflicts",
        "errors",
    ]);
    for &pace in paces {
        for &setup in &cli.setups {
            let Some(rs) = results.get(&(pace, setup)) else {
                continue;
            };
            let med = |f: &dyn Fn(&ChatResult) -> Option<f64>| {
                median(&rs.iter().filter_map(f).collect::<Vec<_>>())
            };
            let redis = match setup {
                Setup::Alone => "-".into(),
                Setup::Nodes(_) => fixed(med(&|r| r.window_us_per_delivery(1)), 2),
            };
            let sum = |f: fn(&ChatResult) -> u64| rs.iter().map(f).sum::<u64>();
            t.row([
                pace_label(pace),
                setup.label(),
                thousands(cli.clients as f64),
                thousands(cli.channels as f64),
                match pace {
                    Pace::Rate(r) => thousands(r as f64),
                    Pace::InFlight(_) => "closed loop".into(),
                },
                thousands(med(&|r| Some(r.sent as f64 / cli.duration)).unwrap_or(f64::NAN)),
                thousands(med(&|r| Some(r.deliveries_per_s)).unwrap_or(f64::NAN)),
                fixed(med(&|r| Some(r.latency.p50_us / 1e3)), 2),
                fixed(med(&|r| Some(r.latency.p99_us / 1e3)), 2),
                fixed(med(&|r| r.window_us_per_delivery(0)), 2),
                redis,
                format!(
                    "{}/{}/{}/{}",
                    sum(|r| r.lost),
                    sum(|r| r.duplicated),
                    sum(|r| r.out_of_order),
                    sum(|r| r.order_conflicts)
                ),
                sum(|r| r.error_total).to_string(),
            ]);
        }
    }
    t
}

fn pace_label(pace: Pace) -> String {
    match pace {
        Pace::Rate(r) => format!("fixed {} msg/s", thousands(r as f64)),
        Pace::InFlight(k) => format!("closed, {k} in flight/client"),
    }
}

fn pace_tag(pace: Pace) -> String {
    match pace {
        Pace::Rate(r) => format!("rate{r}"),
        Pace::InFlight(k) => format!("closed{k}"),
    }
}

fn setup_tag(setup: Setup) -> String {
    match setup {
        Setup::Alone => "nocluster".into(),
        Setup::Nodes(n) => format!("{n}nodes"),
    }
}
