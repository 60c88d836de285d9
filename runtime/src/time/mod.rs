//! Timers: `sleep`, `timeout`, `interval`, driven by a per-core wheel whose
//! next deadline bounds how long the core's ring may block.

mod interval;
mod sleep;
mod timeout;
pub(crate) mod wheel;

pub use interval::{interval, Interval};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Instant;
pub use timeout::{timeout, Elapsed, Timeout};
