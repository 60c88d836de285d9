//! Fan-out/fan-in over all cores: one producer hands out jobs on a buffered
//! channel, a worker per core computes (the Collatz stopping time of each
//! number), and every worker sends its results to one collector. Prints how
//! much each core did and checks that every job was done exactly once.
//!
//! ```text
//! cargo run -p uringo --release --example fan_in_out [jobs]   # default 1000000
//! ```

use uringo::{chan, spawn, spawn_on};

fn collatz_steps(mut n: u64) -> u32 {
    let mut steps = 0;
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

fn main() {
    let jobs: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("jobs must be a number"))
        .unwrap_or(1_000_000);
    uringo::start(async move {
        let cores = uringo::cores();
        let (job_tx, job_rx) = chan::<u64>(1024);
        let (result_tx, result_rx) = chan::<(usize, u64, u32)>(1024);

        spawn(async move {
            for n in 1..=jobs {
                job_tx.send(n).await.expect("workers outlive the jobs");
            }
            // Dropping the last sender tells the workers there is no more work.
        });
        let workers: Vec<_> = (0..cores)
            .map(|core| {
                let (jobs, results) = (job_rx.clone(), result_tx.clone());
                spawn_on(core, move || async move {
                    let mut done = 0u64;
                    while let Some(n) = jobs.recv().await {
                        results
                            .send((core, n, collatz_steps(n)))
                            .await
                            .expect("collector alive");
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        drop((job_rx, result_tx));

        let mut seen = vec![false; jobs as usize + 1];
        let (mut longest, mut at) = (0, 0);
        let mut per_core = vec![0u64; cores];
        while let Some((core, n, steps)) = result_rx.recv().await {
            assert!(
                !std::mem::replace(&mut seen[n as usize], true),
                "job {n} done twice"
            );
            per_core[core] += 1;
            if steps > longest {
                (longest, at) = (steps, n);
            }
        }
        assert!(seen[1..].iter().all(|&s| s), "a job was lost");
        for (core, w) in workers.into_iter().enumerate() {
            let done = w.await;
            assert_eq!(done, per_core[core]);
            println!("core {core}: {done} jobs");
        }
        println!("{jobs} jobs, each done once; longest Collatz chain below {jobs}: {at} ({longest} steps)");
    });
}
