//! hyper's runtime hooks on uringo: an executor that spawns on the
//! current core and a timer on the core's timer wheel.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use send_wrapper::SendWrapper;

/// A [`hyper::rt::Executor`] that spawns hyper's background tasks (HTTP/2
/// streams and connection drivers) on the current core, with
/// [`spawn`](crate::spawn). The futures need not be `Send`: this is the
/// local executor hyper's `!Send` bounds are written for.
///
/// # Panics
/// `execute` panics outside a runtime thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalExecutor;

impl<F: Future + 'static> hyper::rt::Executor<F> for LocalExecutor {
    fn execute(&self, future: F) {
        drop(crate::spawn(future)); // detached, as hyper expects
    }
}

/// A [`hyper::rt::Timer`] on the current core's timer wheel, for hyper's
/// header-read and keep-alive timeouts.
///
/// hyper requires its sleeps to be `Send + Sync`; a uringo sleep belongs
/// to the wheel of the core that made it, so it is wrapped in a
/// [`SendWrapper`], which panics if another thread touches it. hyper only
/// polls a sleep from the connection that created it, which lives on one
/// core.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer;

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(CoreSleep(SendWrapper::new(crate::time::sleep_until(
            deadline,
        ))))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<CoreSleep>() {
            Some(mut ours) => ours.0.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

struct CoreSleep(SendWrapper<crate::time::Sleep>);

impl Future for CoreSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut *self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for CoreSleep {}
