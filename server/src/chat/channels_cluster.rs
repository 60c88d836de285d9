//! The channels a core owns, clustered (`--cluster`). Redis holds the
//! state and decides every change (`bridge_chan`); each node keeps a view
//! of each channel with local members (its `Channel`, remote members
//! included) that follows the channel's topic, so NAMES, WHO, TOPIC and
//! MODE queries are answered here without a round trip and agree on every
//! node once the topic's events have arrived. Channels without local
//! members are asked of Redis per query (and LIST always is).
//!
//! A node's view starts from the snapshot its first local JOIN's script
//! returns; events that came off the topic before that JOIN are in the
//! snapshot and skipped (`Channel::marker`), later ones are applied. A
//! member's JOIN is answered (topic, names) when its JOIN comes back on
//! the topic, so it sees its JOIN line before the names, as on one server.
//! While Redis is unreachable PART, QUIT and NICK are applied to the view
//! alone and the other changes are refused with 437; the views are
//! re-read from Redis when the link is back.

use std::collections::HashMap;

use bytes::Bytes;

use super::bridge::{with_crlf, ClusterReq};
use super::bridge_chan::{ChanAnswer, ChanCall, ChanWhat, ListCall};
use super::casemap::fold;
use super::channel::{Channel, Effects};
use super::channels::{deliver, missing, run, Channels};
use super::cluster_pending::{Ahead, InFlight};
use super::counters::Counters;
use super::mail::Mail;
use super::msg::{ChanOp, ClientRef, MemberInfo, Msg, Req};
use super::numerics::*;
use super::parse::LineBuilder;
use crate::cluster::{ChannelState, Envelope, Kind, ListEntry};

/// Topic events held per channel while its snapshot is on its way.
const SYNC_BUFFER: usize = 4096;

/// Where a channel operation is decided.
enum Routed {
    Redis(ChanWhat),
    /// On the view here (a query, or a member that is not one).
    Here(ChanOp),
    /// A PART, QUIT or NICK of a member whose leaving is on its way.
    Left(ChanOp),
}

/// What a clustered core tracks beside its views.
#[derive(Default)]
pub struct ClusterView {
    /// Local JOINs Redis has not yet published back: (channel, folded nick).
    joining: HashMap<(String, String), (Req, MemberInfo)>,
    /// Channels whose first local JOIN is in flight: their topic's events
    /// until the snapshot comes (with `own` and the dedup id).
    syncing: HashMap<String, Vec<(Envelope, bool, Option<u64>)>>,
    /// Local members' PART, QUIT and NICK not yet in the view.
    in_flight: InFlight,
}

impl Channels {
    /// Clustered: sends `op` to Redis if it changes the channel or needs
    /// the network's state; gives it back when the view here answers it.
    pub(super) fn route_cluster(
        &mut self,
        chan: &str,
        key: &str,
        req: Req,
        op: ChanOp,
        mail: &mut Mail,
        server: &str,
    ) -> Option<(Req, ChanOp)> {
        let viewed = self.map.contains_key(key);
        if viewed && matches!(op, ChanOp::Privmsg { .. } | ChanOp::Update { .. }) {
            return Some((req, op)); // the hot path: decided on the view
        }
        let name = self
            .map
            .get(key)
            .map_or_else(|| chan.to_string(), |c| c.name().to_string());
        let what = match op {
            ChanOp::Join { info, key: pass } => {
                self.join_call(key, name, &req, info, pass, mail)?
            }
            ChanOp::Mode { args, now } => {
                let to = To {
                    server,
                    nick: &req.nick,
                };
                let blank = Channel::new(name.clone(), 1, 0);
                let ch = self.map.get(key);
                match ch.unwrap_or(&blank).mode_request(&to, &req, &args) {
                    Ok((changes, replies)) if !changes.is_empty() => {
                        ChanWhat::Mode { changes, replies }
                    }
                    Ok((_, lines)) => return answered(mail, &req, lines),
                    Err(lines) if ch.is_some() => return answered(mail, &req, lines),
                    Err(_) => ChanWhat::View {
                        op: ChanOp::Mode { args, now },
                    },
                }
            }
            op => match self.change_call(key, &name, &req, op) {
                Routed::Redis(what) => what,
                Routed::Here(op) => return Some((req, op)),
                Routed::Left(ChanOp::Part { .. }) => {
                    let to = To {
                        server,
                        nick: &req.nick,
                    };
                    return answered(mail, &req, vec![to.not_on_channel(&name)]);
                }
                Routed::Left(_) => return None,
            },
        };
        self.track(key, req.from, &what);
        let chan = key.to_string();
        mail.send_cluster(ClusterReq::Chan(ChanCall { chan, req, what }));
        None
    }

    /// A local JOIN for Redis to decide (`None`: already a member, answered).
    fn join_call(
        &mut self,
        key: &str,
        name: String,
        req: &Req,
        info: MemberInfo,
        pass: Option<String>,
        mail: &mut Mail,
    ) -> Option<ChanWhat> {
        let ch = self.map.get(key);
        let left = matches!(self.cluster.in_flight.ahead(key, req.from), Ahead::Gone);
        if left {
            self.cluster.in_flight.rejoin(key, req.from);
        } else if ch.is_some_and(|c| c.is_member(req.from)) {
            mail.answer(req, Vec::new(), None);
            return None;
        }
        let want_state = ch.is_none();
        if want_state {
            self.cluster.syncing.entry(key.to_string()).or_default();
        }
        let joiner = (key.to_string(), fold(&info.nick));
        self.cluster
            .joining
            .insert(joiner, (req.clone(), info.clone()));
        Some(ChanWhat::Join {
            name,
            info,
            key: pass,
            want_state,
        })
    }

    /// The Redis request for `op`, or `op` back to run on the view here.
    fn change_call(&self, key: &str, name: &str, req: &Req, op: ChanOp) -> Routed {
        let ch = self.map.get(key);
        let mut member = ch.and_then(|c| c.local_member(req.from)).cloned();
        match (self.cluster.in_flight.ahead(key, req.from), &mut member) {
            (Ahead::Gone, _)
                if matches!(
                    op,
                    ChanOp::Part { .. } | ChanOp::Leave { .. } | ChanOp::NickChange { .. }
                ) =>
            {
                return Routed::Left(op)
            }
            (Ahead::Named(nick), Some(m)) => m.nick = nick.to_string(),
            _ => {}
        }
        let by = |verb: &str| LineBuilder::new(Some(req.prefix.as_bytes()), verb).param(name);
        Routed::Redis(match (op, member) {
            (ChanOp::Part { reason }, Some(m)) => ChanWhat::Part {
                nick: fold(&m.nick),
                line: match reason {
                    Some(r) => by("PART").trailing(r),
                    None => by("PART").finish(),
                },
            },
            (ChanOp::Leave { line, .. }, Some(m)) => ChanWhat::Quit {
                nick: fold(&m.nick),
                line: line.unwrap_or_else(|| quit_line(&m)),
            },
            (ChanOp::NickChange { new_nick, line, .. }, Some(m)) => ChanWhat::Rename {
                old: fold(&m.nick),
                new_prefix: format!("{new_nick}!{}@{}", m.user, m.host),
                new_nick,
                line,
            },
            (ChanOp::Kick { target, reason }, _) => {
                let shown = ch.map_or_else(|| target.clone(), |c| c.spelled(&target));
                let line = by("KICK").param(shown).trailing(reason);
                ChanWhat::Kick { target, line }
            }
            (
                ChanOp::Topic {
                    set: Some(text), ..
                },
                _,
            ) => {
                let line = by("TOPIC").trailing(&text);
                ChanWhat::Topic { text, line }
            }
            (ChanOp::Invite { target }, _) => ChanWhat::Invite { target },
            (
                op @ (ChanOp::Names
                | ChanOp::Who
                | ChanOp::List
                | ChanOp::Topic { set: None, .. }
                | ChanOp::Privmsg { .. }),
                _,
            ) if ch.is_none() => ChanWhat::View { op },
            (op, _) => return Routed::Here(op),
        })
    }

    /// Redis's answer to a `route_cluster` request.
    pub fn on_chan_answer(
        &mut self,
        call: ChanCall,
        answer: ChanAnswer,
        mail: &mut Mail,
        server: &str,
    ) {
        let tracked = matches!(
            call.what,
            ChanWhat::Part { .. } | ChanWhat::Quit { .. } | ChanWhat::Rename { .. }
        );
        let (key, from) = (call.chan.clone(), call.req.from);
        if tracked {
            self.cluster.in_flight.answered(&key, from);
        }
        self.answer_chan(call, answer, mail, server);
        if tracked {
            self.settle(&key);
        }
    }

    fn answer_chan(&mut self, call: ChanCall, answer: ChanAnswer, mail: &mut Mail, server: &str) {
        let ChanCall {
            chan: key,
            req,
            what,
        } = call;
        let failed = !matches!(answer, ChanAnswer::Done);
        match (what, answer) {
            (ChanWhat::Join { name, info, .. }, answer) => {
                self.joined(&key, name, req, info, answer, mail, server)
            }
            // Redis could not take it: the view here follows anyway.
            (ChanWhat::Part { nick, line }, _) => {
                if failed {
                    self.apply_here(&key, Kind::Part, &nick, b"", line, mail, server);
                }
                mail.answer(&req, Vec::new(), None);
            }
            (ChanWhat::Quit { nick, line }, _) if failed => {
                self.apply_here(&key, Kind::Quit, &nick, b"", line, mail, server)
            }
            (
                ChanWhat::Rename {
                    old,
                    new_prefix,
                    line,
                    ..
                },
                _,
            ) if failed => {
                let extra = new_prefix.as_bytes();
                self.apply_here(&key, Kind::Nick, &old, extra, line, mail, server)
            }
            (ChanWhat::Quit { .. } | ChanWhat::Rename { .. }, _) => {}
            (ChanWhat::Resync, ChanAnswer::View { state, mine }) => {
                self.resynced(&key, state, mine, mail)
            }
            (ChanWhat::Resync, _) => tracing::warn!("cluster: could not read {key} from Redis"),
            (ChanWhat::Invite { target }, ChanAnswer::Done) => {
                let name = self.name_of(&key);
                self.invited(&key, name, &req, target, mail)
            }
            (ChanWhat::View { op }, ChanAnswer::View { state, .. }) => {
                self.viewed(&key, req, op, state, mail, server)
            }
            (what, answer) => {
                let to = To {
                    server,
                    nick: &req.nick,
                };
                let lines = answer_lines(&to, &self.name_of(&key), what, answer);
                if let Some(lines) = lines {
                    mail.answer(&req, lines, None);
                }
            }
        }
    }

    /// Notes what Redis will have for the member once `what` is applied.
    fn track(&mut self, key: &str, who: ClientRef, what: &ChanWhat) {
        let after = match what {
            ChanWhat::Part { .. } | ChanWhat::Quit { .. } => None,
            ChanWhat::Rename { new_nick, .. } => Some(new_nick.clone()),
            _ => return,
        };
        self.cluster.in_flight.sent(key, who, after);
    }

    /// Forgets the calls in flight on `key` the view has caught up with.
    fn settle(&mut self, key: &str) {
        let ch = self.map.get(key);
        let viewed = |who| {
            ch.and_then(|c| c.local_member(who))
                .map(|m| m.nick.as_str())
        };
        self.cluster.in_flight.settle(key, viewed);
    }

    fn name_of(&self, key: &str) -> String {
        self.map
            .get(key)
            .map_or_else(|| key.to_string(), |c| c.name().to_string())
    }

    /// A query on a channel without local members, on its Redis state.
    fn viewed(
        &self,
        key: &str,
        req: Req,
        op: ChanOp,
        state: Option<ChannelState>,
        mail: &mut Mail,
        server: &str,
    ) {
        let to = To {
            server,
            nick: &req.nick,
        };
        let ack = !matches!(op, ChanOp::Privmsg { ack: false, .. });
        let mut fx = match state {
            Some(st) => run(
                &mut Channel::from_state(key, &st, mail.cores()),
                &to,
                &req,
                op,
            ),
            None => missing(&to, key, op),
        };
        // A message from outside to a -n channel: to its members.
        for d in fx.deliveries.drain(..).filter(|d| !d.event.line.is_empty()) {
            let line = super::cluster_lines::to_wire(&d.event, None);
            let (chan, sender) = (key.to_string(), fold(&req.nick));
            mail.send_cluster(ClusterReq::Publish { chan, sender, line });
        }
        if ack {
            mail.answer(&req, fx.replies, None);
        } else if !fx.replies.is_empty() {
            mail.reply(&req, fx.replies, None, false);
        }
    }

    /// A JOIN's answer: refused, or the view made from the snapshot.
    #[allow(clippy::too_many_arguments)]
    fn joined(
        &mut self,
        key: &str,
        name: String,
        req: Req,
        info: MemberInfo,
        answer: ChanAnswer,
        mail: &mut Mail,
        server: &str,
    ) {
        let joiner = (key.to_string(), fold(&info.nick));
        let ChanAnswer::Joined { state, already } = answer else {
            // (Not there: `link_lost` answered it already.)
            if self.cluster.joining.remove(&joiner).is_some() {
                let to = To {
                    server,
                    nick: &req.nick,
                };
                let chan = self.map.get(key).map_or(name, |c| c.name().to_string());
                mail.answer(&req, vec![refused(&to, &chan, &answer)], None);
            }
            return self.drop_unused(key, mail);
        };
        if !self.map.contains_key(key) {
            let st = state.unwrap_or_else(|| ChannelState {
                name: Bytes::from(name.clone()),
                ..ChannelState::default()
            });
            let mut ch = Channel::from_state(key, &st, mail.cores());
            ch.marker = (!already).then(|| joiner.1.clone());
            self.map.insert(key.to_string(), ch);
            Counters::add(&self.counters.channels, 1);
            crate::metrics::count(|m| m.set_channels(self.map.len()));
            for (env, own, dedup) in self.cluster.syncing.remove(key).unwrap_or_default() {
                self.apply_event(key, &env, own, dedup, mail, server);
            }
        }
        if already {
            // Redis had it already (no JOIN comes back): in it is.
            if let Some((req, info)) = self.cluster.joining.remove(&joiner) {
                self.admit(key, req, info, false, mail, server);
            }
        }
    }

    fn admit(
        &mut self,
        key: &str,
        req: Req,
        info: MemberInfo,
        op: bool,
        mail: &mut Mail,
        server: &str,
    ) {
        let Some(ch) = self.map.get_mut(key) else {
            return;
        };
        let to = To {
            server,
            nick: &req.nick,
        };
        let fx = ch.admit(&to, &req, info, op);
        let name = ch.name().to_string();
        self.carry_out(key, name, &req, fx, true, mail);
    }

    /// INVITE accepted by Redis: the line goes to the target (anywhere on
    /// the network), and to the operators with invite-notify here.
    fn invited(&mut self, key: &str, name: String, req: &Req, target: String, mail: &mut Mail) {
        let line = LineBuilder::new(Some(req.prefix.as_bytes()), "INVITE")
            .param(&target)
            .trailing(&name);
        let mut fx = Effects::default();
        if let Some(ch) = self.map.get(key) {
            fx = ch.invite_notify(req.from, line.clone());
        }
        fx.forward = Some((target, line, name.clone()));
        self.carry_out(key, name, req, fx, true, mail);
    }

    /// An event as if it had come off the topic (Redis could not take it).
    #[allow(clippy::too_many_arguments)]
    fn apply_here(
        &mut self,
        key: &str,
        kind: Kind,
        subject: &str,
        extra: &[u8],
        line: Bytes,
        mail: &mut Mail,
        server: &str,
    ) {
        let env = Envelope {
            kind,
            origin: Bytes::new(),
            subject: Bytes::copy_from_slice(subject.as_bytes()),
            extra: Bytes::copy_from_slice(extra),
            chans: vec![Bytes::copy_from_slice(key.as_bytes())],
            line: Bytes::copy_from_slice(line.strip_suffix(b"\r\n").unwrap_or(&line)),
        };
        self.apply_event(key, &env, false, None, mail, server);
    }

    /// A channel change off a topic (or the network topic, for a node's
    /// users reaped after its lease ended): applied to each view it names.
    pub fn on_event(
        &mut self,
        env: &Envelope,
        own: bool,
        dedup: Option<u64>,
        mail: &mut Mail,
        server: &str,
    ) {
        for chan in &env.chans {
            let key = String::from_utf8_lossy(chan).into_owned();
            self.apply_event(&key, env, own, dedup, mail, server);
        }
    }

    fn apply_event(
        &mut self,
        key: &str,
        env: &Envelope,
        own: bool,
        dedup: Option<u64>,
        mail: &mut Mail,
        server: &str,
    ) {
        let Some(ch) = self.map.get_mut(key) else {
            if let Some(held) = self.cluster.syncing.get_mut(key) {
                if held.len() < SYNC_BUFFER {
                    held.push((env.clone(), own, dedup));
                }
            }
            return;
        };
        let own_join = env.kind == Kind::Join && own;
        if let Some(m) = &ch.marker {
            if !(own_join && env.subject == m.as_bytes()) {
                return; // in the snapshot already
            }
            ch.marker = None;
        }
        let subject = String::from_utf8_lossy(&env.subject).into_owned();
        let line = with_crlf(&env.line);
        let time = || {
            std::str::from_utf8(&env.extra)
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0)
        };
        let mut fx = match env.kind {
            Kind::Join if own => {
                let op = env.extra.contains(&b'@');
                match self
                    .cluster
                    .joining
                    .remove(&(key.to_string(), subject.clone()))
                {
                    Some((req, info)) => return self.admit(key, req, info, op, mail, server),
                    None if ch.has_nick(&subject) => return, // put back after a Redis restart
                    None => return self.ghost(key, &subject, &env.line, mail),
                }
            }
            Kind::Join => ch.remote_join(&subject, &env.extra, &env.line),
            Kind::Part | Kind::Kick => ch.remote_leave(&subject, line, false, None),
            Kind::Quit => ch.remote_leave(&subject, line, true, dedup),
            Kind::Nick => ch.remote_rename(&subject, &env.extra, line, dedup),
            Kind::Topic => ch.remote_topic(line, time()),
            Kind::Mode => ch.remote_mode(line, time()),
            Kind::Msg | Kind::Direct | Kind::Online | Kind::Offline => return,
        };
        deliver(key, &mut fx, mail);
        self.settle(key);
        self.drop_unused(key, mail);
    }

    /// A member Redis has for this node but no local client is behind (its
    /// JOIN's answer was lost): it leaves again.
    fn ghost(&mut self, key: &str, nick: &str, join_line: &[u8], mail: &mut Mail) {
        let prefix = join_line.split(|&b| b == b' ').next().unwrap_or_default();
        let prefix = prefix.strip_prefix(b":").unwrap_or(prefix);
        let line = LineBuilder::new(Some(prefix), "QUIT").trailing("Connection closed");
        let req = Req {
            from: ClientRef {
                core: mail.core(),
                id: u64::MAX,
            },
            nick: nick.to_string(),
            prefix: String::new(),
            caps: Default::default(),
        };
        let what = ChanWhat::Quit {
            nick: nick.to_string(),
            line,
        };
        let chan = key.to_string();
        mail.send_cluster(ClusterReq::Chan(ChanCall { chan, req, what }));
    }

    /// Forgets `key`'s view (and its topic) once no local member and no
    /// local JOIN in flight needs it.
    pub(super) fn drop_unused(&mut self, key: &str, mail: &mut Mail) {
        if self.cluster.joining.keys().any(|(c, _)| c == key) {
            return;
        }
        let had = match self.map.get(key) {
            Some(ch) if !ch.is_empty() => return,
            Some(_) => self.map.remove(key).is_some(),
            None => false,
        };
        self.cluster.syncing.remove(key);
        self.cluster.in_flight.forget(key);
        if had {
            Counters::add(&self.counters.channels, -1);
            crate::metrics::count(|m| m.set_channels(self.map.len()));
        }
        if self.subscribed.remove(key) {
            let chan = key.to_string();
            mail.send_cluster(ClusterReq::Unsubscribe { chan });
        }
    }

    /// A JOIN whose SUBSCRIBE the bridge's queue had no room for: refused
    /// with 437 here and now. Retrying it from inside the shard would find
    /// the queue as full (the bridge cannot run meanwhile): a livelock.
    pub fn join_refused(&mut self, then: Msg, mail: &mut Mail, server: &str) {
        let Msg::Chan { chan, req, .. } = then else {
            return;
        };
        let to = To {
            server,
            nick: &req.nick,
        };
        let why = "Channel is temporarily unavailable (the server is overloaded)";
        let line = to.about(ERR_UNAVAILRESOURCE, &chan, why);
        mail.answer(&req, vec![line], None);
    }

    /// The link to Redis is lost: a JOIN whose own line may never come
    /// back on the topic is answered 437 (should it come, it leaves again
    /// as a ghost), and no view waits for one any more.
    pub fn link_lost(&mut self, mail: &mut Mail, server: &str) {
        for ((key, _), (req, _)) in std::mem::take(&mut self.cluster.joining) {
            let to = To {
                server,
                nick: &req.nick,
            };
            let line = refused(&to, &self.name_of(&key), &ChanAnswer::Unavailable);
            mail.answer(&req, vec![line], None);
        }
        for ch in self.map.values_mut() {
            ch.marker = None;
        }
        let keys: Vec<String> = self
            .map
            .keys()
            .chain(self.cluster.syncing.keys())
            .cloned()
            .collect();
        for key in keys {
            self.drop_unused(&key, mail);
        }
    }

    /// The link to Redis is back: every view is read again (what happened
    /// meanwhile did not reach this node's topics).
    pub fn resync(&mut self, mail: &mut Mail) {
        for key in self.map.keys() {
            let req = Req {
                from: ClientRef {
                    core: mail.core(),
                    id: u64::MAX,
                },
                nick: String::new(),
                prefix: String::new(),
                caps: Default::default(),
            };
            let (chan, what) = (key.clone(), ChanWhat::Resync);
            mail.send_cluster(ClusterReq::Chan(ChanCall { chan, req, what }));
        }
    }

    fn resynced(
        &mut self,
        key: &str,
        state: Option<ChannelState>,
        mine: Vec<Bytes>,
        mail: &mut Mail,
    ) {
        let (Some(st), Some(ch)) = (state, self.map.get_mut(key)) else {
            return;
        };
        ch.reset(&st);
        ch.marker = None;
        self.cluster.in_flight.forget(key);
        let ghosts: Vec<String> = mine
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .filter(|n| !ch.has_nick(n))
            .collect();
        for nick in ghosts {
            let line = format!(":{nick} JOIN");
            self.ghost(key, &nick, line.as_bytes(), mail);
        }
        self.drop_unused(key, mail);
    }

    /// Clustered LIST: this node's core 0 asks Redis for every channel.
    pub fn list_cluster(
        &self,
        req: &Req,
        filter: &super::msg::ListFilter,
        mail: &mut Mail,
    ) -> bool {
        if mail.core() != 0 {
            return false;
        }
        let (req, filter) = (req.clone(), filter.clone());
        mail.send_cluster(ClusterReq::List(ListCall { req, filter }))
    }

    /// Redis's channel list, as LIST entries `l` may see.
    pub fn on_listed(
        &self,
        l: ListCall,
        mut entries: Vec<ListEntry>,
        mail: &mut Mail,
        server: &str,
    ) {
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let to = To {
            server,
            nick: &l.req.nick,
        };
        let lines = entries
            .iter()
            .filter(|e| !e.secret || e.member)
            .filter(|e| {
                l.filter
                    .admits(&String::from_utf8_lossy(&e.name), e.members)
            })
            .map(|e| {
                to.num(RPL_LIST)
                    .param(&e.name)
                    .param(e.members.to_string())
                    .trailing(&e.topic)
            })
            .collect();
        mail.answer(&l.req, lines, None);
    }
}

/// The answer to a KICK, TOPIC, MODE, INVITE or query from Redis's word
/// (`None`: an unacknowledged message, nothing to say).
fn answer_lines(to: &To, name: &str, what: ChanWhat, answer: ChanAnswer) -> Option<Vec<Bytes>> {
    let not_in = |nick: &str| {
        let l = to.num(ERR_USERNOTINCHANNEL).param(nick).param(name);
        l.trailing("They aren't on that channel")
    };
    Some(match (what, answer) {
        (ChanWhat::Invite { target }, ChanAnswer::Refused(443)) => {
            let l = to.num(ERR_USERONCHANNEL).param(&target).param(name);
            vec![l.trailing("is already on channel")]
        }
        (ChanWhat::Kick { target, .. }, ChanAnswer::Refused(441)) => vec![not_in(&target)],
        (ChanWhat::Mode { mut replies, .. }, ChanAnswer::Mode { absent }) => {
            replies.extend(absent.iter().map(|n| not_in(&String::from_utf8_lossy(n))));
            replies
        }
        (ChanWhat::Mode { mut replies, .. }, refusal) => {
            replies.push(refused(to, name, &refusal));
            replies
        }
        (
            ChanWhat::View {
                op: ChanOp::Privmsg { ack: false, .. },
            },
            _,
        ) => return None,
        (_, ChanAnswer::Done) => Vec::new(),
        (_, refusal) => vec![refused(to, name, &refusal)],
    })
}

/// Answers `req` with `lines`; nothing more to run.
fn answered(mail: &mut Mail, req: &Req, lines: Vec<Bytes>) -> Option<(Req, ChanOp)> {
    mail.answer(req, lines, None);
    None
}

/// `:nick!user@host QUIT :Connection closed` for member `m`.
fn quit_line(m: &MemberInfo) -> Bytes {
    let p = format!("{}!{}@{}", m.nick, m.user, m.host);
    LineBuilder::new(Some(p.as_bytes()), "QUIT").trailing("Connection closed")
}

/// The numeric for a refusal from Redis (or its absence).
fn refused(to: &To, chan: &str, answer: &ChanAnswer) -> Bytes {
    let code = match answer {
        ChanAnswer::Refused(code) => *code,
        _ => 0,
    };
    match code {
        403 => to.no_such_channel(chan.as_bytes()),
        442 => to.not_on_channel(chan),
        482 => to.not_op(chan),
        471 => to.about(ERR_CHANNELISFULL, chan, "Cannot join channel (+l)"),
        473 => to.about(ERR_INVITEONLYCHAN, chan, "Cannot join channel (+i)"),
        474 => to.about(ERR_BANNEDFROMCHAN, chan, "Cannot join channel (+b)"),
        475 => to.about(ERR_BADCHANNELKEY, chan, "Cannot join channel (+k)"),
        _ => to.about(
            ERR_UNAVAILRESOURCE,
            chan,
            "Channel is temporarily unavailable (the link to the network is down)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::chat::msg::{Change, HomeMsg, Msg};
    use crate::cluster::Member;

    const ALICE: ClientRef = ClientRef { core: 0, id: 1 };

    fn req() -> Req {
        Req::alice(ALICE)
    }

    fn env(kind: Kind, subject: &str, extra: &str, line: &str) -> Envelope {
        Envelope {
            kind,
            origin: Bytes::from("n2:0:1"),
            subject: Bytes::copy_from_slice(subject.as_bytes()),
            extra: Bytes::copy_from_slice(extra.as_bytes()),
            chans: vec![Bytes::from("#c")],
            line: Bytes::copy_from_slice(line.as_bytes()),
        }
    }

    /// alice's JOIN of #c, which bob (on another node) holds +m already.
    fn start() -> (Channels, Mail, ChanCall) {
        let mut chans = Channels::new(Arc::new(Counters::default()));
        let mut mail = Mail::new(0, 1);
        mail.set_clustered();
        chans.subscribed("#c".into());
        let op = ChanOp::Join {
            info: MemberInfo::alice(),
            key: None,
        };
        chans.handle("#c".into(), req(), op, &mut mail, "srv");
        let mut sent = mail.take_cluster();
        let Some(ClusterReq::Chan(call)) = sent.pop() else {
            panic!("the JOIN goes to Redis: {sent:?}");
        };
        assert!(matches!(
            call.what,
            ChanWhat::Join {
                want_state: true,
                ..
            }
        ));
        (chans, mail, call)
    }

    fn snapshot() -> ChanAnswer {
        let bob = Member {
            nick: "bob".into(),
            flags: "@".into(),
            prefix: "bob!b@h".into(),
            owner: "n2:0:1".into(),
            realname: "Bob".into(),
        };
        let state = ChannelState {
            name: "#c".into(),
            modes: "mnt".into(),
            members: vec![bob],
            ..ChannelState::default()
        };
        ChanAnswer::Joined {
            state: Some(state),
            already: false,
        }
    }

    /// Events in topic order: +m (before alice's JOIN: in the snapshot),
    /// alice's own JOIN, then +i.
    fn events() -> Vec<(Envelope, bool)> {
        vec![
            (env(Kind::Mode, "bob", "5", ":bob!b@h MODE #c +m"), false),
            (
                env(Kind::Join, "alice", "-", ":alice!a@h JOIN #c * :Al"),
                true,
            ),
            (env(Kind::Mode, "bob", "6", ":bob!b@h MODE #c +i"), false),
        ]
    }

    fn check(chans: &Channels, mail: &mut Mail) {
        let ch = &chans.map["#c"];
        assert_eq!(ch.len(), 2);
        let to = To {
            server: "srv",
            nick: "alice",
        };
        let query = ch.mode_request(&to, &req(), &[]).unwrap_err();
        assert!(
            query[0].starts_with(b":srv 324 alice #c +imnt"),
            "{query:?}"
        );
        let msgs = mail.take();
        let joined = msgs.iter().any(|(_, m)| {
            matches!(m, Msg::Home(HomeMsg::Deliver(d))
                if matches!(d.event.change, Change::Join { who: ALICE, .. }))
        });
        assert!(joined, "alice's JOIN reached her core: {msgs:?}");
        let answered = msgs
            .iter()
            .any(|(_, m)| matches!(m, Msg::Home(HomeMsg::Reply { done: true, .. })));
        assert!(answered, "alice's JOIN was answered");
    }

    #[test]
    fn events_that_come_before_the_snapshot_are_held_then_skipped_or_applied() {
        let (mut chans, mut mail, call) = start();
        for (e, own) in events() {
            chans.on_event(&e, own, None, &mut mail, "srv");
        }
        assert!(mail.take().is_empty(), "nothing before the snapshot");
        chans.on_chan_answer(call, snapshot(), &mut mail, "srv");
        check(&chans, &mut mail);
    }

    #[test]
    fn a_snapshot_first_skips_what_it_holds_until_the_own_join() {
        let (mut chans, mut mail, call) = start();
        chans.on_chan_answer(call, snapshot(), &mut mail, "srv");
        for (e, own) in events() {
            chans.on_event(&e, own, None, &mut mail, "srv");
        }
        check(&chans, &mut mail);
    }

    #[test]
    fn a_refused_join_is_answered_and_leaves_no_view() {
        let (mut chans, mut mail, call) = start();
        chans.on_chan_answer(call, ChanAnswer::Refused(475), &mut mail, "srv");
        assert!(chans.map.is_empty() && chans.cluster.syncing.is_empty());
        let msgs = mail.take();
        let Some((_, Msg::Home(HomeMsg::Reply { lines, .. }))) = msgs.first() else {
            panic!("{msgs:?}");
        };
        assert_eq!(
            &lines[0][..],
            b":srv 475 alice #c :Cannot join channel (+k)\r\n"
        );
        assert!(matches!(
            mail.take_cluster()[..],
            [ClusterReq::Unsubscribe { .. }]
        ));
    }

    #[test]
    fn a_join_caught_by_a_lost_link_is_answered_once_and_its_ghost_leaves() {
        let (mut chans, mut mail, call) = start();
        chans.link_lost(&mut mail, "srv");
        let answers = |mail: &mut Mail| -> Vec<Vec<Bytes>> {
            mail.take()
                .into_iter()
                .filter_map(|(_, m)| match m {
                    Msg::Home(HomeMsg::Reply { lines, .. }) => Some(lines),
                    _ => None,
                })
                .collect()
        };
        let first = answers(&mut mail);
        assert_eq!(first.len(), 1);
        assert!(first[0][0].starts_with(b":srv 437 alice #c :"));
        // Redis ran the JOIN after all, and it comes back on the topic.
        chans.on_chan_answer(call, snapshot(), &mut mail, "srv");
        let (join, own) = events().swap_remove(1);
        chans.on_event(&join, own, None, &mut mail, "srv");
        assert!(answers(&mut mail).is_empty(), "answered once");
        let sent = mail.take_cluster();
        assert!(
            sent.iter().any(|r| matches!(r,
                ClusterReq::Chan(ChanCall { what: ChanWhat::Quit { nick, .. }, .. }) if nick == "alice")),
            "the ghost leaves: {sent:?}"
        );
    }
}
