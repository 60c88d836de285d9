//! Go channel semantics on the runtime: rendezvous hand-off, FIFO per
//! sender, close and drain, send on closed, exactly-once delivery on all
//! cores, and cancelled (dropped) sends and receives.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use uringo::chan::{SendError, TryRecvError};
mod support;

use support::runtime;
use uringo::{chan, spawn, spawn_on, time};

#[test]
fn rendezvous_sender_is_released_only_when_a_receiver_takes_the_value() {
    runtime(1).block_on(async {
        let (tx, rx) = chan::<u32>(0);
        // How many receives the receiver task has started.
        let started = Rc::new(Cell::new(0u32));
        let counter = started.clone();
        let receiver = spawn(async move {
            for i in 0..100 {
                counter.set(counter.get() + 1);
                assert_eq!(rx.recv().await, Some(i));
            }
            rx
        });
        for i in 0..100 {
            tx.send(i).await.unwrap();
            // A buffered channel would let send(0) return before any receive.
            assert!(
                started.get() > i,
                "send {i} returned before a receive took it"
            );
        }
        let rx = receiver.await;
        // With no receiver left waiting, a send never completes.
        assert!(time::timeout(Duration::from_millis(5), tx.send(100))
            .await
            .is_err());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

#[test]
fn fifo_per_sender_across_cores() {
    const PER: u32 = 5_000;
    let rt = runtime(2);
    for cap in [0, 1, 64] {
        rt.block_on(async move {
            let (tx, rx) = chan::<(usize, u32)>(cap);
            let mut senders = Vec::new();
            for s in 0..4usize {
                let tx = tx.clone();
                senders.push(spawn_on(s % 2, move || async move {
                    for i in 0..PER {
                        tx.send((s, i)).await.unwrap();
                    }
                }));
            }
            drop(tx);
            let mut next = [0u32; 4];
            while let Some((s, i)) = rx.recv().await {
                assert_eq!(i, next[s], "sender {s} out of order (cap {cap})");
                next[s] += 1;
            }
            assert_eq!(next, [PER; 4]);
            for s in senders {
                s.await;
            }
        });
    }
}

#[test]
fn close_drains_then_ends_across_cores() {
    let rt = runtime(2);
    rt.block_on(async {
        let (tx, rx) = chan::<u32>(16);
        for i in 0..10 {
            tx.send(i).await.unwrap();
        }
        tx.close();
        assert_eq!(tx.send(10).await, Err(SendError(10)));
        let got = spawn_on(1, move || async move {
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
            got
        })
        .await;
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn waiting_senders_get_their_values_back_on_close() {
    let rt = runtime(2);
    rt.block_on(async {
        let (tx, rx) = chan::<String>(0);
        let (parked_tx, parked_rx) = chan::<()>(4);
        let mut waiting = Vec::new();
        for i in 0..3 {
            let tx = tx.clone();
            let parked = parked_tx.clone();
            waiting.push(spawn_on(1, move || async move {
                let mut send = pin!(tx.send(format!("v{i}")));
                // Poll once so the sender is parked before it says so.
                poll_fn(|cx| {
                    assert!(send.as_mut().poll(cx).is_pending());
                    Poll::Ready(())
                })
                .await;
                parked.send(()).await.unwrap();
                send.await
            }));
        }
        for _ in 0..3 {
            parked_rx.recv().await.unwrap();
        }
        rx.close();
        let mut back: Vec<String> = Vec::new();
        for w in waiting {
            match w.await {
                Err(SendError(v)) => back.push(v),
                Ok(()) => panic!("nobody received"),
            }
        }
        back.sort();
        assert_eq!(back, ["v0", "v1", "v2"]);
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn many_to_many_on_all_cores_exactly_once() {
    const PER: u32 = 4_000;
    let rt = runtime(2);
    let cores = rt.cores();
    for cap in [0, 8] {
        let seen: Arc<Vec<AtomicU32>> = Arc::new(
            (0..cores as u32 * 2 * PER)
                .map(|_| AtomicU32::new(0))
                .collect(),
        );
        let seen2 = seen.clone();
        rt.block_on(async move {
            let (tx, rx) = chan::<u32>(cap);
            let mut tasks = Vec::new();
            for core in 0..cores {
                for k in 0..2u32 {
                    let tx = tx.clone();
                    let base = (core as u32 * 2 + k) * PER;
                    tasks.push(spawn_on(core, move || async move {
                        for i in 0..PER {
                            tx.send(base + i).await.unwrap();
                        }
                    }));
                    let rx = rx.clone();
                    let seen = seen2.clone();
                    tasks.push(spawn_on(core, move || async move {
                        while let Some(v) = rx.recv().await {
                            seen[v as usize].fetch_add(1, Ordering::Relaxed);
                        }
                    }));
                }
            }
            drop((tx, rx));
            for t in tasks {
                t.await;
            }
        });
        for (v, n) in seen.iter().enumerate() {
            assert_eq!(
                n.load(Ordering::Relaxed),
                1,
                "value {v} received {n:?} times (cap {cap})"
            );
        }
    }
}

#[test]
fn dropped_pending_recv_loses_no_value() {
    let rt = runtime(2);
    rt.block_on(async {
        let (tx, rx) = chan::<u32>(0);
        for _ in 0..3 {
            assert!(time::timeout(Duration::from_millis(2), rx.recv())
                .await
                .is_err());
        }
        let sender = spawn_on(1, move || async move {
            for i in 0..200 {
                tx.send(i).await.unwrap();
            }
        });
        let mut got = Vec::new();
        while got.len() < 200 {
            // Many receives are cancelled by the short timeout; none may lose a value.
            if let Ok(Some(v)) = time::timeout(Duration::from_micros(50), rx.recv()).await {
                got.push(v);
            }
        }
        sender.await;
        assert_eq!(got, (0..200).collect::<Vec<_>>());
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn dropped_pending_send_delivers_nothing() {
    runtime(1).block_on(async {
        let (tx, rx) = chan::<u32>(1);
        tx.send(1).await.unwrap();
        assert!(time::timeout(Duration::from_millis(2), tx.send(2))
            .await
            .is_err());
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(
            rx.try_recv(),
            Err(TryRecvError::Empty),
            "the cancelled send's value is gone"
        );
        tx.send(3).await.unwrap();
        assert_eq!(rx.recv().await, Some(3));
    });
}
