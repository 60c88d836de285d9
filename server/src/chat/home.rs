//! The home of a core's clients: their state, their input and output
//! queues, and the mirror of which local clients sit in which channel.
//! A client's lines run here (see `session` and the command modules);
//! what they need from other cores leaves through `Mail`, and answers come
//! back as `HomeMsg`s.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustc_hash::FxHashMap;

use super::client::{ChanView, Client, Finish};
use super::clock::now_secs;
use super::config::Config;
use super::counters::Counters;
use super::due::DueWriters;
use super::framing::Frame;
use super::mail::Mail;
use super::mirror::Mirror;
use super::msg::{
    ChanOp, Change, ClientId, ClientRef, Deliver, Event, MemberInfo, NickMsg, Req, Was,
};
use super::numerics::{To, RPL_MONOFFLINE, RPL_MONONLINE};
use super::outbuf::OutBufs;
use super::parse::LineBuilder;
use crate::metrics::{count, counting, ChatCore};

/// Inbound bytes a client may have waiting before its reader stops reading.
pub const INQ_LIMIT: u32 = 8 * 1024;

pub struct Home {
    core: usize,
    cfg: Arc<Config>,
    counters: Arc<Counters>,
    /// Boxed: the table keeps slack slots (up to half of them empty after
    /// it grows), and an empty slot then costs a pointer, not a client.
    /// Hashed with Fx, not SipHash: it is looked up once per delivery, and
    /// the ids are this core's own sequence numbers, which no client picks.
    clients: FxHashMap<ClientId, Box<Client>>,
    next_id: ClientId,
    mirror: Mirror,
    next_event: u64,
    /// Clients this core has started dropping (changes mean "someone quit").
    quits: u64,
    /// The clients' output buffers between sends.
    out_bufs: OutBufs,
    /// Writers to wake once this turn's ready tasks have run.
    due: DueWriters,
}

/// What a queued input line counts against INQ_LIMIT; the 417 marker
/// stands for the oversized line it replaced.
fn inq_cost(line: &[u8]) -> u32 {
    if line.is_empty() {
        len32(super::parse::MAX_LINE)
    } else {
        len32(line.len())
    }
}

/// A byte count as the client record keeps it (saturating).
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Home {
    pub fn new(core: usize, cfg: Arc<Config>, counters: Arc<Counters>) -> Home {
        Home {
            core,
            cfg,
            counters,
            clients: FxHashMap::default(),
            next_id: 1,
            mirror: Mirror::default(),
            next_event: 0,
            quits: 0,
            out_bufs: OutBufs::default(),
            due: DueWriters::default(),
        }
    }

    pub fn cfg(&self) -> &Arc<Config> {
        &self.cfg
    }

    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    pub fn me(&self, id: ClientId) -> ClientRef {
        ClientRef {
            core: self.core,
            id,
        }
    }

    pub fn connect(&mut self, host: String) -> ClientId {
        let id = self.next_id;
        self.next_id += 1;
        self.clients
            .insert(id, Box::new(Client::new(host, now_secs())));
        Counters::add(&self.counters.unknown, 1);
        id
    }

    pub fn client(&self, id: ClientId) -> Option<&Client> {
        self.clients.get(&id).map(|c| &**c)
    }

    pub fn client_mut(&mut self, id: ClientId) -> Option<&mut Client> {
        self.clients.get_mut(&id).map(|c| &mut **c)
    }

    /// Local client ids in a stable order.
    pub fn ids(&self) -> Vec<ClientId> {
        let mut v: Vec<ClientId> = self.clients.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Queues a frame from the client's socket; true when it may run now.
    pub fn input(&mut self, id: ClientId, frame: Frame) -> bool {
        let Some(c) = self.clients.get_mut(&id).filter(|c| !c.closing) else {
            return false;
        };
        c.ping_outstanding = false;
        c.last_input = Instant::now();
        // A 417 is queued like a line (as the one empty line the framer
        // never makes), so it comes in order after earlier replies.
        let line = match frame {
            Frame::TooLong => Bytes::new(),
            Frame::Line(l) => l,
        };
        c.inq_bytes = c.inq_bytes.saturating_add(inq_cost(&line));
        c.inq.push_back(line);
        true
    }

    /// The client's next line to run, unless it waits for another core.
    pub fn next_line(&mut self, id: ClientId) -> Option<Bytes> {
        let c = self.clients.get_mut(&id)?;
        if c.closing || c.pending > 0 {
            return None;
        }
        let Some(line) = c.inq.pop_front() else {
            // Drained: an idle client keeps no queue capacity.
            c.inq = VecDeque::new();
            c.wake_reader();
            return None;
        };
        c.inq_bytes = c.inq_bytes.saturating_sub(inq_cost(&line));
        if c.inq_bytes < INQ_LIMIT {
            c.wake_reader();
        }
        Some(line)
    }

    /// Queues `lines` to run next, before anything the client sent later.
    pub fn run_next(&mut self, id: ClientId, lines: Vec<Vec<u8>>) {
        if let Some(c) = self.clients.get_mut(&id) {
            for l in lines.into_iter().rev() {
                c.inq_bytes = c.inq_bytes.saturating_add(inq_cost(&l));
                c.inq.push_front(Bytes::from(l));
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

    /// Queues a line for a local client; past the sendq limit the client is
    /// dropped instead of growing the queue.
    pub fn send(&mut self, mail: &mut Mail, id: ClientId, line: Bytes) {
        let limit = self.cfg.sendq;
        let Some(c) = self.clients.get_mut(&id).filter(|c| !c.closing) else {
            return;
        };
        if !queue(c, &mut self.out_bufs, &line, limit) {
            self.drop_slow(mail, id);
        } else {
            self.due.output_for(id, c);
        }
    }

    /// Drops a client whose queue would pass sendq (see `queue`).
    fn drop_slow(&mut self, mail: &mut Mail, id: ClientId) {
        count(ChatCore::sendq_disconnect);
        self.quit(mail, id, "Max SendQ exceeded", "Max SendQ exceeded");
    }

    /// Starts collecting the client's output under `label` (labeled-response).
    /// Whatever else reaches the client meanwhile (a channel message) goes
    /// into the same response; the window is one round trip between cores.
    pub fn begin_label(&mut self, id: ClientId, label: Bytes) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.collected().label = Some(label);
        }
    }

    /// Ends the labeled command once nothing of it is pending: its output
    /// goes out tagged with the label, as one line, a `labeled-response`
    /// batch, or a bare ACK when it produced nothing.
    pub fn end_label(&mut self, id: ClientId) {
        let server = &self.cfg.name;
        let Some(c) = self.clients.get_mut(&id).filter(|c| c.pending == 0) else {
            return;
        };
        let Some(label) = c.collected.as_mut().and_then(|x| x.label.take()) else {
            return;
        };
        let lines =
            (c.collected.as_mut()).map_or_else(Vec::new, |x| std::mem::take(&mut x.labeled));
        c.tidy_collected();
        for l in super::tags::labeled(server, &label, lines, self.next_event) {
            self.out_bufs.append(&mut c.out, &l);
        }
        self.next_event += 1;
        c.wake_writer();
    }

    /// Builds a reply addressed to the client (`:<server> NNN <nick> ...`).
    pub fn reply(&mut self, mail: &mut Mail, id: ClientId, f: impl FnOnce(To) -> Bytes) {
        let Some(line) = self.reply_line(id, f) else {
            return;
        };
        self.send(mail, id, line);
    }

    /// A reply line addressed to the client, without sending it.
    pub fn reply_line(&self, id: ClientId, f: impl FnOnce(To) -> Bytes) -> Option<Bytes> {
        let c = self.clients.get(&id)?;
        Some(f(To::new(&self.cfg.name, c.nick())))
    }

    /// For the writer: everything queued, and whether to close afterwards.
    pub fn take_output(&mut self, id: ClientId) -> (Vec<u8>, bool) {
        match self.clients.get_mut(&id) {
            Some(c) => {
                c.out_bytes = 0;
                // Taken whole (no copy) so an idle client keeps no capacity.
                (std::mem::take(&mut c.out), c.closing)
            }
            None => (Vec::new(), true),
        }
    }

    /// Takes back a buffer from `take_output` once it has been sent.
    pub fn give_back(&mut self, buf: Vec<u8>) {
        self.out_bufs.give_back(buf);
    }

    /// For the writer: what `take_output` gives once there is output (or
    /// the client is closing); until then `None`, with `waker` woken when
    /// output comes.
    pub fn next_output(&mut self, id: ClientId, waker: &Waker) -> Option<(Vec<u8>, bool)> {
        if self.has_output(id) {
            return Some(self.take_output(id));
        }
        self.clients.get_mut(&id)?.writer_wait(waker);
        None
    }

    /// For the waker task (`due`): wakes the writers that got output.
    pub fn wake_due_writers(&mut self, waker: &Waker) {
        let mut ids = self.due.take(waker);
        for id in ids.drain(..) {
            if let Some(c) = self.clients.get_mut(&id) {
                c.wake();
            }
        }
        self.due.give_back(ids);
    }

    pub fn has_output(&self, id: ClientId) -> bool {
        self.clients
            .get(&id)
            .is_none_or(|c| !c.out.is_empty() || c.closing)
    }

    /// A request context for remote cores (works for closing clients too).
    pub fn req(&self, id: ClientId) -> Req {
        let c = self.clients.get(&id);
        Req {
            from: self.me(id),
            nick: c.map(|c| c.nick_or_star().to_string()).unwrap_or_default(),
            prefix: c.map(|c| c.prefix().to_string()).unwrap_or_default(),
            caps: c.map(|c| c.caps).unwrap_or_default(),
        }
    }

    /// Sends a request whose answer the client waits for.
    pub fn request(&mut self, mail: &mut Mail, id: ClientId, core: usize, msg: super::msg::Msg) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.pending += 1;
        }
        mail.post(core, msg);
    }

    /// Sends channel operation `op` to the channel's owner as a request
    /// the client waits for.
    pub fn request_chan(&mut self, mail: &mut Mail, id: ClientId, chan: String, op: ChanOp) {
        let req = self.req(id);
        let core = mail.chan_owner(&chan);
        let msg = super::msg::Msg::Chan { chan, req, op };
        self.request(mail, id, core, msg);
    }

    /// A fresh id for a line that may reach a client through several channels.
    pub fn new_event(&mut self) -> u64 {
        self.next_event += 1;
        ((self.core as u64) << 48) | self.next_event
    }

    /// An answer from another core. True when the client may run its
    /// next line (its last pending request ended).
    pub fn on_reply(
        &mut self,
        mail: &mut Mail,
        id: ClientId,
        lines: Vec<Bytes>,
        frag: Option<(u8, String)>,
        done: bool,
    ) -> bool {
        for l in lines {
            self.send(mail, id, l);
        }
        let Some(c) = self.clients.get_mut(&id) else {
            return false;
        };
        if let Some(f) = frag {
            c.collected().frags.push(f);
        }
        if !done {
            return false;
        }
        c.pending = c.pending.saturating_sub(1);
        if c.pending > 0 {
            return false;
        }
        // The command is done: what it collected goes with it.
        let (finish, mut frags) = match c.collected.as_mut() {
            Some(x) => (x.finish.take(), std::mem::take(&mut x.frags)),
            None => (None, Vec::new()),
        };
        c.tidy_collected();
        match finish {
            Some(Finish::Lines(lines)) => {
                for l in lines {
                    self.send(mail, id, l);
                }
            }
            Some(Finish::Joined(code)) => {
                frags.sort_unstable();
                let frags: Vec<String> = frags.into_iter().map(|(_, f)| f).collect();
                let frags = frags.join(" ");
                self.reply(mail, id, |to| to.text(code, frags));
            }
            None => {}
        }
        true
    }

    /// The idle sweep, run every few seconds: a client silent for
    /// `interval` is pinged; silent for another `interval` it is dropped.
    /// Returns clients that have been closing for longer than `grace`
    /// (their writer is stuck on a peer that does not read): the caller
    /// shuts their sockets down.
    pub fn sweep(
        &mut self,
        mail: &mut Mail,
        now: Instant,
        interval: Duration,
        grace: Duration,
    ) -> Vec<ClientId> {
        self.out_bufs.trim();
        let mut stuck = Vec::new();
        let mut idle = Vec::new();
        for (&id, c) in &mut self.clients {
            if let Some(since) = c.closing_since() {
                if now.saturating_duration_since(since) >= grace {
                    stuck.push(id);
                }
            } else if now.saturating_duration_since(c.last_input) >= interval {
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
                self.quit(mail, id, &reason, &reason);
            } else {
                c.ping_outstanding = true;
                let l = LineBuilder::new(None, "PING").trailing(&self.cfg.name);
                self.send(mail, id, l);
            }
        }
        stuck
    }

    /// Says goodbye to every local client.
    pub fn shutdown(&mut self, mail: &mut Mail) {
        for id in self.ids() {
            self.quit(mail, id, "Server shutting down", "Server shutting down");
        }
    }

    /// Wakes the connection tasks of `ids` (or of every client), whatever
    /// they wait for.
    pub fn wake_tasks(&mut self, ids: Option<&[ClientId]>) {
        match ids {
            Some(ids) => {
                for id in ids {
                    if let Some(c) = self.clients.get_mut(id) {
                        c.wake_task();
                    }
                }
            }
            None => self.clients.values_mut().for_each(|c| c.wake_task()),
        }
    }

    /// Forgets a client whose connection task has ended.
    pub fn remove(&mut self, mail: &mut Mail, id: ClientId) {
        if self.clients.get(&id).is_some_and(|c| !c.closing) {
            self.quit(mail, id, "Connection closed", "Connection closed");
        }
        self.clients.remove(&id);
    }

    /// Starts the client's exit: ERROR to it, QUIT to its channels, nick
    /// released. The writer flushes and then closes the socket.
    pub fn quit(&mut self, mail: &mut Mail, id: ClientId, quit_msg: &str, error: &str) {
        let Some(c) = self.clients.get_mut(&id).filter(|c| !c.closing) else {
            return;
        };
        self.quits += 1;
        let error = format!("Closing Link: {} ({})", c.host(), error);
        c.out_bytes = c.out_bytes.saturating_add(len32(error.len()));
        let line = LineBuilder::new(None, "ERROR").trailing(error);
        self.out_bufs.append(&mut c.out, &line);
        c.mark_closing(Instant::now());
        c.inq.clear();
        c.inq_bytes = 0;
        c.wake_writer();
        c.wake_reader();
        let chans: Vec<String> = c.channels.drain().map(|(k, _)| k).collect();
        let quit_line = LineBuilder::new(Some(c.prefix().as_bytes()), "QUIT").trailing(quit_msg);
        let nick = c.take_nick();
        let was = nick.as_ref().map(|n| was(c, n));
        let watched = c.take_monitor();
        self.count_exit(id);
        let from = self.me(id);
        if let Some(n) = nick {
            let folded = super::casemap::fold(&n);
            mail.send_registry(&n, NickMsg::Release { folded, from, was });
        }
        for nick in watched {
            let (on, answer) = (false, None);
            let msg = NickMsg::Watch {
                nick: nick.clone(),
                from,
                on,
                answer,
            };
            mail.send_registry(&nick, msg);
        }
        let dedup = (chans.len() > 1).then(|| self.new_event());
        for chan in chans {
            self.mirror.remove(&chan, id);
            let req = self.req(id);
            let line = Some(quit_line.clone());
            mail.send_chan(chan, req, ChanOp::Leave { line, dedup });
        }
    }

    fn count_exit(&self, id: ClientId) {
        let Some(c) = self.clients.get(&id) else {
            return;
        };
        if c.registered {
            Counters::add(&self.counters.users, -1);
            if c.invisible {
                Counters::add(&self.counters.invisible, -1);
            }
            if c.oper {
                Counters::add(&self.counters.opers, -1);
            }
        } else {
            Counters::add(&self.counters.unknown, -1);
        }
    }

    /// A channel event for this core's members of the channel.
    pub fn on_deliver(&mut self, mail: &mut Mail, deliver: Deliver) {
        let Deliver { chan, event: d } = deliver;
        match &d.change {
            Change::Join { who, name, op }
                if who.core == self.core && !self.mirror_join(who.id, &chan, name, *op) =>
            {
                // Joined while disconnecting: take the ghost back out.
                let req = self.req(who.id);
                let (line, dedup) = (None, None);
                mail.send_chan(chan.clone(), req, ChanOp::Leave { line, dedup });
            }
            Change::Status { who, op, voice } if who.core == self.core => {
                let view = self.clients.get_mut(&who.id);
                if let Some(v) = view.and_then(|c| c.channels.get_mut(&chan)) {
                    v.op = *op;
                    v.voice = *voice;
                }
            }
            _ => {}
        }
        if !d.line.is_empty() || d.alt.is_some() {
            let start = counting().then(Instant::now);
            let delivered = self.write_to_members(mail, &chan, &d);
            if let Some(start) = start {
                count(|m| {
                    m.delivered(delivered);
                    m.fanout(start.elapsed());
                });
            }
        }
        if let Change::Leave { who } = &d.change {
            if who.core == self.core {
                self.mirror.remove(&chan, who.id);
                if let Some(c) = self.clients.get_mut(&who.id) {
                    c.channels.remove(&chan);
                }
            }
        }
    }

    /// Records a local client's JOIN; false if it is already leaving.
    fn mirror_join(&mut self, id: ClientId, chan: &str, name: &str, op: bool) -> bool {
        let Some(c) = self.clients.get_mut(&id).filter(|c| !c.closing) else {
            return false;
        };
        let view = ChanView {
            name: name.to_string(),
            op,
            voice: false,
        };
        c.channels.insert(chan.to_string(), view);
        self.mirror.add(chan, id);
        true
    }

    /// Writes a channel event to this core's members of the channel. Each
    /// combination of caps gets its bytes built once, and every member with
    /// that combination the same `Bytes`.
    /// Writes `d` to the local members of `chan`; returns to how many.
    fn write_to_members(&mut self, mail: &mut Mail, chan: &str, d: &Event) -> usize {
        // The list is taken out while dropping a slow member needs `&mut
        // self`; the entry stays in the map, so putting it back allocates
        // nothing.
        let Some(mut members) = self.mirror.take(chan) else {
            return 0;
        };
        let mut written = 0;
        let quits = self.quits;
        let limit = self.cfg.sendq;
        let mut built: [Option<Bytes>; 8] = Default::default();
        let mut slow = Vec::new();
        for &m in &members {
            let me = self.me(m);
            if d.except == Some(me) || !(d.only.is_empty() || d.only.contains(&me)) {
                continue;
            }
            let Some(c) = self.clients.get_mut(&m).filter(|c| !c.closing) else {
                continue;
            };
            let alt = d.alt.as_ref().filter(|(cap, _)| c.caps.has(*cap));
            let base = alt.map_or(&d.line, |(_, l)| l);
            let is_op = || c.channels.get(chan).is_some_and(|v| v.op);
            if base.is_empty() || (d.ops_only && !is_op()) {
                continue;
            }
            if d.dedup.is_some_and(|ev| !self.mirror.first_sight(ev, m)) {
                continue;
            }
            let slot = usize::from(alt.is_some()) << 2 | d.meta.variant(c.caps);
            let line = built[slot].get_or_insert_with(|| d.meta.render(base, c.caps));
            if queue(c, &mut self.out_bufs, line, limit) {
                self.due.output_for(m, c);
            } else {
                slow.push(m);
            }
            written += 1;
        }
        for m in slow {
            self.drop_slow(mail, m);
        }
        if self.quits != quits {
            // Someone was dropped (sendq) while the list was out.
            members.retain(|id| self.clients.get(id).is_some_and(|c| !c.closing));
        }
        self.mirror.put_back(chan, members);
        written
    }

    /// MONITOR: a watched nick came online or went offline.
    pub fn on_monitor(&mut self, mail: &mut Mail, id: ClientId, nick: String, online: bool) {
        let code = if online {
            RPL_MONONLINE
        } else {
            RPL_MONOFFLINE
        };
        self.reply(mail, id, |to| to.text(code, nick));
    }

    /// What a channel owner keeps about this client as a member.
    pub fn member_info(&self, id: ClientId) -> Option<MemberInfo> {
        let c = self.clients.get(&id)?;
        let (user, realname) = c.user_real();
        Some(MemberInfo {
            nick: c.nick_or_star().to_string(),
            user: user.to_string(),
            host: c.host().to_string(),
            realname: realname.to_string(),
            away: c.away().is_some(),
            invisible: c.invisible,
        })
    }
}

/// Queues `line` for `c` (held back while a labeled command runs); false,
/// with the client's queue emptied, when it would pass `sendq`: the caller
/// drops the client.
fn queue(c: &mut Client, bufs: &mut OutBufs, line: &Bytes, sendq: usize) -> bool {
    if c.out_bytes as usize + line.len() > sendq {
        c.out.clear();
        c.out_bytes = 0;
        if let Some(x) = &mut c.collected {
            x.labeled.clear();
        }
        return false;
    }
    c.out_bytes = c.out_bytes.saturating_add(len32(line.len()));
    if c.label().is_some() {
        c.collected().labeled.push(line.clone());
        return true;
    }
    bufs.append(&mut c.out, line);
    true
}

/// The WHOWAS entry a client leaves behind for `nick`.
pub fn was(c: &Client, nick: &str) -> Was {
    let (user, realname) = c.user_real();
    Was {
        nick: nick.to_string(),
        user: user.to_string(),
        host: c.host().to_string(),
        realname: realname.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After a burst both ways (registration, say), an idle client keeps no
    /// queue capacity: its queues cost nothing until the next line.
    #[test]
    fn drained_queues_keep_no_capacity() {
        let cfg = Arc::new(Config::new("irc.test", 1));
        let mut home = Home::new(0, cfg, Arc::default());
        let mut mail = Mail::new(0, 1);
        let id = home.connect("127.0.0.1".into());
        for i in 0..20 {
            home.input(id, Frame::Line(Bytes::from(format!("PING {i}"))));
            home.send(&mut mail, id, Bytes::from(format!("PONG {i}\r\n")));
        }
        while home.next_line(id).is_some() {}
        let (out, closing) = home.take_output(id);
        assert_eq!(
            (super::super::outbuf::lines(&out).len(), closing),
            (20, false)
        );
        let c = home.client(id).expect("client");
        assert_eq!((c.inq.capacity(), c.out.capacity()), (0, 0));
    }
}
