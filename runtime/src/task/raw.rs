//! The task allocation and its type-erased entry points.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use std::panic::Location;

use super::meta::RegistryKey;
use crate::executor::CoreShared;
use crate::shim::{Arc, AtomicU32, Ordering};

/// Join-state bits, see `join.rs` for the protocol.
pub(super) const COMPLETE: u32 = 1;
pub(super) const WAKER_SET: u32 = 2;
pub(super) const CANCEL_REQUESTED: u32 = 4;
pub(super) const DETACHED: u32 = 8;

/// Why a task ended without producing its output.
pub(crate) enum TaskError {
    Panicked(Box<dyn Any + Send>),
    Cancelled,
}

/// The most references a task may have; past it the process aborts (as
/// `Arc` does), since a wrapped count would free a live task.
const MAX_REFS: u32 = u32::MAX / 2;

pub(crate) struct Header {
    refs: AtomicU32,
    pub(super) join: AtomicU32,
    /// The core the task lives on for its whole life.
    pub(crate) owner: Arc<CoreShared>,
    /// In a run queue of the owner already (owner-thread only).
    pub(crate) scheduled: Cell<bool>,
    /// Finished or cancelled; the future is gone (owner-thread only).
    pub(crate) done: Cell<bool>,
    /// Slot in the owner's task registry (owner-thread only).
    pub(crate) registry_key: RegistryKey,
    // What task dumps read (owner-thread only), kept as plain fields so the
    // header grows by one word (see `meta.rs`).
    /// Where it was spawned.
    pub(crate) location: &'static Location<'static>,
    /// When, in the coarse clock of `meta::now_ms`.
    pub(crate) born_ms: Cell<u32>,
    /// Polls so far (saturating).
    pub(crate) polls: Cell<u32>,
    /// What it waits on while parked (a `WaitOn` as a byte).
    pub(crate) wait: Cell<u8>,
    vtable: &'static Vtable,
}

/// The type-erased entry points of a task.
///
/// # Safety
/// Every entry takes the header pointer of a live `TaskCell<F>` of the `F`
/// the vtable was made for. `poll` and `cancel` run on the owning core only;
/// `take_output` only after COMPLETE was observed with Acquire; `dealloc`
/// only when the last reference is released.
struct Vtable {
    // Each entry's contract is the one in this struct's `# Safety` section.
    poll: unsafe fn(NonNull<Header>),
    cancel: unsafe fn(NonNull<Header>),
    /// Moves the output out into `*mut Option<Result<T, TaskError>>`.
    take_output: unsafe fn(NonNull<Header>, *mut ()),
    join_waker: unsafe fn(NonNull<Header>) -> *mut Option<Waker>,
    dealloc: unsafe fn(NonNull<Header>),
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, TaskError>),
    Consumed,
}

/// The single allocation of a task. `repr(C)` keeps `header` first, so a
/// pointer to the cell is a pointer to its header.
#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    join_waker: UnsafeCell<Option<Waker>>,
    stage: UnsafeCell<Stage<F>>,
}

/// A counted reference to a task.
pub(crate) struct TaskRef {
    ptr: NonNull<Header>,
}

// SAFETY: the fields of a task that are not thread-safe (`scheduled`, `done`,
// `registry_key`, the future) are only touched on the owning core's thread,
// which every path checks (`executor::schedule` routes foreign wakes through
// the remote queue); the refcount and join state are atomics.
unsafe impl Send for TaskRef {}
// SAFETY: as for Send: shared access from other threads only touches atomics.
unsafe impl Sync for TaskRef {}

impl TaskRef {
    /// # Safety
    /// `ptr` must point to a live task header, and the caller gives up one
    /// reference it owns to the new `TaskRef`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> TaskRef {
        TaskRef { ptr }
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a TaskRef owns a reference, so the allocation is live.
        unsafe { self.ptr.as_ref() }
    }

    /// Polls the task once. Owner thread only.
    pub(crate) fn poll(&self) {
        // SAFETY: the caller is the owning core (run queues are per core).
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    /// Drops the future and completes the task as cancelled. Owner thread only.
    pub(crate) fn cancel(&self) {
        // SAFETY: the caller is the owning core.
        unsafe { (self.header().vtable.cancel)(self.ptr) }
    }

    pub(super) fn join_state(&self) -> &AtomicU32 {
        &self.header().join
    }

    /// The join waker slot; access it only as the join protocol allows
    /// (see `join.rs`).
    pub(super) fn join_waker(&self) -> *mut Option<Waker> {
        // SAFETY: the vtable matches the allocation, which is live.
        unsafe { (self.header().vtable.join_waker)(self.ptr) }
    }

    /// # Safety
    /// COMPLETE must have been observed with Acquire and the output not yet
    /// taken; `T` must be the task's output type.
    pub(super) unsafe fn take_output<T>(&self) -> Option<Result<T, TaskError>> {
        let mut out: Option<Result<T, TaskError>> = None;
        // SAFETY: per the caller's contract the output is ours to move out.
        unsafe {
            (self.header().vtable.take_output)(self.ptr, (&mut out as *mut Option<_>).cast())
        };
        out
    }
}

impl Clone for TaskRef {
    fn clone(&self) -> TaskRef {
        if self.header().refs.fetch_add(1, Ordering::Relaxed) > MAX_REFS {
            std::process::abort();
        }
        TaskRef { ptr: self.ptr }
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        if self.header().refs.fetch_sub(1, Ordering::Release) == 1 {
            std::sync::atomic::fence(Ordering::Acquire);
            // SAFETY: this was the last reference.
            unsafe { (self.header().vtable.dealloc)(self.ptr) }
        }
    }
}

/// Allocates a task for `future` owned by `owner`, with three references:
/// one for the registry, one for the run queue, one for the join handle.
pub(crate) fn spawn_raw<F: Future + 'static>(
    future: F,
    owner: Arc<CoreShared>,
    location: &'static Location<'static>,
) -> (TaskRef, TaskRef, TaskRef) {
    let cell = Box::new(TaskCell {
        header: Header {
            refs: AtomicU32::new(3),
            join: AtomicU32::new(0),
            owner,
            scheduled: Cell::new(true),
            done: Cell::new(false),
            registry_key: RegistryKey::new(),
            location,
            born_ms: Cell::new(super::meta::now_ms()),
            polls: Cell::new(0),
            wait: Cell::new(0),
            vtable: vtable::<F>(),
        },
        join_waker: UnsafeCell::new(None),
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
    // SAFETY: the allocation was made with three references just above.
    unsafe {
        (
            TaskRef::from_raw(ptr),
            TaskRef::from_raw(ptr),
            TaskRef::from_raw(ptr),
        )
    }
}

fn vtable<F: Future + 'static>() -> &'static Vtable {
    &Vtable {
        poll: poll::<F>,
        cancel: cancel::<F>,
        take_output: take_output::<F>,
        join_waker: join_waker::<F>,
        dealloc: dealloc::<F>,
    }
}

/// # Safety
/// `ptr` is the header of a live `TaskCell<F>`.
unsafe fn cell<'a, F: Future>(ptr: NonNull<Header>) -> &'a TaskCell<F> {
    // SAFETY: the header is the first field of a repr(C) TaskCell<F>.
    unsafe { ptr.cast::<TaskCell<F>>().as_ref() }
}

/// # Safety
/// See [`Vtable`]: a live `TaskCell<F>`, on its owning core.
unsafe fn poll<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: called through the vtable of a TaskCell<F>.
    let cell = unsafe { cell::<F>(ptr) };
    let header = &cell.header;
    header.scheduled.set(false);
    if header.done.get() {
        return;
    }
    if header.join.load(Ordering::Acquire) & CANCEL_REQUESTED != 0 {
        // SAFETY: same cell, owner thread.
        unsafe { cancel::<F>(ptr) };
        return;
    }
    // The waker borrows the caller's reference; it is never dropped.
    // SAFETY: ptr is a live task header.
    let waker = ManuallyDrop::new(unsafe { super::waker::borrowed(ptr) });
    let mut cx = Context::from_waker(&waker);
    // SAFETY: the stage is touched only by the owner thread, which we are.
    let stage = unsafe { &mut *cell.stage.get() };
    let Stage::Running(future) = stage else {
        return;
    };
    // SAFETY: the future lives in a heap cell that never moves until dealloc.
    let future = unsafe { Pin::new_unchecked(future) };
    let result = super::meta::polling(header, || {
        crate::executor::run_guarded(|| catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx))))
    });
    match result {
        Ok(Poll::Pending) => {}
        Ok(Poll::Ready(output)) => finish(cell, Ok(output)),
        Err(panic) => finish(cell, Err(TaskError::Panicked(panic))),
    }
}

/// # Safety
/// See [`Vtable`]: a live `TaskCell<F>`, on its owning core.
unsafe fn cancel<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: called through the vtable of a TaskCell<F>.
    let cell = unsafe { cell::<F>(ptr) };
    if !cell.header.done.get() {
        finish(cell, Err(TaskError::Cancelled));
    }
}

/// Stores the outcome (dropping the future), leaves the registry and
/// notifies the join handle. Owner thread only.
fn finish<F: Future>(cell: &TaskCell<F>, outcome: Result<F::Output, TaskError>) {
    cell.header.done.set(true);
    // SAFETY: owner thread; the join handle reads the stage only after
    // COMPLETE, which is published below with Release.
    let old = unsafe { std::mem::replace(&mut *cell.stage.get(), Stage::Finished(outcome)) };
    // A panic while dropping the future must not unwind through the executor.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(old)));
    crate::executor::unregister(&cell.header);
    let prev = cell.header.join.fetch_or(COMPLETE, Ordering::AcqRel);
    if prev & DETACHED != 0 {
        // Nobody will read the output: drop it here, on the owner thread.
        // SAFETY: DETACHED means no join handle exists to race with.
        let output = unsafe { std::mem::replace(&mut *cell.stage.get(), Stage::Consumed) };
        let _ = catch_unwind(AssertUnwindSafe(move || drop(output)));
    } else if prev & WAKER_SET != 0 {
        // SAFETY: with WAKER_SET set the join handle does not write the slot.
        if let Some(waker) = unsafe { &*cell.join_waker.get() } {
            waker.wake_by_ref();
        }
    }
}

/// # Safety
/// See [`Vtable`]: COMPLETE observed; `dst` is a
/// `*mut Option<Result<F::Output, TaskError>>`.
unsafe fn take_output<F: Future>(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: called through the vtable of a TaskCell<F>.
    let cell = unsafe { cell::<F>(ptr) };
    // SAFETY: the caller observed COMPLETE, so the owner no longer touches the stage.
    let stage = unsafe { std::mem::replace(&mut *cell.stage.get(), Stage::Consumed) };
    if let Stage::Finished(outcome) = stage {
        // SAFETY: the caller passes a `*mut Option<Result<F::Output, TaskError>>`.
        unsafe { *dst.cast::<Option<Result<F::Output, TaskError>>>() = Some(outcome) };
    }
}

/// # Safety
/// See [`Vtable`]: a live `TaskCell<F>`.
unsafe fn join_waker<F: Future>(ptr: NonNull<Header>) -> *mut Option<Waker> {
    // SAFETY: called through the vtable of a TaskCell<F>.
    unsafe { cell::<F>(ptr) }.join_waker.get()
}

/// # Safety
/// See [`Vtable`]: the last reference to a `TaskCell<F>` was just released.
unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the last reference is gone; the allocation came from Box::new.
    drop(unsafe { Box::from_raw(ptr.cast::<TaskCell<F>>().as_ptr()) });
}
