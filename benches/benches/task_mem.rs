//! Memory per parked task: spawn N tasks that each wait forever on a future that never wakes
//! (a parked goroutine's analogue), then report how much resident memory grew per task, for
//! uringo and beside it tokio's current_thread runtime. Each runtime is measured in a fresh
//! child process (this program re-executed with `--child`), so one's heap does not pad the
//! other's figure.
//!
//! `cargo bench -p uringo-benches --bench task_mem [-- --tasks N]`

use std::io;
use std::process::Command;

use clap::Parser;
use uringo_benches::procfs;
use uringo_benches::stats::{thousands, Table};

#[derive(Debug, Parser)]
#[command(about = "Resident memory per parked task: uringo beside tokio")]
struct Cli {
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
    /// Tasks to park.
    #[arg(long, default_value_t = 1_000_000)]
    tasks: usize,
    /// Internal: measure one runtime in this process and print its figure.
    #[arg(long, hide = true)]
    child: Option<String>,
}

/// What a parked task waits on: pending forever, holding a little state as a real task would.
async fn parked(id: u64) {
    std::future::pending::<()>().await;
    std::hint::black_box(id);
}

fn rss_bytes() -> u64 {
    procfs::rss_kib(std::process::id()).unwrap_or(0) * 1024
}

/// RSS before and after spawning `n` parked tasks on `runtime`.
fn measure(runtime: &str, n: usize) -> io::Result<(u64, u64)> {
    match runtime {
        "uringo" => {
            let rt = uringo::Builder::new().cores(1).pin(false).build()?;
            Ok(rt.block_on(async {
                let before = rss_bytes();
                for id in 0..n as u64 {
                    drop(uringo::spawn(parked(id))); // detached, parked after its first poll
                }
                uringo::yield_now().await; // every task has run once and parked
                (before, rss_bytes())
            }))
        }
        "tokio" => {
            let rt = tokio::runtime::Builder::new_current_thread().build()?;
            Ok(rt.block_on(async {
                let before = rss_bytes();
                for id in 0..n as u64 {
                    drop(tokio::spawn(parked(id)));
                }
                tokio::task::yield_now().await;
                (before, rss_bytes())
            }))
        }
        other => Err(io::Error::other(format!("unknown runtime {other}"))),
    }
}

fn main() -> io::Result<()> {
    let cli = Cli::parse();
    if let Some(runtime) = cli.child {
        let (before, after) = measure(&runtime, cli.tasks)?;
        println!("{before} {after}");
        // The parked tasks are never woken; exit without tearing a million of them down.
        std::process::exit(0);
    }
    let mut t = Table::new(["runtime", "parked tasks", "RSS growth MiB", "bytes/task"]);
    for runtime in ["uringo", "tokio"] {
        let out = Command::new(std::env::current_exe()?)
            .args(["--child", runtime, "--tasks", &cli.tasks.to_string()])
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "{runtime} child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut nums = text
            .split_whitespace()
            .map(|w| w.parse::<u64>().unwrap_or(0));
        let (before, after) = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
        let grown = after.saturating_sub(before);
        t.row([
            runtime.to_string(),
            thousands(cli.tasks as f64),
            format!("{:.1}", grown as f64 / (1 << 20) as f64),
            format!("{:.0}", grown as f64 / cli.tasks.max(1) as f64),
        ]);
    }
    let command: Vec<String> = std::env::args().collect();
    println!("`{}`\n\n{}", command.join(" "), t.render());
    Ok(())
}
