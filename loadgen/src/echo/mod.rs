//! `uringo-loadgen echo`: drive an echo server, verify every byte, measure latency.

mod closed;
mod conn;
mod run;
mod source;
mod state;
pub mod summary;
pub mod timeline;

pub use run::{run, EchoRun};
