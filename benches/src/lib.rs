//! Shared pieces of the uringo benchmarks.
//!
//! The crate holds three kinds of programs: peer echo servers written with
//! tokio, monoio and glommio (feature `peers`), the harnesses that drive them
//! and `uringo-server` side by side (`compare`, `idle-mem`), and the runtime
//! micro benchmarks under `benches/`. This library is what they share: the
//! peers' common command line and signal handling, `/proc` readers, child
//! process control, loadgen's JSON summary and the median/table helpers.

pub mod charts;
pub mod component;
#[cfg(feature = "http")]
pub mod http_app;
pub mod irc;
pub mod loadgen;
pub mod micro;
pub mod peer;
pub mod perf_split;
pub mod procfs;
pub mod redis;
pub mod server;
pub mod stats;
