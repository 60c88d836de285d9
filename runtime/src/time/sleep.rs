//! `sleep`: a future that completes at a deadline.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::wheel::TimerKey;
use crate::current;

/// Waits for `duration`.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

/// Waits until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        key: None,
        _core: PhantomData,
    }
}

/// The future of [`sleep`]: registered in the core's timer wheel on first
/// poll, removed from it when dropped. Completes immediately if the
/// deadline has passed.
///
/// Like sockets, a `Sleep` belongs to one core (its key names an entry of
/// that core's wheel), so it is `!Send`: create it on the core that awaits it.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    key: Option<TimerKey>,
    _core: PhantomData<*const ()>,
}

impl Sleep {
    /// When this sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline (the sleep is pending again if it had fired).
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    fn cancel(&mut self) {
        if let Some(key) = self.key.take() {
            current::try_timers(|timers| timers.remove(key));
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        let key = self.key;
        let (ready, key) = current::timers(|timers| {
            match key {
                Some(key) if timers.is_pending(key) => {
                    timers.set_waker(key, cx.waker());
                    (false, Some(key))
                }
                Some(key) => {
                    timers.remove(key);
                    (true, None)
                }
                // The wheel counts whole milliseconds and rounds deadlines
                // up, so a deadline that has passed is checked here, not there.
                None if deadline <= Instant::now() => (true, None),
                None => match timers.insert(deadline, cx.waker().clone()) {
                    Some(key) => (false, Some(key)),
                    None => (true, None),
                },
            }
        });
        self.key = key;
        if ready {
            Poll::Ready(())
        } else {
            crate::task::wait_tag::set(crate::task::WaitOn::Timer);
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}
