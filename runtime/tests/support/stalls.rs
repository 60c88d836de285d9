//! Collecting the stall detector's reports in a test process.

use std::fmt::Write as _;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

static REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps the text (`field=value ...`) of the watchdog's warnings.
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

/// Installs the process-wide subscriber that collects the reports (once
/// per test process: one test function per binary that uses it).
pub fn collect() {
    tracing::subscriber::set_global_default(CollectWatchdogWarnings).unwrap();
}

/// The reports so far.
pub fn reports() -> Vec<String> {
    REPORTS.lock().unwrap().clone()
}
