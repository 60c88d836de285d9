//! `select!` on the runtime: fairness, `biased;`, losers without effect,
//! timers, default, and exactly one branch under cross-core races.

use std::time::{Duration, Instant};

use uringo::chan::TryRecvError;
mod support;

use support::runtime;
use uringo::{chan, select, spawn_on, time};

#[test]
fn fair_between_two_always_ready_branches() {
    runtime(1).block_on(async {
        let (tx1, rx1) = chan::<u32>(1);
        let (tx2, rx2) = chan::<u32>(1);
        let (mut first, mut second) = (0u32, 0u32);
        for _ in 0..10_000 {
            let _ = tx1.try_send(1);
            let _ = tx2.try_send(2);
            select! {
                v = recv(rx1) => { assert_eq!(v, Some(1)); first += 1 }
                v = recv(rx2) => { assert_eq!(v, Some(2)); second += 1 }
            }
        }
        assert_eq!(first + second, 10_000);
        assert!(
            (4_000..=6_000).contains(&first),
            "first chosen {first} times of 10000"
        );
    });
}

#[test]
fn biased_always_takes_the_first_ready_branch() {
    runtime(1).block_on(async {
        let (tx1, rx1) = chan::<u32>(1);
        let (tx2, rx2) = chan::<u32>(1);
        for _ in 0..1_000 {
            let _ = tx1.try_send(1);
            let _ = tx2.try_send(2);
            let v = select! {
                biased;
                v = recv(rx1) => v,
                v = recv(rx2) => v,
            };
            assert_eq!(v, Some(1));
        }
        assert_eq!(rx2.try_recv(), Ok(2), "the loser's value stayed");
    });
}

#[test]
fn losing_recv_leaves_its_value_and_losing_send_delivers_nothing() {
    let rt = runtime(2);
    rt.block_on(async {
        let (in_tx, in_rx) = chan::<u32>(4);
        let (out_tx, out_rx) = chan::<u32>(0);
        for i in 0..4 {
            in_tx.send(i).await.unwrap();
        }
        let mut taken = Vec::new();
        for _ in 0..4 {
            // The send branch can never win: nobody receives on out.
            select! {
                v = recv(in_rx) => taken.push(v.unwrap()),
                _ = send(out_tx, 99) => unreachable!("no receiver"),
            }
        }
        assert_eq!(taken, [0, 1, 2, 3]);
        // Now the receive side is empty and a receiver appears on another core:
        // the send wins, and only one value was ever delivered.
        let receiver = spawn_on(1, move || async move {
            let v = out_rx.recv().await;
            (v, out_rx.try_recv())
        });
        let r = select! {
            v = recv(in_rx) => Err(v),
            r = send(out_tx, 7) => Ok(r),
        };
        assert!(matches!(r, Ok(Ok(()))));
        assert_eq!(receiver.await, (Some(7), Err(TryRecvError::Empty)));
        assert_eq!(in_rx.try_recv(), Err(TryRecvError::Empty));
    });
}

#[test]
fn default_runs_when_nothing_is_ready() {
    runtime(1).block_on(async {
        let (tx, rx) = chan::<u32>(0);
        let ran = select! {
            _ = recv(rx) => false,
            _ = send(tx, 1) => false,
            default => true,
        };
        assert!(ran);
    });
}

#[test]
fn timer_branch_fires_when_nothing_else_does() {
    runtime(1).block_on(async {
        let (_tx, rx) = chan::<u32>(0);
        let start = Instant::now();
        let timed_out = select! {
            _ = recv(rx) => false,
            _ = after(Duration::from_millis(10)) => true,
        };
        assert!(timed_out);
        assert!(start.elapsed() >= Duration::from_millis(10));
    });
}

#[test]
fn channel_beats_a_later_timer_and_leaves_nothing_parked() {
    let rt = runtime(2);
    rt.block_on(async {
        let (tx, rx) = chan::<u32>(0);
        let sender = spawn_on(1, move || async move {
            time::sleep(Duration::from_millis(2)).await;
            tx.send(5).await.unwrap();
            tx
        });
        let got = select! {
            v = recv(rx) => v,
            _ = after(Duration::from_secs(5)) => None,
        };
        assert_eq!(got, Some(5));
        let tx = sender.await;
        assert!(
            tx.try_send(6).is_err(),
            "no receiver of the select is left parked"
        );
    });
}

#[test]
fn racing_counterparts_on_two_cores_complete_one_branch_per_select() {
    const ROUNDS: u32 = 2_000;
    let rt = runtime(2);
    rt.block_on(async {
        let (tx1, rx1) = chan::<u32>(0);
        let (tx2, rx2) = chan::<u32>(0);
        let producers = [(tx1, 0u32), (tx2, 1u32)].map(|(tx, k)| {
            spawn_on(1, move || async move {
                let mut sent = 0u32;
                for i in 0..ROUNDS {
                    if tx.send(i * 2 + k).await.is_ok() {
                        sent += 1;
                    }
                }
                sent
            })
        });
        let mut got = Vec::new();
        let (mut open1, mut open2) = (true, true);
        while open1 || open2 {
            select! {
                v = recv(rx1) => match v { Some(v) => got.push(v), None => open1 = false },
                v = recv(rx2) => match v { Some(v) => got.push(v), None => open2 = false },
            }
        }
        let [a, b] = producers;
        assert_eq!(a.await + b.await, 2 * ROUNDS);
        got.sort_unstable();
        assert_eq!(got, (0..2 * ROUNDS).collect::<Vec<_>>());
    });
}

#[test]
fn dropped_waiting_select_leaves_channels_consistent() {
    let rt = runtime(2);
    rt.block_on(async {
        let (tx, rx) = chan::<u32>(0);
        let (tx2, rx2) = chan::<u32>(0);
        for _ in 0..3 {
            let r = time::timeout(Duration::from_millis(2), async {
                select! {
                    v = recv(rx) => v,
                    _ = send(tx2, 1) => None,
                }
            })
            .await;
            assert!(r.is_err());
        }
        assert!(
            tx.try_send(1).is_err(),
            "no receiver left parked by the dropped selects"
        );
        assert_eq!(
            rx2.try_recv(),
            Err(TryRecvError::Empty),
            "no sender left parked"
        );
        let sender = spawn_on(1, move || async move { tx.send(3).await });
        assert_eq!(rx.recv().await, Some(3));
        sender.await.unwrap();
    });
}
