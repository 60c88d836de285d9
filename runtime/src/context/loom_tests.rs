//! Loom models of cancellation across threads: a `done()` waiter on one
//! thread is woken by a cancel on another, through a parent.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p uringo --profile loom --lib context::loom`

use loom::thread;

use super::*;
use crate::chan::loom_tests::{block_on, model};

#[test]
fn loom_context_cancel_of_parent_wakes_child_waiter() {
    model(|| {
        let (parent, cancel) = Context::background().with_cancel();
        let (child, _keep) = parent.with_cancel();
        let t = thread::spawn(move || cancel.cancel());
        block_on(child.done());
        assert_eq!(child.err(), Some(Error::Canceled));
        t.join().unwrap();
    });
}

#[test]
fn loom_context_child_derived_while_parent_is_cancelled() {
    model(|| {
        let (parent, cancel) = Context::background().with_cancel();
        let p2 = parent.clone();
        let t = thread::spawn(move || {
            let (child, _c) = p2.with_cancel();
            block_on(child.done());
        });
        cancel.cancel();
        t.join().unwrap();
        assert_eq!(parent.err(), Some(Error::Canceled));
    });
}
