//! Timers: `sleep(_until)`, `timeout(_at)`, `interval(_at)`, driven by a per-core wheel whose
//! next deadline bounds how long the core's ring may block.

mod interval;
mod sleep;
mod timeout;
pub(crate) mod wheel;

pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Instant;
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
