//! Go's worker pool with a deadline: a producer feeds jobs into a channel,
//! workers on every core take them until the context's deadline passes,
//! a `WaitGroup` tells the producer when every worker has stopped. Like
//!
//! ```go
//! ctx, cancel := context.WithTimeout(context.Background(), d)
//! defer cancel()
//! var wg sync.WaitGroup
//! for i := 0; i < workers; i++ { wg.Add(1); go worker(ctx, jobs, results, &wg) }
//! ```
//!
//! ```text
//! cargo run -p uringo --release --example worker_pool [deadline_ms]   # default 200
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use uringo::context::Context;
use uringo::sync::WaitGroup;
use uringo::{chan, select, spawn_on};

/// A job that takes a little while: a hash of `n` iterated, with a yield in
/// between so one core's workers share it.
async fn work(n: u64) -> u64 {
    let mut h = n;
    for _ in 0..16 {
        for _ in 0..1_000 {
            h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
        }
        uringo::yield_now().await;
    }
    h
}

fn main() {
    let deadline_ms: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("deadline_ms must be a number"))
        .unwrap_or(200);
    uringo::start(async move {
        let (ctx, cancel) = Context::background().with_timeout(Duration::from_millis(deadline_ms));
        let (jobs_tx, jobs_rx) = chan::<u64>(64);
        let done = Arc::new(AtomicU64::new(0));
        let wg = WaitGroup::new();
        let workers = 4 * uringo::cores();
        for id in 0..workers {
            wg.add(1);
            let (ctx, jobs, done, wg) = (ctx.clone(), jobs_rx.clone(), done.clone(), wg.clone());
            spawn_on(id % uringo::cores(), move || async move {
                loop {
                    select! {
                        job = recv(jobs) => match job {
                            Some(n) => {
                                std::hint::black_box(work(n).await);
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                            None => break, // producer finished
                        },
                        _ = ctx.done() => break, // deadline: stop now
                    }
                }
                wg.done();
            });
        }
        drop(jobs_rx);
        // The producer stops too once the deadline passes.
        let mut sent = 0u64;
        loop {
            select! {
                r = send(jobs_tx, sent) => {
                    r.expect("workers keep a receiver until they stop");
                    sent += 1;
                }
                _ = ctx.done() => break,
            }
        }
        wg.wait().await;
        cancel.cancel();
        let done = done.load(Ordering::Relaxed);
        println!(
            "{workers} workers on {} cores: {done} jobs done, {sent} handed out before the \
             {deadline_ms} ms deadline: {}",
            uringo::cores(),
            ctx.err().expect("the deadline passed"),
        );
        assert!(done <= sent);
    });
}
