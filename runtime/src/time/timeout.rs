//! `timeout`: a future with a deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{sleep, sleep_until, Sleep};

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::ErrorKind::TimedOut.into()
    }
}

/// Runs `future` for at most `duration`. On timeout the future is dropped,
/// which cancels whatever I/O it had in flight (safely, see the crate docs).
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep(duration),
    }
}

/// Runs `future` until `deadline` at most (see [`timeout`]).
///
/// ```
/// use std::time::{Duration, Instant};
///
/// uringo::start(async {
///     let deadline = Instant::now() + Duration::from_millis(1);
///     let r = uringo::time::timeout_at(deadline, std::future::pending::<()>()).await;
///     assert!(r.is_err());
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: std::time::Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

/// The future of [`timeout`] and [`timeout_at`]. If the inner future is ready at the same
/// time as the deadline, its output wins.
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    future: F,
    sleep: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned (never moved out); `sleep`
        // is Unpin and not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `this` is never moved.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        crate::task::wait_tag::set(crate::task::WaitOn::Timer);
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}
