//! One core's running chat server: its shard, the way out to the other
//! cores, and its clients' sockets. `Node::with` is the only way to the
//! shard: it runs one shard call (which never awaits, so the `RefCell`
//! borrow lasts that call only) and then sends whatever the call produced
//! for other cores. Once the shard has handled `Shutdown`, the node's stop
//! channel closes, which ends the accept loop. The node keeps no socket: a
//! connection asked to shut down (`shut_down`) is woken and shuts its own,
//! so an idle client costs no shared stream and no table slot here.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use uringo::chan::{Receiver, Sender};

use super::bridge::{BridgeTx, ClusterReq};
use super::cli::ChatArgs;
use super::mailbox::{Batch, Outbox};
use super::msg::{ClientId, Msg};
use super::shard::Shard;
use crate::scaffold::pacer::LogLimiter;

pub struct Node {
    shard: RefCell<Shard>,
    args: ChatArgs,
    outbox: Rc<Outbox>,
    cores: usize,
    /// Connection tasks running (for the shutdown drain).
    live: Cell<usize>,
    /// Connections asked to shut their sockets down (stuck writers); every
    /// one once `shut_all` is set. Each looks when its task is woken.
    to_shut: RefCell<Vec<ClientId>>,
    shut_all: Cell<bool>,
    /// Woken when the last connection ends (for the shutdown drain).
    drained: Cell<Option<Waker>>,
    /// Closed once the server stops.
    stop: (Sender<()>, Receiver<()>),
    /// Clustered: where the shard's cluster requests go.
    bridge: RefCell<Option<BridgeTx>>,
    /// While the bridge queue stays full, one warning a second (with the count held back).
    bridge_full_log: RefCell<LogLimiter>,
}

impl Node {
    pub fn new(shard: Shard, args: ChatArgs, outbox: Rc<Outbox>, cores: usize) -> Node {
        Node {
            shard: RefCell::new(shard),
            args,
            outbox,
            cores,
            live: Cell::new(0),
            to_shut: RefCell::new(Vec::new()),
            shut_all: Cell::new(false),
            drained: Cell::new(None),
            stop: uringo::chan(1),
            bridge: RefCell::new(None),
            bridge_full_log: RefCell::new(LogLimiter::new(Duration::from_secs(1))),
        }
    }

    /// Clustered: the shard's cluster requests go to `bridge` from now on.
    pub fn set_bridge(&self, bridge: BridgeTx) {
        *self.bridge.borrow_mut() = Some(bridge);
    }

    pub fn args(&self) -> &ChatArgs {
        &self.args
    }

    /// Runs `f` on the shard, then sends whatever it produced for other
    /// cores, one batch per destination core.
    pub fn with<R>(&self, f: impl FnOnce(&mut Shard) -> R) -> R {
        let (r, out, stopping, cluster) = {
            let mut s = self.shard.borrow_mut();
            let r = f(&mut s);
            (r, s.flush(), s.is_stopping(), s.take_cluster())
        };
        // Checked here, not only inside: most calls (a writer taking its
        // output) produce nothing, and this runs a few times per delivery.
        if !out.is_empty() {
            self.route(out);
        }
        if !cluster.is_empty() {
            self.to_bridge(cluster);
        }
        if stopping && !self.stop.0.is_closed() {
            self.stop.0.close();
        }
        r
    }

    /// Closed (its `recv` yields `None`) once the server stops.
    pub fn stopped(&self) -> &Receiver<()> {
        &self.stop.1
    }

    fn to_bridge(&self, reqs: Vec<ClusterReq>) {
        if reqs.is_empty() {
            return;
        }
        let Some(bridge) = self.bridge.borrow().clone() else {
            return;
        };
        let mut refused = Vec::new();
        let full = reqs
            .into_iter()
            .map(|req| !bridge.offer(req, &mut refused))
            .filter(|&full| full)
            .count();
        if full > 0 {
            if let Some(held_back) = self.bridge_full_log.borrow_mut().allow(Instant::now()) {
                tracing::warn!(
                    "cluster: bridge queue full; {full} requests refused \
                     ({held_back} such warnings held back since the last)"
                );
            }
            self.with(|s| refused.into_iter().for_each(|m| s.on_cluster(m)));
        }
    }

    fn route(&self, out: Vec<(usize, Msg)>) {
        if out.is_empty() {
            return;
        }
        let mut batches: Vec<Batch> = (0..self.cores).map(|_| Vec::new()).collect();
        for (core, msg) in out {
            if let Some(b) = batches.get_mut(core) {
                b.push(msg);
            }
        }
        for (core, batch) in batches.into_iter().enumerate() {
            if !batch.is_empty() {
                self.outbox.send(core, batch);
            }
        }
    }

    /// A connection task starts.
    pub fn connected(&self) {
        self.live.set(self.live.get() + 1);
    }

    /// Client `id`'s connection task ends.
    pub fn disconnected(&self, id: ClientId) {
        self.live.set(self.live.get().saturating_sub(1));
        let mut to_shut = self.to_shut.borrow_mut();
        if !to_shut.is_empty() {
            to_shut.retain(|&x| x != id);
        }
        if self.live.get() == 0 {
            if let Some(w) = self.drained.take() {
                w.wake();
            }
        }
    }

    /// Has the sockets of `ids` (or of every client) shut down: their tasks
    /// are woken, shut their sockets (`should_shut`), see EOF or an error
    /// and end.
    pub fn shut_down(&self, ids: Option<&[ClientId]>) {
        match ids {
            Some([]) => return,
            Some(ids) => {
                let mut to_shut = self.to_shut.borrow_mut();
                for &id in ids {
                    if !to_shut.contains(&id) {
                        to_shut.push(id);
                    }
                }
            }
            None => self.shut_all.set(true),
        }
        self.with(|s| s.wake_tasks(ids));
    }

    /// True once client `id`'s socket is to be shut down.
    pub fn should_shut(&self, id: ClientId) -> bool {
        if self.shut_all.get() {
            return true;
        }
        let to_shut = self.to_shut.borrow();
        !to_shut.is_empty() && to_shut.contains(&id)
    }

    /// Completes once no connection is left.
    pub async fn drained(&self) {
        poll_fn(|cx| {
            if self.live.get() == 0 {
                Poll::Ready(())
            } else {
                self.drained.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }
}
