//! uringo::sync and context against tokio's equivalents, printed as one
//! table of ratios. Each case alternates uringo and tokio runs (interleaved,
//! so machine noise hits both alike) and reports medians.
//!
//! ```text
//! cargo bench -p uringo-benches --bench sync [-- --quick]
//! ```
//!
//! Cases (uringo on 1 or 2 cores; tokio current_thread or multi_thread
//! with 2 workers, the second side being the `block_on` future so that
//! tokio really runs it on another thread):
//! - WaitGroup: spawn N tasks that each call `done()`, then `wait()`
//!   (tokio has no WaitGroup: an `AtomicUsize` plus `Notify`, its usual stand-in);
//! - Mutex uncontended: lock and unlock in one task;
//! - Mutex contended, 2 cores: two tasks on two threads increment under the lock;
//! - Semaphore: acquire and release one permit in one task;
//! - Notify ping-pong: two tasks on one core wake each other;
//! - context cancel fan-out: 10,000 tasks wait on `ctx.done()`, one cancel
//!   wakes them all (tokio: `tokio_util::sync::CancellationToken`), timed
//!   from the cancel until every waiter has finished.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use uringo_benches::stats::{median, per_sec, ratio, thousands, Table};

const RUNS: usize = 7;

async fn u_waitgroup(n: u64) -> Duration {
    let start = Instant::now();
    let wg = uringo::sync::WaitGroup::new();
    for _ in 0..n {
        wg.add(1);
        let wg = wg.clone();
        uringo::spawn(async move { wg.done() });
    }
    wg.wait().await;
    start.elapsed()
}

async fn t_waitgroup(n: u64) -> Duration {
    let start = Instant::now();
    let left = Arc::new(AtomicUsize::new(n as usize));
    let all_done = Arc::new(tokio::sync::Notify::new());
    for _ in 0..n {
        let (left, all_done) = (left.clone(), all_done.clone());
        tokio::spawn(async move {
            if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                all_done.notify_one();
            }
        });
    }
    all_done.notified().await;
    start.elapsed()
}

async fn u_mutex(n: u64) -> Duration {
    let m = uringo::sync::Mutex::new(0u64);
    let start = Instant::now();
    for _ in 0..n {
        *m.lock().await += 1;
    }
    assert_eq!(*m.lock().await, n);
    start.elapsed()
}

async fn t_mutex(n: u64) -> Duration {
    let m = tokio::sync::Mutex::new(0u64);
    let start = Instant::now();
    for _ in 0..n {
        *m.lock().await += 1;
    }
    assert_eq!(*m.lock().await, n);
    start.elapsed()
}

async fn u_mutex_contended(n: u64) -> Duration {
    let m = Arc::new(uringo::sync::Mutex::new(0u64));
    let start = Instant::now();
    let m1 = m.clone();
    let other = uringo::spawn_on(1, move || async move {
        for _ in 0..n {
            *m1.lock().await += 1;
        }
    });
    for _ in 0..n {
        *m.lock().await += 1;
    }
    other.await;
    assert_eq!(*m.lock().await, 2 * n);
    start.elapsed()
}

async fn t_mutex_contended(n: u64) -> Duration {
    let m = Arc::new(tokio::sync::Mutex::new(0u64));
    let start = Instant::now();
    let m1 = m.clone();
    let other = tokio::spawn(async move {
        for _ in 0..n {
            *m1.lock().await += 1;
        }
    });
    for _ in 0..n {
        *m.lock().await += 1;
    }
    other.await.unwrap();
    assert_eq!(*m.lock().await, 2 * n);
    start.elapsed()
}

async fn u_semaphore(n: u64) -> Duration {
    let s = uringo::sync::Semaphore::new(1);
    let start = Instant::now();
    for _ in 0..n {
        drop(s.acquire().await.unwrap());
    }
    start.elapsed()
}

async fn t_semaphore(n: u64) -> Duration {
    let s = tokio::sync::Semaphore::new(1);
    let start = Instant::now();
    for _ in 0..n {
        drop(s.acquire().await.unwrap());
    }
    start.elapsed()
}

async fn u_notify(n: u64) -> Duration {
    let (ping, pong) = (
        Arc::new(uringo::sync::Notify::new()),
        Arc::new(uringo::sync::Notify::new()),
    );
    let (p2, q2) = (ping.clone(), pong.clone());
    let other = uringo::spawn(async move {
        for _ in 0..n {
            p2.notified().await;
            q2.notify_one();
        }
    });
    let start = Instant::now();
    for _ in 0..n {
        ping.notify_one();
        pong.notified().await;
    }
    let d = start.elapsed();
    other.await;
    d
}

async fn t_notify(n: u64) -> Duration {
    let (ping, pong) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    let (p2, q2) = (ping.clone(), pong.clone());
    let other = tokio::spawn(async move {
        for _ in 0..n {
            p2.notified().await;
            q2.notify_one();
        }
    });
    let start = Instant::now();
    for _ in 0..n {
        ping.notify_one();
        pong.notified().await;
    }
    let d = start.elapsed();
    other.await.unwrap();
    d
}

async fn u_cancel_fanout(waiters: usize) -> Duration {
    let (ctx, cancel) = uringo::context::Context::background().with_cancel();
    let parked = uringo::sync::WaitGroup::new();
    let finished = uringo::sync::WaitGroup::new();
    for _ in 0..waiters {
        let (ctx, parked, finished) = (ctx.clone(), parked.clone(), finished.clone());
        parked.add(1);
        finished.add(1);
        uringo::spawn(async move {
            let done = ctx.done();
            parked.done();
            done.await;
            finished.done();
        });
    }
    parked.wait().await;
    uringo::yield_now().await; // every waiter has polled done() once
    let start = Instant::now();
    cancel.cancel();
    finished.wait().await;
    start.elapsed()
}

async fn t_cancel_fanout(waiters: usize) -> Duration {
    let token = tokio_util::sync::CancellationToken::new();
    let mut tasks = Vec::with_capacity(waiters);
    for _ in 0..waiters {
        let token = token.clone();
        tasks.push(tokio::spawn(async move { token.cancelled().await }));
    }
    tokio::task::yield_now().await;
    tokio::task::yield_now().await;
    let start = Instant::now();
    token.cancel();
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

struct Case {
    name: &'static str,
    uringo: Vec<f64>,
    tokio: Vec<f64>,
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    let n = 1_000_000 / scale;
    let tasks = 100_000 / scale;
    let contended = 200_000 / scale;
    let fanout = 10_000;

    let u1 = uringo::Builder::new()
        .cores(1)
        .build()
        .expect("uringo 1 core");
    let u2 = uringo::Builder::new()
        .cores(2)
        .build()
        .expect("uringo 2 cores");
    let t1 = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let t2 = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();

    let names = [
        "WaitGroup, 100k tasks",
        "Mutex uncontended",
        "Mutex contended, 2 cores",
        "Semaphore acquire+release",
        "Notify ping-pong",
        "cancel fan-out, 10k waiters",
    ];
    let mut cases: Vec<Case> = names
        .iter()
        .map(|&name| Case {
            name,
            uringo: vec![],
            tokio: vec![],
        })
        .collect();
    for _ in 0..RUNS {
        let mut row = |i: usize, count: u64, u: Duration, t: Duration| {
            cases[i].uringo.push(per_sec(count, u));
            cases[i].tokio.push(per_sec(count, t));
        };
        row(
            0,
            tasks,
            u1.block_on(u_waitgroup(tasks)),
            t1.block_on(t_waitgroup(tasks)),
        );
        row(1, n, u1.block_on(u_mutex(n)), t1.block_on(t_mutex(n)));
        let (u, t) = (
            u2.block_on(u_mutex_contended(contended)),
            t2.block_on(t_mutex_contended(contended)),
        );
        row(2, 2 * contended, u, t);
        row(
            3,
            n,
            u1.block_on(u_semaphore(n)),
            t1.block_on(t_semaphore(n)),
        );
        row(4, n, u1.block_on(u_notify(n)), t1.block_on(t_notify(n)));
        let (u, t) = (
            u1.block_on(u_cancel_fanout(fanout)),
            t1.block_on(t_cancel_fanout(fanout)),
        );
        row(5, fanout as u64, u, t);
    }

    println!("ops/s, medians of {RUNS} interleaved runs; ratio = uringo/tokio, higher is better");
    let mut table = Table::new(["case", "uringo", "tokio", "ratio"]);
    for c in &cases {
        let (u, t) = (median(&c.uringo), median(&c.tokio));
        let cell = |x: Option<f64>| thousands(x.unwrap_or(f64::NAN));
        table.row([c.name.to_string(), cell(u), cell(t), ratio(u, t)]);
    }
    print!("{}", table.render());
}
