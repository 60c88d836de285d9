//! Chat servers side by side: uringo-server chat, InspIRCd and ngIRCd, each pinned to one CPU,
//! driven by `uringo-loadgen chat` pinned to the other, under the same workloads: fixed rates
//! (1,000 clients in 50 channels at 38,000 deliveries/s, 5,000 in 100 at 24,500) and a rate
//! ladder that finds how many deliveries/s each server keeps up with on one CPU.
//!
//! Every run starts the server afresh (its peak RSS is then the run's own), so no run inherits
//! another's clients. Rounds are interleaved and each rotates the server order, so a busy spell
//! on the machine does not always hit the same server; the tables show medians over rounds.
//! ngIRCd listens with a backlog of 10, so loadgen connects its clients at most 10 at a time
//! (`--connect-concurrency`, from `IrcKind::loadgen_connect_concurrency`).
//!
//! On a machine shared with other work, `--realtime` runs everything under SCHED_FIFO (and
//! first waits for other real-time benchmarks to end): without it the servers and loadgen
//! spend longer waiting for a CPU than running, and latency and capacity measure that wait.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use uringo_benches::irc::chat_load::{ChatLoad, ChatResult, Pace};
use uringo_benches::irc::{IrcKind, IrcServer};
use uringo_benches::procfs::loadavg;
use uringo_benches::server::{default_bin_dir, out_dir};

// A crate root finds submodules beside itself: point at this bin's own directory.
#[path = "chat_compare/quiet.rs"]
mod quiet;
#[path = "chat_compare/report.rs"]
mod report;
#[path = "chat_compare/workload.rs"]
mod workload;

use workload::{Step, Workload};

/// PRIVMSG text bytes of every run (loadgen's default).
const PRIVMSG_BYTES: u64 = 64;

#[derive(Debug, Parser)]
#[command(about = "uringo-server chat beside InspIRCd and ngIRCd under uringo-loadgen chat")]
pub struct Cli {
    #[arg(long, value_delimiter = ',', default_value = "uringo,inspircd,ngircd")]
    servers: Vec<IrcKind>,
    /// Interleaved rounds; every figure is the median over them.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Fixed-rate workloads as CLIENTS/CHANNELS/DELIVERIES_PER_S (each client in one channel).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1000/50/38000,5000/100/24500"
    )]
    fixed: Vec<Workload>,
    /// Sending time of each fixed-rate run, seconds.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Clients and channels of the rate ladder, as CLIENTS/CHANNELS. 100 members a channel:
    /// loadgen's one core then spends little on sending (one PRIVMSG makes 99 deliveries) and
    /// can offer past 2,000,000 deliveries/s, beyond where the servers fall behind.
    #[arg(long, default_value = "1000/10", value_parser = workload::parse_shape)]
    ladder_shape: (u64, u64),
    /// Offered deliveries/s of the ladder's steps, climbed until a server falls behind
    /// (empty: no ladder).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "100000,250000,500000,750000,1000000,1250000,1500000,1750000,2000000,\
                         2250000,2500000,3000000,3500000,4000000"
    )]
    ladder: Vec<u64>,
    /// Sending time of each ladder step, seconds.
    #[arg(long, default_value_t = 3.0)]
    ladder_duration: f64,
    /// A ladder step is kept up with if nothing is lost, no error is counted, at least 97% of
    /// the offered deliveries arrive within the sending time and p99 stays at most this (ms).
    #[arg(long, default_value_t = 100.0)]
    ladder_p99_ms: f64,
    #[arg(long, default_value_t = 1)]
    server_cpu: usize,
    #[arg(long, default_value_t = 0)]
    loadgen_cpu: usize,
    /// Run this harness, and so the servers and loadgen it starts, under SCHED_FIFO (needs
    /// root or CAP_SYS_NICE). On a machine shared with other work the processes otherwise wait
    /// on the run queue longer than they run, and every figure but CPU time measures that
    /// wait; the kernel's RT throttling still leaves 5% of each CPU to everything else.
    #[arg(long)]
    realtime: bool,
    /// With --realtime, before each run wait up to this many seconds for other real-time
    /// processes (another benchmark) to end; they would preempt the runs.
    #[arg(long, default_value_t = 90.0)]
    rt_wait: f64,
    /// Directory of uringo-server and uringo-loadgen [default: this program's].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Where configs, logs, loadgen JSON and histograms go [default: BIN_DIR/chat-compare-runs].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// One measured run of one server.
#[derive(Debug, Clone)]
pub struct Run {
    pub result: ChatResult,
    /// The server's peak resident memory over the run (VmHWM), KiB.
    pub peak_rss_kib: u64,
}

/// One server's climb up the ladder in one round.
#[derive(Debug, Clone, Default)]
pub struct Climb {
    /// The highest step kept up with, and its run.
    pub kept_up: Option<(u64, Run)>,
    /// The first step not kept up with, and why.
    pub missed: Option<(u64, String)>,
}

/// Everything measured: `fixed[w][s]` and `ladder[s]` hold one entry per round.
pub struct Measured {
    pub fixed: Vec<Vec<Vec<Run>>>,
    pub ladder: Vec<Vec<Climb>>,
}

struct Harness {
    cli: Cli,
    bin_dir: PathBuf,
    out: PathBuf,
    runs: usize,
    /// Time spent waiting for other real-time processes.
    waited: Duration,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = set_realtime(cli.realtime).and_then(|()| Harness::new(cli)?.run_all()) {
        eprintln!("chat-compare: {e}");
        std::process::exit(1);
    }
}

/// SCHED_FIFO at the lowest real-time priority for this (single-threaded) process; the
/// children it starts inherit it.
fn set_realtime(on: bool) -> io::Result<()> {
    if !on {
        return Ok(());
    }
    let param = libc::sched_param { sched_priority: 1 };
    // SAFETY: `param` is a valid sched_param for the call's duration; 0 is this thread.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) } != 0 {
        return Err(io::Error::other(format!(
            "--realtime: sched_setscheduler(SCHED_FIFO): {}",
            io::Error::last_os_error()
        )));
    }
    Ok(())
}

impl Harness {
    fn new(cli: Cli) -> io::Result<Harness> {
        let bin_dir = cli.bin_dir.clone().unwrap_or_else(default_bin_dir);
        let out = out_dir(cli.out.as_deref(), &bin_dir, "chat-compare-runs")?;
        for exe in ["uringo-server", "uringo-loadgen"] {
            if !bin_dir.join(exe).exists() {
                return Err(io::Error::other(format!(
                    "{} not found (cargo build --release -p uringo-server -p uringo-loadgen)",
                    bin_dir.join(exe).display()
                )));
            }
        }
        Ok(Harness {
            cli,
            bin_dir,
            out,
            runs: 0,
            waited: Duration::ZERO,
        })
    }

    fn run_all(mut self) -> io::Result<()> {
        let began = Instant::now();
        println!("{}", report::preamble(&self.cli));
        let n = self.cli.servers.len();
        let mut m = Measured {
            fixed: vec![vec![Vec::new(); n]; self.cli.fixed.len()],
            ladder: vec![Vec::new(); n],
        };
        for round in 0..self.cli.rounds {
            // Round r starts with server r (mod n), so each leads once every n rounds.
            let order: Vec<usize> = (0..n).map(|i| (i + round) % n).collect();
            for (w, &work) in self.cli.fixed.clone().iter().enumerate() {
                for &s in &order {
                    let step = Step::fixed(work, self.cli.duration);
                    let run = self.measure(self.cli.servers[s], step, round)?;
                    m.fixed[w][s].push(run);
                }
            }
            for &s in &order {
                let climb = self.climb(self.cli.servers[s], round)?;
                m.ladder[s].push(climb);
            }
        }
        println!("{}", report::tables(&self.cli, &m));
        println!(
            "total time {:.0} s (of which {:.0} s waiting for other real-time processes); \
             load average after: {}",
            began.elapsed().as_secs_f64(),
            self.waited.as_secs_f64(),
            loadavg()
        );
        Ok(())
    }

    /// Climbs the ladder until `kind` misses a step twice in a row: a step missed once is run
    /// again, so that a moment of interference from the rest of the machine (a p99 over the
    /// limit in a 3 s run) does not end the climb.
    fn climb(&mut self, kind: IrcKind, round: usize) -> io::Result<Climb> {
        let mut climb = Climb::default();
        let (clients, channels) = self.cli.ladder_shape;
        for &deliveries in &self.cli.ladder.clone() {
            let work = Workload {
                clients,
                channels,
                deliveries,
            };
            let step = Step::ladder(work, self.cli.ladder_duration);
            match self.try_step(kind, step, round)? {
                Ok(run) => climb.kept_up = Some((deliveries, run)),
                Err(why) => {
                    climb.missed = Some((deliveries, why));
                    break;
                }
            }
        }
        Ok(climb)
    }

    /// Runs `step`, and once more if it fell short; the run that kept up, or why the second
    /// one did not.
    fn try_step(
        &mut self,
        kind: IrcKind,
        step: Step,
        round: usize,
    ) -> io::Result<Result<Run, String>> {
        let mut why = String::new();
        for attempt in 0..2 {
            let run = self.measure(kind, step, round)?;
            match workload::shortfall(&run.result, &step, self.cli.ladder_p99_ms) {
                None => return Ok(Ok(run)),
                Some(w) => {
                    let busy = run.result.cpu.loadgen_cpu_s / step.duration.as_secs_f64();
                    let first = if attempt == 0 { "" } else { "; then " };
                    why += &format!("{first}{w}, loadgen {:.0}% busy", busy * 100.0);
                }
            }
        }
        Ok(Err(why))
    }

    /// Starts `kind` afresh, drives `step` through it, reads its peak RSS and stops it.
    fn measure(&mut self, kind: IrcKind, step: Step, round: usize) -> io::Result<Run> {
        self.runs += 1;
        if self.cli.realtime {
            self.waited += quiet::wait_for_others(Duration::from_secs_f64(self.cli.rt_wait));
        }
        let tag = format!("{:03}-{}-{}", self.runs, step.tag(), kind.name());
        let server = IrcServer::start(
            kind,
            &self.bin_dir,
            self.cli.server_cpu,
            &self.out.join("servers"),
        )?;
        let load = ChatLoad {
            addrs: vec![server.addr],
            clients: step.work.clients,
            channels: step.work.channels,
            pace: Pace::Rate(step.work.rate()),
            size: PRIVMSG_BYTES,
            duration: step.duration,
            cores: 1,
            connect_concurrency: kind.loadgen_connect_concurrency(),
            server_pids: vec![server.pid()],
            json: self.out.join(format!("{tag}.json")),
            hgrm: Some(self.out.join(format!("{tag}.hgrm"))),
        };
        let started = Instant::now();
        let result = load.run(
            &self.bin_dir.join("uringo-loadgen"),
            &self.cli.loadgen_cpu.to_string(),
            &self.out.join("loadgen.log"),
            &[],
        )?;
        let peak_rss_kib = peak_rss_kib(server.pid())?;
        drop(server);
        let run = Run {
            result,
            peak_rss_kib,
        };
        println!(
            "{}",
            report::run_line(round, kind, &step, &run, started.elapsed())
        );
        Ok(run)
    }
}

/// `VmHWM` of `pid`: the most resident memory it has had.
fn peak_rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    uringo_benches::procfs::status_field(&status, "VmHWM")
        .and_then(|v| v.trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmHWM in /proc/PID/status"))
}
