//! The stall detector names the task that stalled (its spawn location) and
//! counts stalls in the core's stats. Its own process: the subscriber that
//! captures the reports is process-wide.

use std::time::Duration;

mod support;

use support::{stalls, within};

#[test]
fn a_stall_report_names_the_task_and_the_core_counts_it() {
    stalls::collect();
    within(Duration::from_secs(60), "stall naming", || {
        let rt = uringo::Builder::new()
            .cores(2)
            .pin(false)
            .stall_threshold(Some(Duration::from_millis(20)))
            .build()
            .unwrap();
        let (line, stalls) = rt.block_on(async {
            let line = line!() + 1;
            let stalled = uringo::spawn_on(1, || async {
                std::thread::sleep(Duration::from_millis(200))
            });
            stalled.await;
            let stalls = uringo::spawn_on(1, || async { uringo::stats().stalls }).await;
            (line, stalls)
        });
        assert!(stalls >= 1, "core 1 counted no stall");
        let reports = stalls::reports();
        let expected = format!("task_dump_stall.rs:{line}");
        assert!(
            reports.iter().any(|r| r.contains(&expected)),
            "no report names {expected}: {reports:?}"
        );
    });
}
