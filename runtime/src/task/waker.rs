//! The `Waker` of a task: a counted task reference behind a `RawWaker`.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::{Header, TaskRef};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker that borrows the caller's reference; wrap it in `ManuallyDrop`.
///
/// # Safety
/// `ptr` must stay a live task header while the waker (not its clones) is used.
pub(super) unsafe fn borrowed(ptr: NonNull<Header>) -> Waker {
    // SAFETY: the vtable functions uphold the RawWaker contract for task pointers.
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)) }
}

/// # Safety
/// `data` is a task header pointer for which the waker owns (or borrows) a reference.
unsafe fn as_task(data: *const ()) -> std::mem::ManuallyDrop<TaskRef> {
    // SAFETY: wakers are only made from non-null task header pointers.
    std::mem::ManuallyDrop::new(unsafe {
        TaskRef::from_raw(NonNull::new_unchecked(data as *mut Header))
    })
}

// The four RawWaker vtable entries below share one contract.
// # Safety
// `data` is the task header pointer of a waker made by this module, which
// owns (or, for `borrowed`, borrows) one reference to the task.

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds a reference.
    let task = unsafe { as_task(data) };
    std::mem::forget(TaskRef::clone(&task));
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: wake consumes the waker's own reference, handed to the scheduler.
    let task = std::mem::ManuallyDrop::into_inner(unsafe { as_task(data) });
    crate::executor::schedule(task);
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker holds a reference; the scheduler gets a new one.
    let task = unsafe { as_task(data) };
    crate::executor::schedule(TaskRef::clone(&task));
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker owns one reference, released here.
    drop(std::mem::ManuallyDrop::into_inner(unsafe { as_task(data) }));
}
