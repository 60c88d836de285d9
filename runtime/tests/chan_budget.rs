//! Invariant 6 for channels: a task whose channel is never empty (or never
//! full) still spends its cooperative budget and yields, so its siblings
//! run.

use std::cell::Cell;
use std::rc::Rc;

mod support;

use uringo::{chan, select, spawn};

const BUDGET: u32 = 16;
const ROUNDS: u32 = 100_000;

fn runtime() -> uringo::Runtime {
    uringo::Builder::new()
        .cores(1)
        .pin(false)
        .coop_budget(BUDGET)
        .build()
        .unwrap()
}

/// Spawns a sibling that raises `ran` when it gets to run.
fn sibling() -> Rc<Cell<bool>> {
    let ran = Rc::new(Cell::new(false));
    let flag = ran.clone();
    spawn(async move { flag.set(true) });
    ran
}

#[test]
fn draining_a_never_empty_channel_lets_a_sibling_run() {
    runtime().block_on(async {
        let (tx, rx) = chan::<u32>(1);
        tx.send(0).await.unwrap();
        let ran = sibling();
        // Each round takes the value and puts it back: both always ready.
        let mut rounds = 0;
        while !ran.get() && rounds < ROUNDS {
            let v = rx.recv().await.unwrap();
            tx.send(v).await.unwrap();
            rounds += 1;
        }
        assert!(ran.get(), "the sibling never ran in {rounds} ready rounds");
        assert!(rounds <= BUDGET, "yielded only after {rounds} rounds");
    });
}

#[test]
fn a_select_that_is_always_ready_lets_a_sibling_run() {
    runtime().block_on(async {
        let (tx, rx) = chan::<u32>(1);
        tx.send(0).await.unwrap();
        let ran = sibling();
        let mut rounds = 0;
        while !ran.get() && rounds < ROUNDS {
            select! {
                v = recv(rx) => tx.try_send(v.unwrap()).unwrap(),
            }
            rounds += 1;
        }
        assert!(ran.get(), "the sibling never ran in {rounds} ready selects");
    });
}
