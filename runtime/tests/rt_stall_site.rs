//! A stall report names the user's code: the future given to `block_on`,
//! and the futures `run_on_all_cores` runs, are reported at the caller's
//! line, not inside the runtime.
//!
//! One test function, because the subscriber that collects the reports is
//! process-wide.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

static REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps the text of the watchdog's warnings.
struct CollectWatchdogWarnings;

struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl Subscriber for CollectWatchdogWarnings {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() == Level::WARN
            && metadata.target().starts_with("uringo::executor::watchdog")
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = Text(String::new());
        event.record(&mut text);
        REPORTS.lock().unwrap().push(text.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn reports_naming(line: u32) -> usize {
    let site = format!("rt_stall_site.rs:{line}");
    REPORTS
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.contains(&site))
        .count()
}

#[test]
fn stalls_in_block_on_and_run_on_all_cores_name_the_callers_line() {
    tracing::subscriber::set_global_default(CollectWatchdogWarnings).unwrap();
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
    let all = REPORTS.lock().unwrap().clone();
    assert!(reports_naming(block_on_line) >= 1, "block_on: {all:#?}");
    assert!(reports_naming(all_cores_line) >= 2, "both cores: {all:#?}");
}
