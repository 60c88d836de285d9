//! A stall report names the user's code: the future given to `block_on`,
//! and the futures `run_on_all_cores` runs, are reported at the caller's
//! line, not inside the runtime.
//!
//! One test function, because the subscriber that collects the reports is
//! process-wide.

mod support;

use std::time::Duration;

use support::stalls;

fn reports_naming(line: u32) -> usize {
    let site = format!("rt_stall_site.rs:{line}");
    stalls::reports()
        .iter()
        .filter(|r| r.contains(&site))
        .count()
}

#[test]
fn stalls_in_block_on_and_run_on_all_cores_name_the_callers_line() {
    stalls::collect();
    let rt = uringo::Builder::new()
        .cores(2)
        .pin(false)
        .stall_threshold(Some(Duration::from_millis(100)))
        .build()
        .unwrap();
    let block_on_line = line!() + 1;
    rt.block_on(async { std::thread::sleep(Duration::from_millis(400)) });
    let all_cores_line = line!() + 1;
    rt.run_on_all_cores(|_| async { std::thread::sleep(Duration::from_millis(400)) });
    drop(rt);
    let all = stalls::reports();
    assert!(reports_naming(block_on_line) >= 1, "block_on: {all:#?}");
    assert!(reports_naming(all_cores_line) >= 2, "both cores: {all:#?}");
}
