//! The closed loop of `uringo-loadgen chat --in-flight K`: each sender's deliveries still owed
//! (a message owes one per other member of its channel), shared by every core because the
//! members that receive a sender's message are spread over all of them. A sender writes its
//! next message once what it owes leaves room for it; the receiver whose delivery makes room
//! wakes it.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Mutex;
use std::task::{Poll, Waker};

#[derive(Debug, Default)]
pub struct Window {
    owed: AtomicU64,
    waiting: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Window {
    /// A message was sent that `deliveries` members will receive.
    pub fn sent(&self, deliveries: u64) {
        self.owed.fetch_add(deliveries, SeqCst);
    }

    /// One member received one of this sender's messages (for the first time).
    pub fn delivered(&self) {
        // A delivery nobody is owed (a server inventing messages) must not wrap the count.
        let _ = self
            .owed
            .fetch_update(SeqCst, SeqCst, |n| Some(n.saturating_sub(1)));
        if self.waiting.load(SeqCst) {
            if let Some(w) = self.waker.lock().unwrap().take() {
                w.wake();
            }
        }
    }

    pub fn owed(&self) -> u64 {
        self.owed.load(SeqCst)
    }

    /// Waits until at most `limit` deliveries are owed.
    pub async fn at_most(&self, limit: u64) {
        poll_fn(|cx| {
            if self.owed.load(SeqCst) <= limit {
                return Poll::Ready(());
            }
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            self.waiting.store(true, SeqCst);
            // A delivery between the first check and `waiting` being set saw no waiter.
            if self.owed.load(SeqCst) <= limit {
                self.waiting.store(false, SeqCst);
                return Poll::Ready(());
            }
            Poll::Pending
        })
        .await;
        self.waiting.store(false, SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::{Context, Wake};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    #[test]
    fn sender_waits_until_deliveries_make_room() {
        let w = Window::default();
        w.sent(3);
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut wait = pin!(w.at_most(1));
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        w.delivered();
        assert_eq!(
            count.0.load(SeqCst),
            1,
            "each delivery wakes a waiting sender"
        );
        assert!(wait.as_mut().poll(&mut cx).is_pending(), "2 still owed");
        w.delivered();
        assert!(wait.as_mut().poll(&mut cx).is_ready());
        assert_eq!(w.owed(), 1);
    }

    #[test]
    fn extra_deliveries_do_not_wrap() {
        let w = Window::default();
        w.delivered();
        assert_eq!(w.owed(), 0);
    }
}
