//! `uringo-loadgen chat`: many IRC clients in many channels, every delivery accounted for.

pub mod accounting;
mod client;
mod core;
pub mod order;
pub mod plan;
pub mod proto;
mod run;
pub mod summary;
pub mod window;

pub use run::run;
