//! Cores and crossing between them: core ids, `spawn_on`, and the lazy
//! future that is built on its target core.

mod lazy;
pub(crate) mod oneshot;

use std::future::Future;

pub(crate) use lazy::Lazy;

use crate::executor::{spawn_on_shared, with_current};
use crate::task::JoinHandle;

/// Runs the future that `make` builds on core `core` (Go's `go f()` with a
/// placement). `make` runs on the target core, so the future itself need
/// not be `Send`; only `make` and the output cross threads. The handle can
/// be awaited from any core.
///
/// # Panics
/// Outside a runtime, or if `core >= cores()`.
#[track_caller]
pub fn spawn_on<F, Fut>(core: usize, make: F) -> JoinHandle<Fut::Output>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future + 'static,
    Fut::Output: Send + 'static,
{
    let target = with_current(|current| current.sibling(core).clone());
    spawn_on_shared(&target, make)
}

/// The id of the core running the caller, in `0..cores()`.
///
/// # Panics
/// Outside a runtime thread.
#[track_caller]
pub fn core_id() -> usize {
    with_current(|core| core.id)
}

/// The number of cores of the caller's runtime.
///
/// # Panics
/// Outside a runtime thread.
#[track_caller]
pub fn cores() -> usize {
    with_current(|core| core.cores)
}
