//! One core's share of the chat server, sans I/O, made of three roles with
//! their own state: the nick registry (the nicks this core owns), the
//! channels this core owns, and the home of this core's clients (with its
//! mirror of their channel membership). Input is client frames and
//! messages from other cores; output is bytes queued per client and
//! messages for other cores. The networking layer (and the multi-core
//! simulation in tests) only moves these around.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::at_client;
use super::channels::Channels;
use super::commands;
use super::config::Config;
use super::counters::Counters;
use super::framing::Frame;
use super::home::Home;
use super::mail::Mail;
use super::msg::{ClientId, HomeMsg, Msg, ScatterOp};
use super::numerics::To;
use super::register;
use super::registry::NickRegistry;
use super::session::Session;

mod cluster_in;
mod cluster_users;

/// Messages of capacity `flush` keeps between calls.
const SPARE_MAIL: usize = 256;

pub struct Shard {
    core: usize,
    cfg: Arc<Config>,
    registry: NickRegistry,
    channels: Channels,
    home: Home,
    mail: Mail,
    /// The mail being handled by `flush`, kept to reuse its capacity.
    spare: Vec<(usize, Msg)>,
    /// Set by `Shutdown`: the server is stopping.
    stopping: bool,
}

impl Shard {
    pub fn new(core: usize, cfg: Arc<Config>, counters: Arc<Counters>) -> Self {
        Shard {
            core,
            registry: NickRegistry::default(),
            channels: Channels::new(counters.clone()),
            home: Home::new(core, cfg.clone(), counters),
            mail: Mail::new(core, cfg.cores),
            spare: Vec::new(),
            cfg,
            stopping: false,
        }
    }

    #[cfg(test)]
    pub fn home(&self) -> &Home {
        &self.home
    }

    pub fn connect(&mut self, host: String) -> ClientId {
        self.home.connect(host)
    }

    /// A frame from the client's socket. Runs it now unless an earlier
    /// command is still waiting for another core.
    pub fn input(&mut self, id: ClientId, frame: Frame) {
        if self.home.input(id, frame) {
            self.pump(id);
        }
    }

    /// Runs the client's queued lines while no remote request is outstanding.
    fn pump(&mut self, id: ClientId) {
        while let Some(line) = self.home.next_line(id) {
            commands::exec(&mut Session::new(&mut self.home, &mut self.mail, id), line);
            self.home.end_label(id);
        }
    }

    /// True when the reader may hand this client more input.
    pub fn wants_input(&self, id: ClientId) -> bool {
        self.home.wants_input(id)
    }

    pub fn is_closing(&self, id: ClientId) -> bool {
        self.home.is_closing(id)
    }

    /// Everything queued, and whether to close afterwards (the simulation's
    /// writer; the real one uses `next_output`).
    #[cfg(test)]
    pub fn take_output(&mut self, id: ClientId) -> (Vec<u8>, bool) {
        self.home.take_output(id)
    }

    /// Takes back a buffer from `take_output` once it has been sent.
    pub fn give_back(&mut self, buf: Vec<u8>) {
        self.home.give_back(buf);
    }

    /// For the writer: everything queued once there is any (see
    /// `Home::next_output`), after taking back the buffer of its last send.
    pub fn next_output(
        &mut self,
        id: ClientId,
        sent: Option<Vec<u8>>,
        w: &std::task::Waker,
    ) -> Option<(Vec<u8>, bool)> {
        if let Some(buf) = sent {
            self.home.give_back(buf);
        }
        self.home.next_output(id, w)
    }

    /// For the core's waker task: wakes the writers that got output.
    pub fn wake_due_writers(&mut self, w: &std::task::Waker) {
        self.home.wake_due_writers(w);
    }

    pub fn set_reader_waker(&mut self, id: ClientId, w: &std::task::Waker) {
        if let Some(c) = self.home.client_mut(id) {
            c.reader_wait(w);
        }
    }

    /// The idle sweep (see `Home::sweep`): clients whose writer is stuck.
    pub fn sweep(&mut self, now: Instant, interval: Duration, grace: Duration) -> Vec<ClientId> {
        self.home.sweep(&mut self.mail, now, interval, grace)
    }

    /// Tells every core (this one included) to close all its clients.
    pub fn shutdown_all(&mut self) {
        for core in 0..self.cfg.cores {
            self.mail.post(core, Msg::Shutdown);
        }
    }

    /// True once this core has been told to stop.
    pub fn is_stopping(&self) -> bool {
        self.stopping
    }

    /// Starts the client's exit unless it is already leaving.
    pub fn close(&mut self, id: ClientId, reason: &str) {
        self.home.quit(&mut self.mail, id, reason, reason);
    }

    /// Wakes the connection tasks of `ids` (or of every client).
    pub fn wake_tasks(&mut self, ids: Option<&[ClientId]>) {
        self.home.wake_tasks(ids);
    }

    /// Forgets a client whose connection task has ended.
    pub fn remove(&mut self, id: ClientId) {
        self.home.remove(&mut self.mail, id);
    }

    /// Runs messages addressed to this core until none is left and returns
    /// the ones for other cores, in the order they were produced.
    pub fn flush(&mut self) -> Vec<(usize, Msg)> {
        // Most shard calls (a writer taking its output) post nothing.
        if self.mail.is_empty() {
            return Vec::new();
        }
        let mut remote = Vec::new();
        let mut batch = std::mem::take(&mut self.spare);
        while !self.mail.is_empty() {
            self.mail.swap_queue(&mut batch);
            for (core, msg) in batch.drain(..) {
                if core == self.core {
                    self.handle(msg);
                } else {
                    remote.push((core, msg));
                }
            }
        }
        // A burst (shutdown of many clients) leaves no large buffer behind.
        batch.shrink_to(SPARE_MAIL);
        self.mail.shrink_to(SPARE_MAIL);
        self.spare = batch;
        remote
    }

    /// A message from any core (this one included), for one of the roles.
    pub fn handle(&mut self, msg: Msg) {
        let server = &self.cfg.name;
        match msg {
            Msg::Nick(m) => self.registry.handle(m, &mut self.mail, server),
            Msg::Chan { chan, req, op } => {
                self.channels.handle(chan, req, op, &mut self.mail, server)
            }
            Msg::Home(m) => self.on_home(m),
            Msg::Scatter { req, op } => {
                let to = To {
                    server,
                    nick: &req.nick,
                };
                let lines = match op {
                    // Clustered: one core answers for the network, from Redis.
                    ScatterOp::List(f) if self.mail.is_clustered() => {
                        if self.channels.list_cluster(&req, &f, &mut self.mail) {
                            return;
                        }
                        Vec::new()
                    }
                    ScatterOp::List(f) => self.channels.list(&to, req.from, &f),
                    ScatterOp::Who { mask } => at_client::who_mask(&self.home, &req, &mask),
                };
                self.mail.answer(&req, lines, None);
            }
            Msg::Shutdown => {
                self.stopping = true;
                self.home.shutdown(&mut self.mail);
            }
        }
    }

    fn on_home(&mut self, msg: HomeMsg) {
        let mail = &mut self.mail;
        match msg {
            HomeMsg::Deliver(d) => self.home.on_deliver(mail, d),
            HomeMsg::NickLost { id, nick } => self.become_guest(id, nick),
            HomeMsg::Afar {
                id,
                line,
                meta,
                tags_only,
            } => self.direct_from_afar(id, line, meta, tags_only),
            HomeMsg::Monitor { id, nick, online } => self.home.on_monitor(mail, id, nick, online),
            HomeMsg::AtClient {
                id,
                target,
                req,
                op,
            } => at_client::at_client(&mut self.home, mail, id, &target, req, op),
            HomeMsg::Reply {
                id,
                lines,
                frag,
                done,
            } => {
                if self.home.on_reply(mail, id, lines, frag, done) {
                    self.home.end_label(id);
                    self.pump(id);
                }
            }
            HomeMsg::NickResult { id, nick, ok } => {
                register::on_nick_result(&mut Session::new(&mut self.home, mail, id), nick, ok);
                if self
                    .home
                    .on_reply(&mut self.mail, id, Vec::new(), None, true)
                {
                    self.pump(id);
                }
            }
        }
    }
}
