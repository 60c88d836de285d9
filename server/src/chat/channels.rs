//! The channels a core owns (those `owner(name)` maps here). The owner is
//! the one place a channel's state changes, so the order it handles
//! operations in is the order every member sees. It runs each operation as
//! a `Channel` method and carries out the returned `Effects`: one message
//! per member core per line, then the answer to the requester.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;

use super::bridge::ClusterReq;
use super::casemap::folded;
use super::channel::{Channel, Effects};
use super::channels_cluster::ClusterView;
use super::clock::now_secs;
use super::counters::Counters;
use super::mail::Mail;
use super::msg::{ChanOp, ClientRef, Deliver, HomeMsg, ListFilter, Msg, NickMsg, NickOp, Req};
use super::numerics::To;
use super::tags::Meta;
use crate::cluster::Envelope;

pub struct Channels {
    /// Owned channels by folded name.
    pub(super) map: HashMap<String, Channel>,
    pub(super) counters: Arc<Counters>,
    /// Clustered: the channels whose Redis topic this core receives.
    pub(super) subscribed: HashSet<String>,
    /// Clustered: JOINs in flight and views waiting for their snapshot.
    pub(super) cluster: ClusterView,
}

impl Channels {
    pub fn new(counters: Arc<Counters>) -> Channels {
        Channels {
            map: HashMap::new(),
            counters,
            subscribed: HashSet::new(),
            cluster: ClusterView::default(),
        }
    }

    pub fn handle(&mut self, chan: String, req: Req, op: ChanOp, mail: &mut Mail, server: &str) {
        let folded_chan = folded(&chan);
        let key: &str = &folded_chan;
        let join = matches!(op, ChanOp::Join { .. });
        if join && mail.is_clustered() && !self.subscribed.contains(key) {
            // Receive the channel's topic before the joiner is in it.
            let key = key.to_string();
            let then = Some(Msg::Chan { chan, req, op });
            mail.send_cluster(ClusterReq::Subscribe { chan: key, then });
            return;
        }
        let (req, op) = match mail.is_clustered() {
            true => match self.route_cluster(&chan, key, req, op, mail, server) {
                Some(back) => back,
                None => return,
            },
            false => (req, op),
        };
        let is_msg = matches!(op, ChanOp::Privmsg { .. });
        if join && !self.map.contains_key(key) {
            let ch = Channel::new(chan.clone(), mail.cores(), now_secs());
            self.map.insert(key.to_string(), ch);
            Counters::add(&self.counters.channels, 1);
            crate::metrics::count(|m| m.set_channels(self.map.len()));
        }
        let to = To {
            server,
            nick: &req.nick,
        };
        let ack = !matches!(op, ChanOp::Privmsg { ack: false, .. });
        let mut fx = match self.map.get_mut(key) {
            Some(ch) => run(ch, &to, &req, op),
            None => missing(&to, &chan, op),
        };
        if mail.is_clustered() {
            super::cluster_lines::publish(key, &req, &mut fx, is_msg, ack, mail);
        }
        let name = self.map.get(key).map_or(chan.as_str(), |c| c.name());
        self.carry_out(key, name, &req, fx, ack, mail);
        self.drop_unused(key, mail);
    }

    pub(super) fn carry_out(
        &self,
        key: &str,
        name: &str,
        req: &Req,
        fx: Effects,
        ack: bool,
        mail: &mut Mail,
    ) {
        let mut fx = fx;
        deliver(key, &mut fx, mail);
        if fx.unanswered {
            return;
        }
        if let Some((target, line, chan)) = fx.forward {
            let core = mail.nick_owner(&target);
            let op = NickOp::Invite { line, chan };
            let req = req.clone();
            mail.post(core, Msg::Nick(NickMsg::Route { target, req, op }));
        } else if let Some(first) = fx.absent.first() {
            let first = first.clone();
            let msg = NickMsg::Check {
                req: req.clone(),
                lines: fx.replies,
                chan: name.to_string(),
                targets: fx.absent,
            };
            mail.send_registry(&first, msg);
        } else if ack {
            mail.answer(req, fx.replies, None);
        } else if !fx.replies.is_empty() {
            // An unacknowledged request gets only its errors.
            mail.reply(req, fx.replies, None, false);
        }
    }

    /// Clustered: this core now receives `chan`'s topic.
    pub fn subscribed(&mut self, chan: String) {
        self.subscribed.insert(chan);
    }

    /// Clustered: a line from `chan`'s topic for the members here (`own`:
    /// published by this node; see `cluster_lines`).
    pub fn relay(&self, env: &Envelope, own: bool, dedup: Option<u64>, mail: &mut Mail) {
        let Some(chan) = env.chans.first() else {
            return;
        };
        let key = String::from_utf8_lossy(chan).into_owned();
        let Some(ch) = self.map.get(&key) else {
            return;
        };
        let dedup = dedup.filter(|_| is_command(&env.line, &[b"QUIT", b"NICK"]));
        let mut fx = super::cluster_lines::relay(ch, env, own, dedup);
        deliver(&key, &mut fx, mail);
    }

    /// LIST entries of the owned channels `who` may see and `filter`
    /// admits, by name.
    pub fn list(&self, to: &To, who: ClientRef, filter: &ListFilter) -> Vec<Bytes> {
        let mut v: Vec<&Channel> = self
            .map
            .values()
            .filter(|ch| filter.admits(ch.name(), ch.len()))
            .collect();
        v.sort_by(|a, b| a.name().cmp(b.name()));
        v.iter().filter_map(|ch| ch.list_entry(to, who)).collect()
    }
}

/// Sends `fx`'s lines to the member cores.
pub(super) fn deliver(key: &str, fx: &mut Effects, mail: &mut Mail) {
    let mut now: Option<Meta> = None;
    for d in fx.deliveries.drain(..) {
        let mut event = d.event;
        if event.meta.time.is_empty() && !event.line.is_empty() || event.alt.is_some() {
            let now = now.get_or_insert_with(|| Meta::now(Bytes::new()));
            event.meta.time = now.time.clone();
        }
        // The last core gets the event itself, the others copies.
        let Some((&last, others)) = d.cores.split_last() else {
            continue;
        };
        for &core in others {
            let (chan, event) = (key.to_string(), event.clone());
            mail.post(core, Msg::Home(HomeMsg::Deliver(Deliver { chan, event })));
        }
        let chan = key.to_string();
        mail.post(last, Msg::Home(HomeMsg::Deliver(Deliver { chan, event })));
    }
}

/// Whether `line` (`[@tags] [:prefix] COMMAND ...`) is one of `commands`.
fn is_command(line: &[u8], commands: &[&[u8]]) -> bool {
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let command = words.find(|w| !w.starts_with(b"@") && !w.starts_with(b":"));
    command.is_some_and(|c| commands.contains(&c))
}

pub(super) fn run(ch: &mut Channel, to: &To, req: &Req, op: ChanOp) -> Effects {
    let me = req.from;
    match op {
        ChanOp::Join { info, key } => ch.join(to, req, info, key),
        ChanOp::Privmsg {
            line,
            notice,
            meta,
            tags_only,
            ..
        } => ch.privmsg(to, req, line, notice, meta, tags_only),
        ChanOp::Part { reason } => ch.part(to, req, reason),
        ChanOp::Topic { set, now } => ch.topic(to, req, set, now),
        ChanOp::Names => ch.names(to, req),
        ChanOp::Who => ch.who(to, req),
        ChanOp::List => Effects::replies(ch.list_entry(to, me).into_iter().collect()),
        ChanOp::Kick { target, reason } => ch.kick(to, req, &target, reason),
        ChanOp::Mode { args, now } => ch.mode(to, req, &args, now),
        ChanOp::Leave { line, dedup } => ch.leave(me, line, dedup),
        ChanOp::NickChange {
            new_nick,
            line,
            dedup,
        } => ch.nick_change(me, &new_nick, line, dedup),
        ChanOp::Update { info, notify } => ch.update(me, &info, notify),
        ChanOp::Invite { target } => ch.invite(to, req, &target),
    }
}

/// The answer for a channel that does not exist.
pub(super) fn missing(to: &To, chan: &str, op: ChanOp) -> Effects {
    match op {
        ChanOp::Names => Effects::reply(to.end_of_names(chan)),
        ChanOp::Who => Effects::reply(to.end_of_who(chan)),
        ChanOp::List | ChanOp::Privmsg { notice: true, .. } => Effects::default(),
        ChanOp::Leave { .. } | ChanOp::NickChange { .. } | ChanOp::Update { .. } => {
            Effects::unanswered()
        }
        _ => Effects::reply(to.no_such_channel(chan.as_bytes())),
    }
}
