//! uringo against Go itself, the model of its goroutines and channels:
//! the same programs (benches/go/main.go is the Go side), run alternately,
//! medians printed side by side. Skipped, saying so, when no Go toolchain
//! is installed (`apt-get install golang-go`).
//!
//! ```text
//! cargo bench -p uringo-benches --bench go [-- --quick]
//! ```
//!
//! Cases, each side pinned with taskset (one CPU, or two for "across cores";
//! Go with GOMAXPROCS to match, uringo with that many cores):
//! - unbuffered ping-pong on one core: two tasks bounce a value over two
//!   rendezvous channels (`make(chan int)`);
//! - buffered stream on one core and across two: a producer sends u64s
//!   into a capacity-1024 channel, a consumer receives them one at a time;
//! - 1,000,000 parked tasks: spawn them, each blocks receiving from one
//!   channel; the time until all are parked and the resident memory they
//!   add per task (each side in a fresh process), then the time to wake
//!   them all by closing the channel;
//! - WaitGroup over 1,000,000 tasks: spawn them, each calls `done()`, wait.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use uringo::sync::WaitGroup;

use uringo_benches::procfs::rss_kib;
use uringo_benches::stats::{median, per_sec, ratio, thousands, Table};

const RUNS: usize = 5;

fn runtime(cores: usize) -> uringo::Runtime {
    uringo::Builder::new()
        .cores(cores)
        .build()
        .expect("uringo runtime")
}

async fn ping_pong(n: u64) -> Duration {
    let (ping_tx, ping_rx) = uringo::chan::<u64>(0);
    let (pong_tx, pong_rx) = uringo::chan::<u64>(0);
    uringo::spawn(async move {
        while let Some(v) = ping_rx.recv().await {
            pong_tx.send(v).await.unwrap();
        }
    });
    uringo::spawn(async move {
        let start = Instant::now();
        for i in 0..n {
            ping_tx.send(i).await.unwrap();
            assert_eq!(pong_rx.recv().await, Some(i));
        }
        start.elapsed()
    })
    .await
}

async fn stream(n: u64, producer_core: usize) -> Duration {
    let (tx, rx) = uringo::chan::<u64>(1024);
    let start = Instant::now();
    uringo::spawn_on(producer_core, move || async move {
        for i in 0..n {
            tx.send(i).await.unwrap();
        }
    });
    let received = uringo::spawn(async move {
        let mut expect = 0;
        while let Some(v) = rx.recv().await {
            assert_eq!(v, expect);
            expect += 1;
        }
        expect
    })
    .await;
    assert_eq!(received, n);
    start.elapsed()
}

async fn wait_group(n: u64) -> Duration {
    let start = Instant::now();
    let wg = WaitGroup::new();
    for _ in 0..n {
        wg.add(1);
        let wg = wg.clone();
        uringo::spawn(async move { wg.done() });
    }
    wg.wait().await;
    start.elapsed()
}

fn rss_bytes() -> i64 {
    rss_kib(std::process::id()).expect("read own RSS") as i64 * 1024
}

/// The uringo side of the parked-tasks case, in a fresh process (so that
/// memory freed by earlier cases does not hide what the tasks take).
fn parked_child(n: u64) {
    runtime(1).block_on(async move {
        let before = rss_bytes();
        let (gate_tx, gate_rx) = uringo::chan::<()>(0);
        let (started, finished) = (WaitGroup::new(), WaitGroup::new());
        started.add(n as isize);
        finished.add(n as isize);
        let start = Instant::now();
        for _ in 0..n {
            let (gate, started, finished) = (gate_rx.clone(), started.clone(), finished.clone());
            uringo::spawn(async move {
                started.done();
                let _ = gate.recv().await;
                finished.done();
            });
        }
        drop(gate_rx);
        started.wait().await;
        uringo::yield_now().await; // the last tasks have parked too
        let spawn = start.elapsed();
        let per_task = (rss_bytes() - before) as f64 / n as f64;
        let start = Instant::now();
        gate_tx.close();
        finished.wait().await;
        println!(
            "{:.0} spawned_and_parked/s\n{per_task:.0} bytes/task\n{:.0} woken_and_finished/s",
            per_sec(n, spawn),
            per_sec(n, start.elapsed())
        );
    });
}

/// Runs a program pinned to `cpus` CPUs (when taskset exists) and returns
/// the first number of each output line.
fn run_pinned(cpus: usize, mut cmd: Command) -> Vec<f64> {
    let list = if cpus == 1 { "0" } else { "0,1" };
    let has_taskset = Command::new("taskset").arg("-V").output().is_ok();
    let mut cmd = if has_taskset {
        let mut t = Command::new("taskset");
        t.arg("-c")
            .arg(list)
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                t.env(k, v);
            }
        }
        t
    } else {
        std::mem::replace(&mut cmd, Command::new("true"))
    };
    let out = cmd.output().expect("run benchmark child");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// Builds benches/go/main.go, or says why not.
fn build_go() -> Result<PathBuf, String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = dir.join("../target/go-bench");
    let out = Command::new("go")
        .args(["build", "-o"])
        .arg(target.join("uringo-go-bench"))
        .arg(dir.join("go/main.go"))
        .env("GOCACHE", target.join("cache"))
        .output()
        .map_err(|e| format!("no Go toolchain ({e}); apt-get install golang-go"))?;
    if !out.status.success() {
        return Err(format!(
            "go build failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(target.join("uringo-go-bench"))
}

fn go_version() -> String {
    Command::new("go")
        .arg("version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

struct Row {
    name: &'static str,
    unit: &'static str,
    uringo: Vec<f64>,
    go: Vec<f64>,
}

fn row(name: &'static str, unit: &'static str) -> Row {
    Row {
        name,
        unit,
        uringo: vec![],
        go: vec![],
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--parked-child") {
        parked_child(args[i + 1].parse().unwrap());
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    let (pp, st, big) = (200_000 / scale, 2_000_000 / scale, 1_000_000 / scale);
    let go = match build_go() {
        Ok(path) => Some(path),
        Err(why) => {
            println!("Go comparison skipped: {why}");
            None
        }
    };
    let go_case = |procs: usize, case: &str, n: u64| -> Vec<f64> {
        let Some(path) = &go else { return vec![] };
        let mut cmd = Command::new(path);
        cmd.arg(case)
            .arg(n.to_string())
            .env("GOMAXPROCS", procs.to_string());
        run_pinned(procs, cmd)
    };

    let mut rows = [
        row("unbuffered ping-pong, 1 core", "round trips/s"),
        row("buffered stream, 1 core", "messages/s"),
        row("buffered stream, 2 cores", "messages/s"),
        row("1M parked: spawn+park", "tasks/s"),
        row("1M parked: memory", "bytes/task"),
        row("1M parked: wake all", "tasks/s"),
        row("WaitGroup, 1M tasks", "tasks/s"),
    ];
    let (u1, u2) = (runtime(1), runtime(2));
    for _ in 0..RUNS {
        rows[0].uringo.push(per_sec(pp, u1.block_on(ping_pong(pp))));
        rows[0].go.extend(go_case(1, "pingpong", pp));
        rows[1].uringo.push(per_sec(st, u1.block_on(stream(st, 0))));
        rows[1].go.extend(go_case(1, "stream", st));
        rows[2].uringo.push(per_sec(st, u2.block_on(stream(st, 1))));
        rows[2].go.extend(go_case(2, "stream", st));
        let mut child = Command::new(std::env::current_exe().unwrap());
        child.arg("--parked-child").arg(big.to_string());
        for (i, v) in run_pinned(1, child).into_iter().enumerate() {
            rows[3 + i].uringo.push(v);
        }
        for (i, v) in go_case(1, "parked", big).into_iter().enumerate() {
            rows[3 + i].go.push(v);
        }
        rows[6]
            .uringo
            .push(per_sec(big, u1.block_on(wait_group(big))));
        rows[6].go.extend(go_case(1, "waitgroup", big));
    }

    if go.is_some() {
        println!("Go: {}", go_version());
    }
    println!("medians of {RUNS} interleaved runs; ratio = uringo/Go");
    let mut table = Table::new(["case", "uringo", "Go", "ratio", "unit"]);
    for r in &rows {
        let (u, g) = (median(&r.uringo), median(&r.go));
        let cell = |x: Option<f64>| x.map_or("-".to_string(), thousands);
        table.row([r.name.into(), cell(u), cell(g), ratio(u, g), r.unit.into()]);
    }
    print!("{}", table.render());
}
