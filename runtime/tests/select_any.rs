//! `select!` over any future beside channel operations: fairness across
//! mixed branch kinds (chi-square over 10,000 rounds), `if` guards, and
//! JoinHandle, context, timer and I/O futures as branches.

use std::time::Duration;

mod support;

use support::runtime;
use uringo::context::Context;
use uringo::{chan, select, spawn, time};

/// Chi-square statistic of `counts` against a uniform distribution.
fn chi_square(counts: &[u32]) -> f64 {
    let total: u32 = counts.iter().sum();
    let expected = f64::from(total) / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (f64::from(c) - expected).powi(2) / expected)
        .sum()
}

#[test]
fn uniform_choice_among_ready_branches_of_mixed_kinds() {
    const ROUNDS: u32 = 10_000;
    runtime(1).block_on(async {
        let (full_tx, full_rx) = chan::<u32>(ROUNDS as usize);
        for i in 0..ROUNDS {
            full_tx.try_send(i).unwrap();
        }
        let (room_tx, _room_rx) = chan::<u32>(ROUNDS as usize);
        let (done, cancel) = Context::background().with_cancel();
        cancel.cancel();
        let mut counts = [0u32; 5];
        for _ in 0..ROUNDS {
            let i = select! {
                _ = recv(full_rx) => 0,
                _ = send(room_tx, 1) => 1,
                _ = after(Duration::ZERO) => 2,
                _ = done.done() => 3,
                _ = std::future::ready(()) => 4,
            };
            counts[i] += 1;
        }
        // 4 degrees of freedom: P(chi2 > 33) is below 1e-6 for a fair
        // choice; a select that prefers one branch by a few percent, or
        // always takes the first, lands far above.
        let chi2 = chi_square(&counts);
        assert!(chi2 < 33.0, "not uniform: {counts:?}, chi2 = {chi2:.1}");
    });
}

#[test]
fn biased_takes_the_first_ready_future_in_written_order() {
    runtime(1).block_on(async {
        for _ in 0..100 {
            let i = select! {
                biased;
                _ = std::future::pending::<()>() => 0,
                _ = std::future::ready(()) => 1,
                _ = after(Duration::ZERO) => 2,
            };
            assert_eq!(i, 1);
        }
    });
}

#[test]
fn a_false_guard_disables_its_branch_without_evaluating_it() {
    runtime(1).block_on(async {
        let (tx, rx) = chan::<u32>(1);
        tx.send(5).await.unwrap();
        let mut evaluated = false;
        let mut touch = || {
            evaluated = true;
            std::future::ready(0)
        };
        let v = select! {
            v = touch(), if false => v,
            v = recv(rx), if true => v.unwrap(),
        };
        assert_eq!(v, 5);
        assert!(!evaluated, "a disabled branch's future is not built");

        // Go's nil-channel idiom: stop receiving from a drained channel.
        let (tx, rx) = chan::<u32>(2);
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        tx.close();
        let (mut open, mut got) = (true, Vec::new());
        loop {
            select! {
                v = recv(rx), if open => match v {
                    Some(v) => got.push(v),
                    None => open = false,
                },
                _ = after(Duration::from_millis(1)) => break,
            }
        }
        assert_eq!(got, [1, 2]);
    });
}

#[test]
fn a_join_handle_a_timer_and_an_io_future_as_branches() {
    runtime(1).block_on(async {
        let (tx, rx) = chan::<u32>(0);
        let worker = spawn(async { 42 });
        let out = select! {
            v = worker => v,
            _ = recv(rx) => 0,
        };
        assert_eq!(out, 42);

        let deadline = time::Instant::now() + Duration::from_millis(2);
        let which = select! {
            _ = time::sleep_until(deadline) => "timer",
            _ = send(tx, 1) => "send",
        };
        assert_eq!(which, "timer", "nobody receives, so the timer fires");

        let (a, b) = support::tcp_pair();
        let (res, _) = a.write_all(b"ping".to_vec()).await;
        res.unwrap();
        let got = select! {
            r = b.read(vec![0u8; 16]) => {
                let (n, buf) = r;
                buf[..n.unwrap()].to_vec()
            }
            _ = after(Duration::from_secs(10)) => Vec::new(),
        };
        assert_eq!(got, b"ping");
    });
}

#[test]
fn a_losing_future_branch_is_dropped_before_the_handler_runs() {
    use std::cell::Cell;
    use std::rc::Rc;
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    runtime(1).block_on(async {
        let (tx, rx) = chan::<u32>(1);
        tx.send(3).await.unwrap();
        let dropped = Rc::new(Cell::new(false));
        let flag = Flag(dropped.clone());
        let loser = async move {
            let _flag = flag;
            std::future::pending::<()>().await
        };
        let v = select! {
            v = recv(rx) => {
                assert!(dropped.get(), "the losing future is gone when the handler runs");
                v
            }
            _ = loser => None,
        };
        assert_eq!(v, Some(3));
    });
}
