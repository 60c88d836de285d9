//! Invariant 6, last part: the stall detector reports (through `tracing`)
//! a task that runs past the threshold without yielding, and stays quiet
//! about tasks that yield.
//!
//! One test function, because the subscriber that counts the reports is
//! process-wide.

mod support;

use std::time::{Duration, Instant};

use support::{stalls, within};

#[test]
fn a_task_that_blocks_past_the_threshold_is_reported_and_yielding_ones_are_not() {
    stalls::collect();
    within(Duration::from_secs(60), "stall detector", || {
        // Yielding tasks, each poll far below the threshold: no report.
        let rt = uringo::Builder::new()
            .cores(1)
            .pin(false)
            .stall_threshold(Some(Duration::from_millis(400)))
            .build();
        rt.unwrap().block_on(async {
            let busy: Vec<_> = (0..4)
                .map(|_| {
                    uringo::spawn(async {
                        let until = Instant::now() + Duration::from_millis(300);
                        while Instant::now() < until {
                            let spin = Instant::now() + Duration::from_micros(500);
                            while Instant::now() < spin {}
                            uringo::yield_now().await;
                        }
                    })
                })
                .collect();
            for b in busy {
                b.await;
            }
        });
        assert_eq!(
            stalls::reports().len(),
            0,
            "a task that yields was reported as stalled"
        );

        // One poll that blocks for ten times the threshold: reported.
        let rt = uringo::Builder::new()
            .cores(2)
            .pin(false)
            .stall_threshold(Some(Duration::from_millis(20)))
            .build();
        rt.unwrap().block_on(async {
            uringo::spawn_on(1, || async {
                std::thread::sleep(Duration::from_millis(200))
            })
            .await;
        });
        assert!(
            !stalls::reports().is_empty(),
            "a 200 ms poll was not reported"
        );

        // Off means off.
        let before = stalls::reports().len();
        let rt = uringo::Builder::new()
            .cores(1)
            .pin(false)
            .stall_threshold(None)
            .build();
        rt.unwrap().block_on(async {
            uringo::spawn(async { std::thread::sleep(Duration::from_millis(100)) }).await;
        });
        assert_eq!(
            stalls::reports().len(),
            before,
            "stall_threshold(None) still reports"
        );
    });
}
