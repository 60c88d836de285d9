//! Server-wide statistics for LUSERS. Counts only; no decision depends on
//! them, so relaxed atomics are enough.

use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Default, Debug)]
pub struct Counters {
    pub users: AtomicI64,
    pub invisible: AtomicI64,
    pub unknown: AtomicI64,
    pub channels: AtomicI64,
    pub max_users: AtomicI64,
    pub opers: AtomicI64,
}

impl Counters {
    pub fn get(c: &AtomicI64) -> i64 {
        c.load(Ordering::Relaxed).max(0)
    }
    pub fn add(c: &AtomicI64, d: i64) {
        c.fetch_add(d, Ordering::Relaxed);
    }
}
