//! A core's outgoing messages: every role (nick registry, channel owner,
//! client home) posts here, and the shard hands the batch to the transport
//! (or, for its own core, to itself) when the call is done.
//!
//! `chan_owner` and `nick_owner` are the one place that decides where a
//! channel's operations and a nick's claims go: a clustered server routes
//! them elsewhere here, and nothing else changes.

use bytes::Bytes;

use super::bridge::ClusterReq;
use super::casemap;
use super::msg::{ChanOp, HomeMsg, Msg, NickMsg, Req};

pub struct Mail {
    core: usize,
    cores: usize,
    queue: Vec<(usize, Msg)>,
    /// Requests for the cluster bridge; `None` when not clustered.
    cluster: Option<Vec<ClusterReq>>,
}

impl Mail {
    pub fn new(core: usize, cores: usize) -> Mail {
        Mail {
            core,
            cores,
            queue: Vec::new(),
            cluster: None,
        }
    }

    /// From now on, `send_cluster` accepts requests (`--cluster`).
    pub fn set_clustered(&mut self) {
        self.cluster = Some(Vec::new());
    }

    pub fn is_clustered(&self) -> bool {
        self.cluster.is_some()
    }

    /// Queues `req` for the cluster bridge; false (and nothing queued) if
    /// this server is not clustered.
    pub fn send_cluster(&mut self, req: ClusterReq) -> bool {
        match &mut self.cluster {
            Some(q) => {
                q.push(req);
                true
            }
            None => false,
        }
    }

    pub fn take_cluster(&mut self) -> Vec<ClusterReq> {
        self.cluster
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The core this mail leaves from.
    pub fn core(&self) -> usize {
        self.core
    }

    pub fn cores(&self) -> usize {
        self.cores
    }

    pub fn post(&mut self, core: usize, msg: Msg) {
        self.queue.push((core, msg));
    }

    pub fn chan_owner(&self, chan: &str) -> usize {
        casemap::owner(chan, self.cores)
    }

    pub fn nick_owner(&self, nick: &str) -> usize {
        casemap::owner(nick, self.cores)
    }

    /// Channel operation `op` from `req` to the channel's owner.
    pub fn send_chan(&mut self, chan: String, req: Req, op: ChanOp) {
        let core = self.chan_owner(&chan);
        self.post(core, Msg::Chan { chan, req, op });
    }

    /// A message for the nick registry that owns `nick`.
    pub fn send_registry(&mut self, nick: &str, msg: NickMsg) {
        let core = self.nick_owner(nick);
        self.post(core, Msg::Nick(msg));
    }

    /// Answers `req`, ending the request it waits for.
    pub fn answer(&mut self, req: &Req, lines: Vec<Bytes>, frag: Option<(u8, String)>) {
        self.reply(req, lines, frag, true);
    }

    /// Lines for the requester; `done` ends the request it waits for.
    pub fn reply(&mut self, req: &Req, lines: Vec<Bytes>, frag: Option<(u8, String)>, done: bool) {
        let id = req.from.id;
        let msg = HomeMsg::Reply {
            id,
            lines,
            frag,
            done,
        };
        self.post(req.from.core, Msg::Home(msg));
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    #[cfg(test)]
    pub fn take(&mut self) -> Vec<(usize, Msg)> {
        std::mem::take(&mut self.queue)
    }

    /// Swaps the queue with `spare` (empty): the caller drains what was
    /// queued while new mail goes into `spare`'s capacity, so a shard that
    /// alternates two buffers allocates none per message.
    pub fn swap_queue(&mut self, spare: &mut Vec<(usize, Msg)>) {
        debug_assert!(spare.is_empty());
        std::mem::swap(&mut self.queue, spare);
    }

    /// Lets an empty queue keep at most `n` messages of capacity.
    pub fn shrink_to(&mut self, n: usize) {
        self.queue.shrink_to(n);
    }
}
