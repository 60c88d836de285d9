//! Loom models of the cross-thread paths: every interleaving of a small
//! scenario is explored, checking that no wakeup is lost (a lost one shows up
//! as a deadlock loom reports) and no value is lost or duplicated when close,
//! drop and select race with sends and receives.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p uringo --release --lib chan::loom_tests`

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::Notify;
use loom::thread;

use super::*;
use crate::select;

#[test]
fn rendezvous_handoff_across_threads() {
    model(|| {
        let (tx, rx) = chan::<u32>(0);
        let t = thread::spawn(move || block_on(tx.send(1)));
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(t.join().unwrap(), Ok(()));
    });
}

#[test]
fn buffered_fifo_then_close_by_drop() {
    model(|| {
        let (tx, rx) = chan::<u32>(1);
        let t = thread::spawn(move || {
            block_on(tx.send(1)).unwrap();
            block_on(tx.send(2)).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert_eq!(block_on(rx.recv()), None);
        t.join().unwrap();
    });
}

#[test]
fn close_racing_sends_loses_and_duplicates_nothing() {
    model(|| {
        let (tx, rx) = chan::<u32>(1);
        let closer = tx.clone();
        let sender = thread::spawn(move || {
            let mut returned = Vec::new();
            for v in [1, 2] {
                if let Err(SendError(v)) = block_on(tx.send(v)) {
                    returned.push(v);
                }
            }
            returned
        });
        let c = thread::spawn(move || closer.close());
        let mut received = Vec::new();
        while let Some(v) = block_on(rx.recv()) {
            received.push(v);
        }
        c.join().unwrap();
        let returned = sender.join().unwrap();
        let mut all = received.clone();
        all.extend(&returned);
        all.sort_unstable();
        assert_eq!(all, [1, 2], "received {received:?}, returned {returned:?}");
        assert!(received.windows(2).all(|w| w[0] < w[1]));
    });
}

#[test]
fn dropped_recv_racing_a_send_keeps_the_value() {
    model(|| {
        let (tx, rx) = chan::<u32>(0);
        let t = thread::spawn(move || block_on(tx.send(7)));
        let waker = futures_noop();
        let mut first = rx.recv();
        let got = match pin!(&mut first).poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(v) => v,
            Poll::Pending => {
                drop(first);
                block_on(rx.recv())
            }
        };
        assert_eq!(got, Some(7));
        assert_eq!(t.join().unwrap(), Ok(()));
    });
}

#[test]
fn select_takes_exactly_one_of_two_racing_senders() {
    model(|| {
        let (tx1, rx1) = chan::<u32>(0);
        let (tx2, rx2) = chan::<u32>(0);
        let a = thread::spawn(move || block_on(tx1.send(1)).is_ok());
        let b = thread::spawn(move || block_on(tx2.send(2)).is_ok());
        let got = block_on(async {
            select! {
                v = recv(rx1) => v,
                v = recv(rx2) => v,
            }
        });
        // Releases the losing sender with its value back.
        drop((rx1, rx2));
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        match got {
            Some(1) => assert!(a && !b),
            Some(2) => assert!(b && !a),
            other => panic!("select got {other:?}"),
        }
    });
}

#[test]
fn select_send_racing_close_is_delivered_or_returned() {
    model(|| {
        let (tx, rx) = chan::<u32>(0);
        let closer = rx.clone();
        let r = thread::spawn(move || block_on(rx.recv()));
        let c = thread::spawn(move || closer.close());
        let sent = block_on(async {
            select! {
                r = send(tx, 5) => r,
            }
        });
        let received = r.join().unwrap();
        c.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(received, Some(5)),
            Err(SendError(v)) => {
                assert_eq!(v, 5);
                assert_eq!(received, None);
            }
        }
    });
}

#[test]
fn dropped_select_racing_a_sender_keeps_the_value() {
    model(|| {
        let (tx, rx) = chan::<u32>(0);
        let (_other_tx, other_rx) = chan::<u32>(0);
        let t = thread::spawn(move || block_on(tx.send(3)));
        let waker = futures_noop();
        let got = {
            let mut sel = Box::pin(async {
                select! {
                    v = recv(rx) => v,
                    _ = recv(other_rx) => None,
                }
            });
            match sel.as_mut().poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(v) => v,
                Poll::Pending => None,
            }
        };
        let got = match got {
            Some(v) => v,
            // The select was dropped while waiting, maybe after the sender
            // had handed it the value: the value must still be receivable.
            None => block_on(rx.recv()).unwrap(),
        };
        assert_eq!(got, 3);
        assert_eq!(t.join().unwrap(), Ok(()));
    });
}

#[test]
fn select_and_plain_receiver_share_a_buffered_stream_exactly_once() {
    model(|| {
        let (tx, rx) = chan::<u32>(1);
        let rx2 = rx.clone();
        let t = thread::spawn(move || {
            block_on(tx.send(1)).unwrap();
            block_on(tx.send(2)).unwrap();
        });
        let plain = thread::spawn(move || block_on(rx2.recv()));
        let (_idle_tx, idle_rx) = chan::<u32>(0);
        let mut got: Vec<u32> = Vec::new();
        while let Some(v) = block_on(async {
            select! {
                v = recv(rx) => v,
                _ = recv(idle_rx) => None,
            }
        }) {
            got.push(v);
        }
        t.join().unwrap();
        got.extend(plain.join().unwrap());
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

/// Explores interleavings with at most three preemptions, which covers the
/// races here (each needs one or two) in seconds rather than minutes.
pub(crate) fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

fn futures_noop() -> Waker {
    Waker::noop().clone()
}

struct Unpark(Notify);

impl Wake for Unpark {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.notify();
    }
}

/// Drives `f` on this loom thread, waiting on a loom `Notify` while it is
/// pending, so a missed wake is a deadlock loom reports.
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    let unpark = std::sync::Arc::new(Unpark(Notify::new()));
    let waker = Waker::from(unpark.clone());
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) {
            return v;
        }
        unpark.0.wait();
    }
}
