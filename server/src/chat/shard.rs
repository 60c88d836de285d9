//! One core's share of the chat server, sans I/O: its clients, the nicks
//! and channels it owns, and its mirror of which local clients sit in which
//! channel. Input is lines and cross-core messages; output is bytes queued
//! per client and messages for other cores (`outbox`). The networking layer
//! (and the multi-core simulation in tests) only moves these around.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::channel::Channel;
use super::client::{Client, Finish};
use super::framing::Frame;
use super::msg::{ChanOp, ClientId, ClientRef, Msg, Req};
use super::numerics::To;
use super::parse::LineBuilder;

/// Fixed settings, shared by all cores.
#[derive(Debug, Clone)]
pub struct Config {
    pub name: String,
    pub network: String,
    pub motd: Option<Vec<String>>,
    pub password: Option<String>,
    pub sendq: usize,
    pub cores: usize,
    pub created: String,
}

impl Config {
    pub fn new(name: &str, cores: usize) -> Self {
        Config {
            name: name.to_string(),
            network: "uringo".into(),
            motd: None,
            password: None,
            sendq: 1 << 20,
            cores,
            created: "today".into(),
        }
    }
}

/// Server-wide statistics for LUSERS. Counts only; no decision depends on
/// them, so relaxed atomics are enough.
#[derive(Default, Debug)]
pub struct Counters {
    pub users: AtomicI64,
    pub invisible: AtomicI64,
    pub unknown: AtomicI64,
    pub channels: AtomicI64,
    pub max_users: AtomicI64,
}

impl Counters {
    pub fn get(c: &AtomicI64) -> i64 {
        c.load(Ordering::Relaxed).max(0)
    }
    pub fn add(c: &AtomicI64, d: i64) {
        c.fetch_add(d, Ordering::Relaxed);
    }
}

/// Inbound bytes a client may have waiting before its reader stops reading.
pub const INQ_LIMIT: usize = 8 * 1024;
/// NICK/QUIT de-duplication memory: at most this many events, and this
/// many (event, client) pairs in all; the oldest events are forgotten first.
/// An event's copies arrive within one round of cross-core messages, long
/// before it would be forgotten.
const DEDUP_EVENTS: usize = 4096;
const DEDUP_PAIRS: usize = 1 << 20;

pub struct Shard {
    pub core: usize,
    pub cfg: Arc<Config>,
    pub counters: Arc<Counters>,
    pub(super) clients: HashMap<ClientId, Client>,
    next_id: ClientId,
    /// Owned nicks: folded nick -> client.
    pub(super) nicks: HashMap<String, ClientRef>,
    /// Owned channels by folded name.
    pub(super) chans: HashMap<String, Channel>,
    /// Local members of each channel (folded name), from owners' events.
    pub(super) index: HashMap<String, Vec<ClientId>>,
    dedup: HashMap<u64, HashSet<ClientId>>,
    dedup_order: VecDeque<u64>,
    dedup_pairs: usize,
    next_event: u64,
    /// Clients this core has started dropping (changes mean "someone quit").
    pub(super) quits: u64,
    outbox: Vec<(usize, Msg)>,
}

/// What a queued input line counts against INQ_LIMIT; the 417 marker
/// stands for the oversized line it replaced.
pub(super) fn inq_cost(line: &[u8]) -> usize {
    if line.is_empty() {
        super::parse::MAX_LINE
    } else {
        line.len()
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Shard {
    pub fn new(core: usize, cfg: Arc<Config>, counters: Arc<Counters>) -> Self {
        Shard {
            core,
            cfg,
            counters,
            clients: HashMap::new(),
            next_id: 1,
            nicks: HashMap::new(),
            chans: HashMap::new(),
            index: HashMap::new(),
            dedup: HashMap::new(),
            dedup_order: VecDeque::new(),
            dedup_pairs: 0,
            next_event: 0,
            quits: 0,
            outbox: Vec::new(),
        }
    }

    pub fn cores(&self) -> usize {
        self.cfg.cores
    }

    pub fn connect(&mut self, host: String) -> ClientId {
        let id = self.next_id;
        self.next_id += 1;
        self.clients.insert(id, Client::new(host, now_secs()));
        Counters::add(&self.counters.unknown, 1);
        id
    }

    /// A frame from the client's socket. Runs it now unless an earlier
    /// command is still waiting for another core.
    pub fn input(&mut self, id: ClientId, frame: Frame) {
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        if c.closing {
            return;
        }
        c.ping_outstanding = false;
        c.last_input = Instant::now();
        match frame {
            // Queued like a line (as the one empty line the framer never
            // makes), so the 417 comes in order after earlier replies.
            Frame::TooLong => {
                c.inq_bytes += inq_cost(&[]);
                c.inq.push_back(Bytes::new());
                self.pump(id);
            }
            Frame::Line(l) => {
                c.inq_bytes += inq_cost(&l);
                c.inq.push_back(l);
                self.pump(id);
            }
        }
    }

    /// True when the reader may hand this client more input.
    pub fn wants_input(&self, id: ClientId) -> bool {
        self.clients
            .get(&id)
            .is_some_and(|c| !c.closing && c.inq_bytes < INQ_LIMIT)
    }

    pub fn is_closing(&self, id: ClientId) -> bool {
        self.clients.get(&id).is_none_or(|c| c.closing)
    }

    /// Runs queued lines while no remote request is outstanding.
    pub(super) fn pump(&mut self, id: ClientId) {
        loop {
            let Some(c) = self.clients.get_mut(&id) else {
                return;
            };
            if c.closing || c.pending > 0 {
                return;
            }
            let Some(line) = c.inq.pop_front() else {
                c.wake_reader();
                return;
            };
            c.inq_bytes = c.inq_bytes.saturating_sub(inq_cost(&line));
            if c.inq_bytes < INQ_LIMIT {
                c.wake_reader();
            }
            self.exec(id, line);
        }
    }

    /// Queues a line for a local client; past the sendq limit the client is
    /// dropped instead of growing the queue.
    pub fn send(&mut self, id: ClientId, line: Bytes) {
        let limit = self.cfg.sendq;
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        if c.closing {
            return;
        }
        if c.out_bytes + line.len() > limit {
            c.out.clear();
            c.out_bytes = 0;
            self.quit(id, "Max SendQ exceeded", "Max SendQ exceeded");
            return;
        }
        c.out_bytes += line.len();
        c.out.push_back(line);
        c.wake_writer();
    }

    pub(super) fn send_all(&mut self, id: ClientId, lines: Vec<Bytes>) {
        for l in lines {
            self.send(id, l);
        }
    }

    /// Builds a reply addressed to the client (`:<server> NNN <nick> ...`).
    pub(super) fn reply(&mut self, id: ClientId, f: impl FnOnce(To) -> Bytes) {
        let Some(c) = self.clients.get(&id) else {
            return;
        };
        let line = f(To::new(&self.cfg.name, c.nick.as_deref()));
        self.send(id, line);
    }

    /// For the writer: everything queued, and whether to close afterwards.
    pub fn take_output(&mut self, id: ClientId) -> (Vec<Bytes>, bool) {
        match self.clients.get_mut(&id) {
            Some(c) => {
                c.out_bytes = 0;
                (c.out.drain(..).collect(), c.closing)
            }
            None => (Vec::new(), true),
        }
    }

    pub fn set_writer_waker(&mut self, id: ClientId, w: &std::task::Waker) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.writer = Some(w.clone());
        }
    }

    pub fn set_reader_waker(&mut self, id: ClientId, w: &std::task::Waker) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.reader = Some(w.clone());
        }
    }

    pub fn has_output(&self, id: ClientId) -> bool {
        self.clients
            .get(&id)
            .is_none_or(|c| !c.out.is_empty() || c.closing)
    }

    /// The idle sweep, run every few seconds: a client silent for
    /// `interval` is pinged; silent for another `interval` it is dropped.
    /// Returns clients that have been closing for longer than `grace`
    /// (their writer is stuck on a peer that does not read): the caller
    /// shuts their sockets down.
    pub fn sweep(&mut self, now: Instant, interval: Duration, grace: Duration) -> Vec<ClientId> {
        let mut stuck = Vec::new();
        let mut idle = Vec::new();
        for (&id, c) in &mut self.clients {
            if let Some(since) = c.closing_since {
                if now.saturating_duration_since(since) >= grace {
                    stuck.push(id);
                }
                continue;
            }
            if now.saturating_duration_since(c.last_input) >= interval {
                c.last_input = now;
                idle.push(id);
            }
        }
        for id in idle {
            let Some(c) = self.clients.get_mut(&id) else {
                continue;
            };
            if c.ping_outstanding {
                let reason = format!("Ping timeout: {} seconds", interval.as_secs());
                self.quit(id, &reason, &reason);
            } else {
                c.ping_outstanding = true;
                let l = LineBuilder::new(None, "PING").trailing(&self.cfg.name);
                self.send(id, l);
            }
        }
        stuck
    }

    /// Tells every core (this one included) to close all its clients.
    pub fn shutdown_all(&mut self) {
        for core in 0..self.cores() {
            self.post(core, Msg::Shutdown);
        }
    }

    /// Starts the client's exit unless it is already leaving.
    pub fn close(&mut self, id: ClientId, reason: &str) {
        self.quit(id, reason, reason);
    }

    /// Forgets a client whose connection task has ended.
    pub fn remove(&mut self, id: ClientId) {
        if self.clients.get(&id).is_some_and(|c| !c.closing) {
            self.quit(id, "Connection closed", "Connection closed");
        }
        self.clients.remove(&id);
    }

    /// Starts the client's exit: ERROR to it, QUIT to its channels, nick
    /// released. The writer flushes and then closes the socket.
    pub(super) fn quit(&mut self, id: ClientId, quit_msg: &str, error: &str) {
        if self.clients.get(&id).is_none_or(|c| c.closing) {
            return;
        }
        self.quits += 1;
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        let error = format!("Closing Link: {} ({})", c.host, error);
        c.out_bytes += error.len();
        c.out
            .push_back(LineBuilder::new(None, "ERROR").trailing(error));
        c.closing = true;
        c.closing_since = Some(Instant::now());
        c.inq.clear();
        c.inq_bytes = 0;
        c.wake_writer();
        c.wake_reader();
        let who = ClientRef {
            core: self.core,
            id,
        };
        let registered = c.registered;
        let invisible = c.invisible;
        let nick = c.nick.take();
        let chans: Vec<String> = c.channels.drain().map(|(k, _)| k).collect();
        let quit_line = LineBuilder::new(Some(c.prefix.as_bytes()), "QUIT").trailing(quit_msg);
        if registered {
            Counters::add(&self.counters.users, -1);
            if invisible {
                Counters::add(&self.counters.invisible, -1);
            }
        } else {
            Counters::add(&self.counters.unknown, -1);
        }
        if let Some(n) = nick {
            self.release_nick(&n, who);
        }
        let dedup = (chans.len() > 1).then(|| self.new_event());
        for chan in chans {
            self.unindex(&chan, id);
            let req = self.req(id);
            self.post_to_owner(
                &chan.clone(),
                Msg::Chan {
                    chan,
                    req,
                    op: ChanOp::Leave {
                        line: Some(quit_line.clone()),
                        dedup,
                    },
                },
            );
        }
    }

    pub(super) fn unindex(&mut self, chan: &str, id: ClientId) {
        if let Some(v) = self.index.get_mut(chan) {
            v.retain(|&x| x != id);
            if v.is_empty() {
                self.index.remove(chan);
            }
        }
    }

    /// A request context for remote cores (works for closing clients too).
    pub(super) fn req(&self, id: ClientId) -> Req {
        let c = self.clients.get(&id);
        Req {
            from: ClientRef {
                core: self.core,
                id,
            },
            nick: c.map(|c| c.nick_or_star().to_string()).unwrap_or_default(),
            prefix: c.map(|c| c.prefix.clone()).unwrap_or_default(),
            multi_prefix: c.is_some_and(|c| c.multi_prefix),
        }
    }

    pub(super) fn new_event(&mut self) -> u64 {
        self.next_event += 1;
        ((self.core as u64) << 48) | self.next_event
    }

    /// True the first time `id` is offered event `ev`.
    pub(super) fn first_sight(&mut self, ev: u64, id: ClientId) -> bool {
        let seen = self.dedup.entry(ev).or_insert_with(|| {
            self.dedup_order.push_back(ev);
            HashSet::new()
        });
        if !seen.insert(id) {
            return false;
        }
        self.dedup_pairs += 1;
        while self.dedup_order.len() > DEDUP_EVENTS || self.dedup_pairs > DEDUP_PAIRS {
            let Some(old) = self.dedup_order.pop_front() else {
                break;
            };
            if let Some(set) = self.dedup.remove(&old) {
                self.dedup_pairs -= set.len();
            }
        }
        true
    }

    pub(super) fn post(&mut self, core: usize, msg: Msg) {
        self.outbox.push((core, msg));
    }

    pub(super) fn post_to_owner(&mut self, name: &str, msg: Msg) {
        let core = super::casemap::owner(name, self.cores());
        self.post(core, msg);
    }

    /// Sends a request whose answer the client waits for.
    pub(super) fn request(&mut self, id: ClientId, core: usize, msg: Msg) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.pending += 1;
        }
        self.post(core, msg);
    }

    /// Sends channel operation `op` from client `id` to the channel's owner
    /// as a request the client waits for.
    pub(super) fn request_chan(&mut self, id: ClientId, chan: String, op: super::msg::ChanOp) {
        let req = self.req(id);
        let core = super::casemap::owner(&chan, self.cores());
        self.request(id, core, Msg::Chan { chan, req, op });
    }

    pub(super) fn set_finish(&mut self, id: ClientId, f: Finish) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.finish = Some(f);
        }
    }

    /// Runs messages addressed to this core until none is left and returns
    /// the ones for other cores, in the order they were produced.
    pub fn flush(&mut self) -> Vec<(usize, Msg)> {
        let mut remote = Vec::new();
        loop {
            let batch = std::mem::take(&mut self.outbox);
            if batch.is_empty() {
                return remote;
            }
            for (core, msg) in batch {
                if core == self.core {
                    self.handle(msg);
                } else {
                    remote.push((core, msg));
                }
            }
        }
    }

    /// A message from any core (this one included).
    pub fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::ClaimNick { nick, from } => self.on_claim_nick(nick, from),
            Msg::NickResult { id, nick, ok } => self.on_nick_result(id, nick, ok),
            Msg::ReleaseNick { folded, from } => {
                if self.nicks.get(&folded) == Some(&from) {
                    self.nicks.remove(&folded);
                }
            }
            Msg::ToNick { target, req, op } => self.on_to_nick(target, req, op),
            Msg::AtClient {
                id,
                target,
                req,
                op,
            } => self.on_at_client(id, target, req, op),
            Msg::Chan { chan, req, op } => self.on_chan(chan, req, op),
            Msg::CheckNicks {
                req,
                lines,
                chan,
                targets,
            } => self.on_check_nicks(req, lines, chan, targets),
            Msg::Deliver(d) => self.on_deliver(d),
            Msg::Reply {
                id,
                lines,
                frag,
                done,
            } => self.on_reply(id, lines, frag, done),
            Msg::Scatter { req, op } => self.on_scatter(req, op),
            Msg::Shutdown => {
                let ids: Vec<ClientId> = self.clients.keys().copied().collect();
                for id in ids {
                    self.quit(id, "Server shutting down", "Server shutting down");
                }
            }
        }
    }

    pub(super) fn on_reply(
        &mut self,
        id: ClientId,
        lines: Vec<Bytes>,
        frag: Option<(u8, String)>,
        done: bool,
    ) {
        self.send_all(id, lines);
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        if let Some(f) = frag {
            c.frags.push(f);
        }
        if !done {
            return;
        }
        c.pending = c.pending.saturating_sub(1);
        if c.pending > 0 {
            return;
        }
        match c.finish.take() {
            Some(Finish::Lines(lines)) => self.send_all(id, lines),
            Some(Finish::Userhost) => {
                let mut frags = std::mem::take(&mut c.frags);
                frags.sort_unstable();
                let frags: Vec<String> = frags.into_iter().map(|(_, f)| f).collect();
                let frags = frags.join(" ");
                self.reply(id, |to| to.text(super::numerics::RPL_USERHOST, frags));
            }
            None => {}
        }
        self.pump(id);
    }
}
