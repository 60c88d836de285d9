//! `Runtime::block_on` misuse gets a clear panic, not a corrupted core.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn block_on_from_inside_the_runtime_panics_with_a_clear_message() {
    let rt = Rc::new(uringo::Builder::new().cores(1).pin(false).build().unwrap());
    let inner = rt.clone();
    let result = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async move { inner.block_on(async { 1 }) })
    }));
    let message = panic_message(result.expect_err("nested block_on must panic"));
    assert!(
        message.contains("block_on called from a uringo runtime thread"),
        "message: {message}"
    );
    // The runtime is still usable afterwards.
    assert_eq!(rt.block_on(async { uringo::spawn(async { 7 }).await }), 7);
}
