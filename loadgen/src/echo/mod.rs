//! `uringo-loadgen echo`: drive an echo server, verify every byte, measure latency.

pub mod summary;
