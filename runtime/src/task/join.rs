//! `JoinHandle`: awaiting a task's output from any core.
//!
//! Protocol on the task's join state (atomic bits):
//! - the owner stores the output, then sets COMPLETE (Release) and, if
//!   WAKER_SET was set, wakes the stored waker by reference;
//! - the handle reads the output only after seeing COMPLETE (Acquire);
//! - the handle writes the waker slot only while WAKER_SET is clear, and
//!   publishes it by setting WAKER_SET with a CAS that fails if COMPLETE
//!   arrived meanwhile (then it reads the output instead);
//! - dropping the handle sets DETACHED; whichever of the owner (at finish)
//!   and the handle (at drop) comes second drops an unread output.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::raw::{TaskError, TaskRef, CANCEL_REQUESTED, COMPLETE, DETACHED, WAKER_SET};
use crate::shim::Ordering;

/// An owned permission to await a task's output, like `go` plus a result.
///
/// Awaiting it yields the task's output; if the task panicked, the panic
/// resumes in the awaiting task (as `std::thread::JoinHandle::join().unwrap()`
/// would). Dropping the handle **detaches** the task: it keeps running.
/// [`JoinHandle::abort`] cancels it.
pub struct JoinHandle<T> {
    task: Option<TaskRef>,
    _output: PhantomData<T>,
}

// SAFETY: the output crosses threads only if T: Send; the handle's own state
// is a counted task reference and the atomic join protocol.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only reads the atomic join state.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: TaskRef) -> JoinHandle<T> {
        JoinHandle {
            task: Some(task),
            _output: PhantomData,
        }
    }

    /// Whether the task has finished (returned, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.task
            .as_ref()
            .is_some_and(|t| t.join_state().load(Ordering::Acquire) & COMPLETE != 0)
    }

    /// Cancels the task: its future is dropped on its core at the next
    /// chance (never in the middle of a poll), dropping whatever it owns
    /// (in-flight I/O is cancelled safely, see the crate docs).
    pub fn abort(self) {
        self.request_abort();
        // Drop detaches and releases an output that may already be there.
    }

    /// Asks the task's core to cancel it, keeping the handle.
    pub(crate) fn request_abort(&self) {
        if let Some(task) = self.task.as_ref() {
            task.join_state()
                .fetch_or(CANCEL_REQUESTED, Ordering::AcqRel);
            crate::executor::schedule(task.clone());
        }
    }
}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// Polls for the task's outcome without resuming a panic.
    pub(crate) fn poll_result(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        let Some(task) = self.task.as_ref() else {
            panic!("JoinHandle polled after completion");
        };
        crate::task::wait_tag::set(crate::task::WaitOn::Join);
        let state = task.join_state();
        let mut s = state.load(Ordering::Acquire);
        if s & COMPLETE == 0 {
            if s & WAKER_SET != 0 {
                // SAFETY: while WAKER_SET is set the owner only reads the slot.
                if unsafe { &*task.join_waker() }
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
                {
                    return Poll::Pending;
                }
                match state.compare_exchange(s, s & !WAKER_SET, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => s &= !WAKER_SET,
                    Err(actual) => s = actual,
                }
            }
            if s & COMPLETE == 0 {
                // SAFETY: WAKER_SET is clear, so the slot is ours alone.
                unsafe { *task.join_waker() = Some(cx.waker().clone()) };
                match state.compare_exchange(s, s | WAKER_SET, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => return Poll::Pending,
                    Err(actual) => s = actual,
                }
            }
        }
        debug_assert!(s & COMPLETE != 0);
        let task = self.task.take().expect("checked above");
        // SAFETY: COMPLETE was observed with Acquire; the handle is the only
        // reader and reads once (then `task` is dropped).
        let output = unsafe { task.take_output::<T>() };
        detach(task);
        match output {
            Some(outcome) => Poll::Ready(outcome),
            None => panic!("JoinHandle polled after completion"),
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match std::task::ready!(self.poll_result(cx)) {
            Ok(output) => Poll::Ready(output),
            Err(TaskError::Panicked(panic)) => std::panic::resume_unwind(panic),
            Err(TaskError::Cancelled) => panic!("task was cancelled by runtime shutdown"),
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            let prev = task.join_state().fetch_or(DETACHED, Ordering::AcqRel);
            if prev & COMPLETE != 0 {
                // The owner finished first and left the output for us: drop it here.
                // SAFETY: COMPLETE observed (AcqRel); nobody else reads the output.
                drop(unsafe { task.take_output::<T>() });
            }
        }
    }
}

/// Marks the handle gone after its output was consumed (or abandoned).
fn detach(task: TaskRef) {
    task.join_state().fetch_or(DETACHED, Ordering::AcqRel);
}
