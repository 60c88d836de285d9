//! The stall detector names the task that stalled (its spawn location) and
//! counts stalls in the core's stats. Its own process: the subscriber that
//! captures the reports is process-wide.

use std::sync::Mutex;
use std::time::Duration;

mod support;

use support::within;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

static REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps the `task` field of the watchdog's warnings.
struct CaptureStalls;

struct TaskField(Option<String>);

impl Visit for TaskField {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "task" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl Subscriber for CaptureStalls {
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
        let mut task = TaskField(None);
        event.record(&mut task);
        REPORTS
            .lock()
            .unwrap()
            .push(task.0.unwrap_or_else(|| "<no task field>".into()));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn a_stall_report_names_the_task_and_the_core_counts_it() {
    tracing::subscriber::set_global_default(CaptureStalls).unwrap();
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
        let reports = REPORTS.lock().unwrap();
        let expected = format!("task_dump_stall.rs:{line}");
        assert!(
            reports.iter().any(|r| r.contains(&expected)),
            "no report names {expected}: {reports:?}"
        );
    });
}
