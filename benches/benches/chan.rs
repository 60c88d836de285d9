//! Channel micro benchmarks, uringo against tokio::sync::mpsc, printed as one
//! table of ratios. Each case alternates uringo and tokio runs (interleaved,
//! so machine noise hits both alike) and reports medians.
//!
//! ```text
//! cargo bench -p uringo-benches --bench chan [-- --quick]
//! ```
//!
//! Cases:
//! - same-core ping-pong: two spawned tasks on one thread bounce a u64 over
//!   two capacity-1 channels (uringo with 1 core; tokio current_thread);
//! - cross-core ping-pong: the same between two threads: uringo tasks on
//!   core 0 and core 1 (`spawn_on`); tokio multi_thread with 2 workers, the
//!   pinger being the `block_on` future (tokio would otherwise run both
//!   spawned tasks on one worker, which is no longer cross-core);
//! - cross-core stream: core 1 sends u64s one way into a capacity-1024
//!   channel, core 0 receives them one `recv` at a time (uringo: spawned
//!   tasks on both cores; tokio: a spawned producer, the `block_on` future
//!   receiving, for the reason above);
//! - cross-core stream, batched: the same, received with `recv_many(.., 256)`
//!   (one lock per batch) on both sides.

use std::time::{Duration, Instant};

const RUNS: usize = 7;

struct Case {
    name: &'static str,
    unit: &'static str,
    uringo: Vec<f64>,
    tokio: Vec<f64>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn per_sec(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

/// Both ends are spawned tasks (not the `block_on` future), on both runtimes.
async fn uringo_ping_pong(rounds: u64, other_core: usize) -> Duration {
    let (ping_tx, ping_rx) = uringo::chan::<u64>(1);
    let (pong_tx, pong_rx) = uringo::chan::<u64>(1);
    let ponger = uringo::spawn_on(other_core, move || async move {
        while let Some(v) = ping_rx.recv().await {
            if pong_tx.send(v).await.is_err() {
                break;
            }
        }
    });
    let pinger = uringo::spawn(async move {
        let start = Instant::now();
        for i in 0..rounds {
            ping_tx.send(i).await.unwrap();
            assert_eq!(pong_rx.recv().await, Some(i));
        }
        start.elapsed()
    });
    let d = pinger.await;
    ponger.await;
    d
}

/// `spawn_pinger`: the pinger is a spawned task (same-core case); otherwise
/// it is the `block_on` future, the only way to keep tokio from running both
/// tasks on one worker (cross-core case).
async fn tokio_ping_pong(rounds: u64, spawn_pinger: bool) -> Duration {
    let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<u64>(1);
    let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<u64>(1);
    let ponger = tokio::spawn(async move {
        while let Some(v) = ping_rx.recv().await {
            if pong_tx.send(v).await.is_err() {
                break;
            }
        }
    });
    let pinger = async move {
        let start = Instant::now();
        for i in 0..rounds {
            ping_tx.send(i).await.unwrap();
            assert_eq!(pong_rx.recv().await, Some(i));
        }
        start.elapsed()
    };
    let d = if spawn_pinger {
        tokio::spawn(pinger).await.unwrap()
    } else {
        pinger.await
    };
    ponger.await.unwrap();
    d
}

/// Receives everything, checking order; `batch` 0 means one `recv` at a time.
async fn uringo_drain(rx: uringo::chan::Receiver<u64>, batch: usize) -> u64 {
    let mut expect = 0;
    if batch == 0 {
        while let Some(v) = rx.recv().await {
            assert_eq!(v, expect);
            expect += 1;
        }
    } else {
        let mut buf = Vec::with_capacity(batch);
        while rx.recv_many(&mut buf, batch).await > 0 {
            for v in buf.drain(..) {
                assert_eq!(v, expect);
                expect += 1;
            }
        }
    }
    expect
}

async fn tokio_drain(mut rx: tokio::sync::mpsc::Receiver<u64>, batch: usize) -> u64 {
    let mut expect = 0;
    if batch == 0 {
        while let Some(v) = rx.recv().await {
            assert_eq!(v, expect);
            expect += 1;
        }
    } else {
        let mut buf = Vec::with_capacity(batch);
        while rx.recv_many(&mut buf, batch).await > 0 {
            for v in buf.drain(..) {
                assert_eq!(v, expect);
                expect += 1;
            }
        }
    }
    expect
}

async fn uringo_stream(n: u64, batch: usize) -> Duration {
    let (tx, rx) = uringo::chan::<u64>(1024);
    let start = Instant::now();
    let producer = uringo::spawn_on(1, move || async move {
        for i in 0..n {
            tx.send(i).await.unwrap();
        }
    });
    let received = uringo::spawn(uringo_drain(rx, batch)).await;
    let d = start.elapsed();
    producer.await;
    assert_eq!(received, n);
    d
}

async fn tokio_stream(n: u64, batch: usize) -> Duration {
    let (tx, rx) = tokio::sync::mpsc::channel::<u64>(1024);
    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for i in 0..n {
            tx.send(i).await.unwrap();
        }
    });
    let received = tokio_drain(rx, batch).await;
    let d = start.elapsed();
    producer.await.unwrap();
    assert_eq!(received, n);
    d
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    let same_rounds = 200_000 / scale;
    let cross_rounds = 20_000 / scale;
    let stream_n = 2_000_000 / scale;

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

    let mut cases = [
        Case {
            name: "same-core ping-pong",
            unit: "round trips/s",
            uringo: vec![],
            tokio: vec![],
        },
        Case {
            name: "cross-core ping-pong",
            unit: "round trips/s",
            uringo: vec![],
            tokio: vec![],
        },
        Case {
            name: "cross-core stream u64",
            unit: "messages/s",
            uringo: vec![],
            tokio: vec![],
        },
        Case {
            name: "  ... with recv_many",
            unit: "messages/s",
            uringo: vec![],
            tokio: vec![],
        },
    ];
    for _ in 0..RUNS {
        cases[0].uringo.push(per_sec(
            same_rounds,
            u1.block_on(uringo_ping_pong(same_rounds, 0)),
        ));
        cases[0].tokio.push(per_sec(
            same_rounds,
            t1.block_on(tokio_ping_pong(same_rounds, true)),
        ));
        cases[1].uringo.push(per_sec(
            cross_rounds,
            u2.block_on(uringo_ping_pong(cross_rounds, 1)),
        ));
        cases[1].tokio.push(per_sec(
            cross_rounds,
            t2.block_on(tokio_ping_pong(cross_rounds, false)),
        ));
        for (case, batch) in [(2, 0), (3, 256)] {
            cases[case].uringo.push(per_sec(
                stream_n,
                u2.block_on(uringo_stream(stream_n, batch)),
            ));
            cases[case].tokio.push(per_sec(
                stream_n,
                t2.block_on(tokio_stream(stream_n, batch)),
            ));
        }
    }

    println!(
        "{:<24} {:>14} {:>14} {:>8}  unit (medians of {RUNS} interleaved runs)",
        "case", "uringo", "tokio", "ratio"
    );
    for c in &mut cases {
        let (u, t) = (median(&mut c.uringo), median(&mut c.tokio));
        println!(
            "{:<24} {:>14.0} {:>14.0} {:>7.2}x  {}",
            c.name,
            u,
            t,
            u / t,
            c.unit
        );
    }
}
