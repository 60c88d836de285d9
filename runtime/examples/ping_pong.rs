//! Ping-pong between two cores: a ball (a counter) goes back and forth over
//! two rendezvous channels, one task on core 0 and one on core 1, and the
//! round-trip time is printed.
//!
//! ```text
//! cargo run -p uringo --release --example ping_pong [rounds]   # default 100000
//! ```

use std::time::Instant;

use uringo::{chan, spawn_on};

fn main() {
    let rounds: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("rounds must be a number"))
        .unwrap_or(100_000);
    let rt = uringo::Builder::new().cores(2).build().expect("runtime");
    rt.block_on(async move {
        let (ping_tx, ping_rx) = chan::<u64>(0);
        let (pong_tx, pong_rx) = chan::<u64>(0);
        let other = uringo::cores() - 1;
        let ponger = spawn_on(other, move || async move {
            while let Some(ball) = ping_rx.recv().await {
                if pong_tx.send(ball + 1).await.is_err() {
                    break;
                }
            }
            uringo::core_id()
        });
        let pinger = spawn_on(0, move || async move {
            let start = Instant::now();
            let mut ball = 0;
            for _ in 0..rounds {
                ping_tx.send(ball).await.expect("ponger alive");
                ball = pong_rx.recv().await.expect("ponger alive") + 1;
            }
            (ball, start.elapsed(), uringo::core_id())
        });
        let (ball, elapsed, pinger_core) = pinger.await;
        let ponger_core = ponger.await;
        assert_eq!(ball, 2 * rounds);
        println!(
            "{rounds} round trips between core {pinger_core} and core {ponger_core}: {:.0} ns each ({:.0} per second)",
            elapsed.as_nanos() as f64 / rounds as f64,
            rounds as f64 / elapsed.as_secs_f64()
        );
    });
}
