//! The cross-core transport, built on `uringo::chan`: each core's inbox is
//! a buffered channel of message batches that every core sends into.
//!
//! A core must never wait to send: two cores sending into each other's full
//! inbox would deadlock. So `Outbox::send` tries a non-blocking send and,
//! when the inbox is full, parks the batch in a per-destination overflow
//! queue that a forwarder task drains with awaiting sends. While anything
//! is parked or in flight, later batches queue behind it, which keeps the
//! FIFO order per pair of cores that channel ordering relies on.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use uringo::chan::{Receiver, Sender, TrySendError};

use super::msg::Msg;

/// Batches an inbox buffers before senders overflow into their queue.
const INBOX_BATCHES: usize = 1024;
/// Batches taken from the inbox per wake-up.
const RECV_BATCHES: usize = 64;

pub type Batch = Vec<Msg>;

/// One inbox per core: its senders (for every core) and its receiver.
pub fn inboxes(cores: usize) -> (Vec<Sender<Batch>>, Vec<Receiver<Batch>>) {
    (0..cores)
        .map(|_| uringo::chan::<Batch>(INBOX_BATCHES))
        .unzip()
}

/// Waits for batches; false once the inbox is closed and drained.
pub async fn recv(rx: &Receiver<Batch>, buf: &mut Vec<Batch>) -> bool {
    rx.recv_many(buf, RECV_BATCHES).await > 0
}

struct Lane {
    tx: Sender<Batch>,
    parked: RefCell<VecDeque<Batch>>,
    in_flight: Cell<bool>,
    forwarder: Cell<Option<Waker>>,
}

/// A core's way out to every inbox (itself included). Lives on one core.
pub struct Outbox {
    lanes: Vec<Lane>,
}

impl Outbox {
    /// Builds the outbox and spawns one forwarder task per destination.
    pub fn start(txs: Vec<Sender<Batch>>) -> Rc<Outbox> {
        let out = Rc::new(Outbox {
            lanes: txs
                .into_iter()
                .map(|tx| Lane {
                    tx,
                    parked: RefCell::new(VecDeque::new()),
                    in_flight: Cell::new(false),
                    forwarder: Cell::new(None),
                })
                .collect(),
        });
        for core in 0..out.lanes.len() {
            uringo::spawn(forward(out.clone(), core));
        }
        out
    }

    pub fn send(&self, core: usize, batch: Batch) {
        let Some(lane) = self.lanes.get(core) else {
            return;
        };
        if lane.parked.borrow().is_empty() && !lane.in_flight.get() {
            match lane.tx.try_send(batch) {
                Ok(()) | Err(TrySendError::Closed(_)) => return,
                Err(TrySendError::Full(b)) => lane.parked.borrow_mut().push_back(b),
            }
        } else {
            lane.parked.borrow_mut().push_back(batch);
        }
        if let Some(w) = lane.forwarder.take() {
            w.wake();
        }
    }
}

async fn forward(out: Rc<Outbox>, core: usize) {
    let lane = &out.lanes[core];
    loop {
        let batch = poll_fn(|cx| match lane.parked.borrow_mut().pop_front() {
            Some(b) => Poll::Ready(b),
            None => {
                lane.forwarder.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await;
        lane.in_flight.set(true);
        let sent = lane.tx.send(batch).await;
        lane.in_flight.set(false);
        if sent.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::msg::{ClientRef, NickMsg};

    fn msg(i: usize) -> Msg {
        Msg::Nick(NickMsg::Release {
            folded: i.to_string(),
            from: ClientRef { core: 0, id: 0 },
            was: None,
        })
    }

    fn name(m: &Msg) -> String {
        match m {
            Msg::Nick(NickMsg::Release { folded, .. }) => folded.clone(),
            _ => String::new(),
        }
    }

    #[test]
    fn overflow_keeps_order_and_never_blocks_the_sender() {
        let rt = uringo::Builder::new().cores(1).build().expect("runtime");
        rt.block_on(async {
            // An inbox of one batch: nearly everything overflows.
            let (tx, rx) = uringo::chan::<Batch>(1);
            let out = Outbox::start(vec![tx]);
            for i in 0..200 {
                out.send(0, vec![msg(i)]);
            }
            let mut got = Vec::new();
            let mut buf = Vec::new();
            while got.len() < 200 && recv(&rx, &mut buf).await {
                got.extend(buf.drain(..).flatten().map(|m| name(&m)));
            }
            let want: Vec<String> = (0..200).map(|i| i.to_string()).collect();
            assert_eq!(got, want);
        });
    }
}
