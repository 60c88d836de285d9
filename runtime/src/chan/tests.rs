//! Channel and select tests that need no runtime: futures are polled by hand
//! with counting wakers, or driven on plain threads by a park-based block_on.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use super::*;
use crate::select;

#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting() -> (Waker, Arc<Count>) {
    let c = Arc::new(Count::default());
    (Waker::from(c.clone()), c)
}

fn wakes(c: &Count) -> usize {
    c.0.load(Ordering::SeqCst)
}

fn poll<F: Future + Unpin>(f: &mut F, w: &Waker) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(w))
}

struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `f` on this thread, parking it while `f` is pending.
fn block_on<F: Future>(f: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

#[test]
fn rendezvous_sender_waits_for_the_receiver() {
    let (tx, rx) = chan::<u32>(0);
    let (ws, cs) = counting();
    let mut send = tx.send(7);
    assert!(poll(&mut send, &ws).is_pending());
    assert!(poll(&mut send, &ws).is_pending(), "no receiver yet");
    assert_eq!(wakes(&cs), 0);
    assert_eq!(rx.try_recv(), Ok(7));
    assert_eq!(wakes(&cs), 1, "taking the value releases the sender");
    assert_eq!(poll(&mut send, &ws), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn rendezvous_parked_receiver_gets_the_value_directly() {
    let (tx, rx) = chan::<u32>(0);
    let (wr, cr) = counting();
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &wr).is_pending());
    assert!(matches!(tx.try_send(1), Ok(())));
    assert!(
        matches!(tx.try_send(2), Err(TrySendError::Full(2))),
        "only one receiver was waiting"
    );
    assert_eq!(wakes(&cr), 1);
    assert_eq!(poll(&mut recv, &wr), Poll::Ready(Some(1)));
}

#[test]
fn rendezvous_senders_are_served_in_arrival_order() {
    let (tx, rx) = chan::<u32>(0);
    let w = Waker::noop();
    let mut sends: Vec<_> = (0..5).map(|i| tx.send(i)).collect();
    for s in &mut sends {
        assert!(poll(s, w).is_pending());
    }
    for i in 0..5 {
        assert_eq!(rx.try_recv(), Ok(i));
    }
    for s in &mut sends {
        assert_eq!(poll(s, w), Poll::Ready(Ok(())));
    }
}

#[test]
fn buffered_fills_then_parks_and_keeps_fifo() {
    let (tx, rx) = chan::<u32>(2);
    assert_eq!(tx.capacity(), 2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(rx.len(), 2);
    assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
    let (ws, cs) = counting();
    let mut send = tx.send(3);
    assert!(poll(&mut send, &ws).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(
        wakes(&cs),
        1,
        "a freed slot takes the parked sender's value"
    );
    assert_eq!(rx.len(), 2);
    assert_eq!(poll(&mut send, &ws), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn close_drains_then_ends_and_returns_values_to_senders() {
    let (tx, rx) = chan::<String>(1);
    tx.try_send("a".into()).unwrap();
    let (ws, cs) = counting();
    let mut parked = tx.send("b".into());
    assert!(poll(&mut parked, &ws).is_pending());
    rx.close();
    assert!(tx.is_closed() && rx.is_closed());
    assert_eq!(wakes(&cs), 1);
    assert_eq!(
        poll(&mut parked, &ws),
        Poll::Ready(Err(SendError("b".into())))
    );
    assert!(matches!(tx.try_send("c".into()), Err(TrySendError::Closed(c)) if c == "c"));
    assert_eq!(
        block_on(tx.send("d".into())),
        Err(SendError("d".to_string()))
    );
    assert_eq!(
        block_on(rx.recv()).as_deref(),
        Some("a"),
        "close keeps what was sent"
    );
    assert_eq!(block_on(rx.recv()), None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn close_wakes_parked_receivers_with_none() {
    let (tx, rx) = chan::<u32>(0);
    let rx2 = rx.clone();
    let (w, c) = counting();
    let mut a = rx.recv();
    let mut b = rx2.recv();
    assert!(poll(&mut a, &w).is_pending());
    assert!(poll(&mut b, &w).is_pending());
    tx.close();
    assert_eq!(wakes(&c), 2);
    assert_eq!(poll(&mut a, &w), Poll::Ready(None));
    assert_eq!(poll(&mut b, &w), Poll::Ready(None));
}

#[test]
fn dropping_the_last_sender_closes() {
    let (tx, rx) = chan::<u32>(4);
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    drop(tx);
    assert!(!rx.is_closed(), "a clone is still alive");
    let (w, c) = counting();
    assert_eq!(rx.try_recv(), Ok(1));
    let mut r = rx.recv();
    assert!(poll(&mut r, &w).is_pending());
    drop(tx2);
    assert_eq!(wakes(&c), 1);
    assert_eq!(poll(&mut r, &w), Poll::Ready(None));
}

#[test]
fn dropping_the_last_receiver_closes_and_drops_buffered_values() {
    let token = Arc::new(());
    let (tx, rx) = chan::<Arc<()>>(4);
    tx.try_send(token.clone()).unwrap();
    assert_eq!(Arc::strong_count(&token), 2);
    drop(rx);
    assert_eq!(Arc::strong_count(&token), 1);
    assert!(matches!(
        tx.try_send(token.clone()),
        Err(TrySendError::Closed(_))
    ));
}

#[test]
fn dropped_pending_send_delivers_nothing() {
    let (tx, rx) = chan::<u32>(0);
    let w = Waker::noop();
    let mut first = tx.send(1);
    let mut second = tx.send(2);
    assert!(poll(&mut first, w).is_pending());
    assert!(poll(&mut second, w).is_pending());
    drop(first);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(poll(&mut second, w), Poll::Ready(Ok(())));
}

#[test]
fn dropped_recv_that_was_handed_a_value_gives_it_back() {
    let (tx, rx) = chan::<u32>(0);
    let w = Waker::noop();
    let mut r1 = rx.recv();
    assert!(poll(&mut r1, w).is_pending());
    tx.try_send(5).unwrap();
    let mut r2 = rx.recv();
    drop(r1); // never polled again
    assert_eq!(poll(&mut r2, w), Poll::Ready(Some(5)));
}

#[test]
fn dropped_recv_hands_its_value_to_the_next_parked_receiver() {
    let (tx, rx) = chan::<u32>(1);
    let (w, c) = counting();
    let mut r1 = rx.recv();
    let mut r2 = rx.recv();
    assert!(poll(&mut r1, &w).is_pending());
    assert!(poll(&mut r2, &w).is_pending());
    tx.try_send(9).unwrap();
    assert_eq!(wakes(&c), 1);
    drop(r1);
    assert_eq!(wakes(&c), 2);
    assert_eq!(poll(&mut r2, &w), Poll::Ready(Some(9)));
    assert!(rx.is_empty());
}

#[test]
fn receiver_is_a_stream() {
    use futures_core::Stream;
    let (tx, mut rx) = chan::<u32>(0);
    let (w, _) = counting();
    let mut cx = Context::from_waker(&w);
    assert!(Pin::new(&mut rx).poll_next(&mut cx).is_pending());
    tx.try_send(3).unwrap();
    assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(Some(3)));
    drop(tx);
    assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(None));
}

#[test]
fn handles_are_send_and_sync_and_futures_are_send() {
    fn handle<T: Send + Sync + Clone>() {}
    fn future<T: Send>(_: &T) {}
    handle::<Sender<Vec<u8>>>();
    handle::<Receiver<Vec<u8>>>();
    let (tx, rx) = chan::<Vec<u8>>(1);
    future(&tx.send(Vec::new()));
    future(&rx.recv());
    future(&rx.recv_many(&mut Vec::new(), 4));
}

#[test]
fn select_with_only_default_runs_it() {
    let v = block_on(async {
        select! {
            default => 5,
        }
    });
    assert_eq!(v, 5);
}

#[test]
fn many_to_many_across_threads_exactly_once() {
    for cap in [0, 1, 16] {
        let (tx, rx) = chan::<u64>(cap);
        const PER: u64 = 2_000;
        let senders: Vec<_> = (0..3u64)
            .map(|s| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 0..PER {
                        block_on(tx.send(s * PER + i)).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let receivers: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut last = [None::<u64>; 3];
                    while let Some(v) = block_on(rx.recv()) {
                        let s = (v / PER) as usize;
                        assert!(last[s].is_none_or(|l| l < v), "per-sender FIFO");
                        last[s] = Some(v);
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        for s in senders {
            s.join().unwrap();
        }
        let mut all: Vec<u64> = receivers
            .into_iter()
            .flat_map(|r| r.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..3 * PER).collect::<Vec<_>>(), "cap {cap}");
    }
}

#[test]
fn select_picks_a_ready_branch_and_leaves_the_loser_in_place() {
    let (tx1, rx1) = chan::<u32>(1);
    let (tx2, rx2) = chan::<u32>(1);
    tx1.try_send(1).unwrap();
    tx2.try_send(2).unwrap();
    let got = block_on(async {
        select! {
            v = recv(rx1) => (1, v),
            v = recv(rx2) => (2, v),
        }
    });
    match got {
        (1, Some(1)) => assert_eq!(rx2.try_recv(), Ok(2)),
        (2, Some(2)) => assert_eq!(rx1.try_recv(), Ok(1)),
        other => panic!("unexpected {other:?}"),
    }
    assert!(rx1.is_empty() && rx2.is_empty());
}

#[test]
fn select_losing_send_is_not_delivered() {
    let (tx, rx) = chan::<u32>(1);
    let (tx2, rx2) = chan::<u32>(1);
    tx2.try_send(0).unwrap();
    let r = block_on(async {
        select! {
            biased;
            v = recv(rx2) => v,
            _ = send(tx, 42) => None,
        }
    });
    assert_eq!(r, Some(0));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "the send branch lost"
    );
}

#[test]
fn select_biased_prefers_written_order() {
    let (tx, rx) = chan::<u32>(8);
    for _ in 0..100 {
        tx.try_send(1).unwrap();
        let first = block_on(async {
            select! {
                biased;
                _ = recv(rx) => true,
                _ = send(tx, 2) => false,
            }
        });
        assert!(first);
    }
}

#[test]
fn select_default_runs_when_nothing_is_ready() {
    let (tx, rx) = chan::<u32>(0);
    let hit = block_on(async {
        select! {
            _ = recv(rx) => false,
            _ = send(tx, 1) => false,
            default => true,
        }
    });
    assert!(hit);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn select_is_fair_between_two_ready_branches() {
    let (tx1, rx1) = chan::<u32>(1);
    let (tx2, rx2) = chan::<u32>(1);
    let mut first = 0;
    for _ in 0..10_000 {
        let _ = tx1.try_send(1);
        let _ = tx2.try_send(2);
        block_on(async {
            select! {
                _ = recv(rx1) => first += 1,
                _ = recv(rx2) => {}
            }
        });
    }
    assert!(
        (4_000..=6_000).contains(&first),
        "first branch chosen {first} of 10000"
    );
}

#[test]
fn parked_select_is_completed_by_exactly_one_counterpart() {
    let (tx1, rx1) = chan::<u32>(0);
    let (tx2, rx2) = chan::<u32>(0);
    let (w, c) = counting();
    let mut sel = pin!(async {
        select! {
            v = recv(rx1) => (1, v),
            v = recv(rx2) => (2, v),
        }
    });
    let mut cx = Context::from_waker(&w);
    assert!(sel.as_mut().poll(&mut cx).is_pending());
    assert!(tx2.try_send(20).is_ok());
    assert!(
        matches!(tx1.try_send(10), Err(TrySendError::Full(10))),
        "the select is decided"
    );
    assert_eq!(wakes(&c), 1);
    assert_eq!(sel.as_mut().poll(&mut cx), Poll::Ready((2, Some(20))));
}

#[test]
fn parked_select_send_is_taken_by_one_receiver_only() {
    let (tx1, rx1) = chan::<u32>(0);
    let (tx2, rx2) = chan::<u32>(0);
    let w = Waker::noop();
    let mut sel = pin!(async {
        select! {
            r = send(tx1, 1) => (1, r.is_ok()),
            r = send(tx2, 2) => (2, r.is_ok()),
        }
    });
    let mut cx = Context::from_waker(w);
    assert!(sel.as_mut().poll(&mut cx).is_pending());
    assert_eq!(rx1.try_recv(), Ok(1));
    assert_eq!(
        rx2.try_recv(),
        Err(TryRecvError::Empty),
        "losing send not delivered"
    );
    assert_eq!(sel.as_mut().poll(&mut cx), Poll::Ready((1, true)));
}

#[test]
fn select_between_two_parked_selects_on_one_rendezvous() {
    let (tx, rx) = chan::<u32>(0);
    let (_other_tx, other_rx) = chan::<u32>(0);
    let w = Waker::noop();
    let mut cx = Context::from_waker(w);
    let mut sender = pin!(async {
        select! {
            r = send(tx, 5) => r.is_ok(),
            _ = recv(other_rx) => false,
        }
    });
    assert!(sender.as_mut().poll(&mut cx).is_pending());
    let got = block_on(async {
        select! {
            v = recv(rx) => v,
            default => None,
        }
    });
    assert_eq!(got, Some(5));
    assert_eq!(sender.as_mut().poll(&mut cx), Poll::Ready(true));
}

#[test]
fn dropped_parked_select_leaves_channels_consistent() {
    let (tx1, rx1) = chan::<u32>(0);
    let (tx2, rx2) = chan::<u32>(0);
    let w = Waker::noop();
    let mut cx = Context::from_waker(w);
    {
        let mut sel = Box::pin(async {
            select! {
                v = recv(rx1) => v,
                _ = send(tx2, 7) => None,
            }
        });
        assert!(sel.as_mut().poll(&mut cx).is_pending());
        tx1.try_send(1).unwrap(); // completes the recv branch, select not polled again
    }
    assert_eq!(
        rx1.try_recv(),
        Ok(1),
        "the value handed to the dropped select went back"
    );
    assert_eq!(
        rx2.try_recv(),
        Err(TryRecvError::Empty),
        "the send branch was unparked"
    );
    assert!(
        matches!(tx2.try_send(3), Err(TrySendError::Full(3))),
        "no receiver left parked"
    );
}

#[test]
fn select_sees_close_as_ready() {
    let (tx, rx) = chan::<u32>(0);
    let (tx2, rx2) = chan::<u32>(0);
    let w = Waker::noop();
    let mut cx = Context::from_waker(w);
    let mut sel = pin!(async {
        select! {
            v = recv(rx) => Ok(v),
            r = send(tx2, 1) => Err(r),
        }
    });
    assert!(sel.as_mut().poll(&mut cx).is_pending());
    drop(tx);
    assert_eq!(sel.as_mut().poll(&mut cx), Poll::Ready(Ok(None)));
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn racing_selects_across_threads_take_each_value_once() {
    const N: u32 = 3_000;
    let (tx1, rx1) = chan::<u32>(0);
    let (tx2, rx2) = chan::<u32>(2);
    let producers: Vec<_> = [tx1, tx2]
        .into_iter()
        .enumerate()
        .map(|(k, tx)| {
            thread::spawn(move || {
                for i in 0..N {
                    block_on(tx.send(i * 2 + k as u32)).unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let (rx1, rx2) = (rx1.clone(), rx2.clone());
            thread::spawn(move || {
                let mut got = Vec::new();
                let (mut open1, mut open2) = (true, true);
                while open1 || open2 {
                    block_on(async {
                        select! {
                            v = recv(rx1) => match v { Some(v) => got.push(v), None => open1 = false },
                            v = recv(rx2) => match v { Some(v) => got.push(v), None => open2 = false },
                        }
                    });
                }
                got
            })
        })
        .collect();
    drop((rx1, rx2));
    for p in producers {
        p.join().unwrap();
    }
    let mut all: Vec<u32> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..2 * N).collect::<Vec<_>>());
}

#[test]
fn recv_many_takes_a_batch_and_releases_parked_senders() {
    let (tx, rx) = chan::<u32>(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let (w, c) = counting();
    let mut parked = tx.send(3);
    assert!(poll(&mut parked, &w).is_pending());
    let mut buf = vec![0];
    assert_eq!(block_on(rx.recv_many(&mut buf, 10)), 3);
    assert_eq!(
        buf,
        [0, 1, 2, 3],
        "appended in FIFO order, parked sender included"
    );
    assert_eq!(wakes(&c), 1);
    assert_eq!(poll(&mut parked, &w), Poll::Ready(Ok(())));
    drop(parked);
    tx.try_send(4).unwrap();
    tx.try_send(5).unwrap();
    buf.clear();
    assert_eq!(
        block_on(rx.recv_many(&mut buf, 1)),
        1,
        "limit counts values added"
    );
    assert_eq!(buf, [4]);
    drop(tx);
    assert_eq!(block_on(rx.recv_many(&mut buf, 0)), 0);
    assert_eq!(block_on(rx.recv_many(&mut buf, 8)), 1);
    assert_eq!(block_on(rx.recv_many(&mut buf, 8)), 0, "closed and drained");
    assert_eq!(buf, [4, 5]);
}
