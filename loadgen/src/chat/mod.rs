//! `uringo-loadgen chat`: many IRC clients in many channels, every delivery accounted for.

pub mod accounting;
pub mod plan;
pub mod proto;
pub mod summary;
