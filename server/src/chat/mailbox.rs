//! The cross-core transport: each core has one inbox that every core may
//! send batches of `Msg` into. Sends never wait (the batch is queued), so two
//! cores sending to each other can never deadlock; the receiving core's
//! task is woken through its Waker, which the runtime lets any thread wake.
//!
//! This is the only file that knows what carries messages between cores;
//! it can be swapped for `uringo::chan` without touching the rest.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use super::msg::Msg;

#[derive(Default)]
struct Inner {
    queue: VecDeque<Vec<Msg>>,
    waker: Option<Waker>,
}

#[derive(Clone)]
pub struct Inbox {
    inner: Arc<Mutex<Inner>>,
}

pub fn inbox() -> Inbox {
    Inbox {
        inner: Arc::new(Mutex::new(Inner::default())),
    }
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves plain data behind; keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a batch for the owning core.
    pub fn send(&self, batch: Vec<Msg>) {
        let waker = {
            let mut g = self.lock();
            g.queue.push_back(batch);
            g.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Everything queued so far, waiting if nothing is.
    pub async fn recv(&self) -> Vec<Vec<Msg>> {
        poll_fn(|cx| {
            let mut g = self.lock();
            if !g.queue.is_empty() {
                return Poll::Ready(g.queue.drain(..).collect());
            }
            g.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Wake};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn send_from_other_thread_wakes_receiver_in_order() {
        let ib = inbox();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(ib.recv());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        let tx = ib.clone();
        std::thread::spawn(move || {
            for i in 0..3 {
                let batch = vec![Msg::ReleaseNick {
                    folded: i.to_string(),
                    from: super::super::msg::ClientRef { core: 0, id: 0 },
                }];
                tx.send(batch);
            }
        })
        .join()
        .ok();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        let Poll::Ready(batches) = fut.as_mut().poll(&mut cx) else {
            panic!("not ready");
        };
        let names: Vec<String> = batches
            .into_iter()
            .flatten()
            .map(|m| match m {
                Msg::ReleaseNick { folded, .. } => folded,
                _ => String::new(),
            })
            .collect();
        assert_eq!(names, ["0", "1", "2"]);
    }
}
