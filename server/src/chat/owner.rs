//! What a channel's owning core does with requests about it. The owner is
//! the one place a channel's state changes, so the order it handles events
//! in is the order every member sees.

use bytes::Bytes;

use super::casemap::fold;
use super::channel::{Channel, Topic};
use super::msg::{ChanOp, Change, ClientRef, Deliver, Msg, Req};
use super::numerics::*;
use super::parse::LineBuilder;
use super::shard::{now_secs, Counters, Shard};

/// Longest NAMES / WHOIS channel list payload per line, leaving room for
/// the prefix and the server name within 512 bytes.
pub const LIST_CHUNK: usize = 400;

impl Shard {
    pub(super) fn answer(&mut self, req: &Req, lines: Vec<Bytes>, frag: Option<(u8, String)>) {
        self.post(
            req.from.core,
            Msg::Reply {
                id: req.from.id,
                lines,
                frag,
                done: true,
            },
        );
    }

    /// Sends `line` once to every core with members of `key`.
    fn fanout(
        &mut self,
        key: &str,
        line: Bytes,
        except: Option<ClientRef>,
        change: Change,
        dedup: Option<u64>,
    ) {
        let Some(ch) = self.chans.get(key) else {
            return;
        };
        let cores: Vec<usize> = ch.member_cores().collect();
        for core in cores {
            let d = Deliver {
                chan: key.to_string(),
                line: line.clone(),
                except,
                change: change.clone(),
                dedup,
            };
            self.post(core, Msg::Deliver(d));
        }
    }

    fn drop_if_empty(&mut self, key: &str) {
        if self.chans.get(key).is_some_and(|c| c.members.is_empty()) {
            self.chans.remove(key);
            Counters::add(&self.counters.channels, -1);
        }
    }

    pub(super) fn on_chan(&mut self, chan: String, req: Req, op: ChanOp) {
        let key = fold(&chan);
        let to = To {
            server: &self.cfg.name.clone(),
            nick: &req.nick.clone(),
        };
        let me = req.from;
        if let ChanOp::Join { info, key: given } = op {
            let created = !self.chans.contains_key(&key);
            if created {
                let ch = Channel::new(chan.clone(), self.cores(), now_secs());
                self.chans.insert(key.clone(), ch);
                Counters::add(&self.counters.channels, 1);
            }
            let Some(ch) = self.chans.get_mut(&key) else {
                return;
            };
            if ch.is_member(me) {
                return self.answer(&req, Vec::new(), None);
            }
            if ch.key.is_some() && ch.key != given {
                let l = to.about(ERR_BADCHANNELKEY, &ch.name, "Cannot join channel (+k)");
                return self.answer(&req, vec![l], None);
            }
            if ch.banned(&req.prefix) {
                let l = to.about(ERR_BANNEDFROMCHAN, &ch.name, "Cannot join channel (+b)");
                self.drop_if_empty(&key);
                return self.answer(&req, vec![l], None);
            }
            ch.add(me, info, created);
            let name = ch.name.clone();
            let mut lines = topic_lines(&to, ch);
            lines.extend(names_lines(&to, ch, req.multi_prefix));
            let line = LineBuilder::new(Some(req.prefix.as_bytes()), "JOIN")
                .param(&name)
                .finish();
            let change = Change::Join {
                who: me,
                name,
                op: created,
            };
            self.fanout(&key, line, None, change, None);
            return self.answer(&req, lines, None);
        }
        let ack = !matches!(op, ChanOp::Privmsg { ack: false, .. });
        let Some(ch) = self.chans.get_mut(&key) else {
            let lines = match op {
                ChanOp::Names => vec![to.end_of_names(&chan)],
                ChanOp::Who => vec![to.end_of_who(&chan)],
                ChanOp::List => vec![],
                ChanOp::Privmsg { notice: true, .. } => vec![],
                ChanOp::Leave { .. } | ChanOp::NickChange { .. } | ChanOp::Update { .. } => return,
                _ => vec![to.no_such_channel(chan.as_bytes())],
            };
            return self.conclude(&req, lines, ack);
        };
        let member = ch.is_member(me);
        let name = ch.name.clone();
        let mut lines = Vec::new();
        match op {
            ChanOp::Join { .. } => {}
            ChanOp::Privmsg { line, notice, .. } => {
                let banned = member && !ch.is_voiced(me) && ch.banned(&req.prefix);
                if (ch.no_external && !member) || banned {
                    if !notice {
                        lines.push(to.cannot_send(&name));
                    }
                } else {
                    self.fanout(&key, line, Some(me), Change::None, None);
                }
            }
            ChanOp::Part { reason } => {
                if !member {
                    lines.push(to.not_on_channel(&name));
                } else {
                    let b = LineBuilder::new(Some(req.prefix.as_bytes()), "PART").param(&name);
                    let line = match reason {
                        Some(r) => b.trailing(r),
                        None => b.finish(),
                    };
                    self.fanout(&key, line, None, Change::Leave { who: me }, None);
                    self.leave(&key, me);
                }
            }
            ChanOp::Topic { set: None, .. } => {
                if ch.secret && !member {
                    lines.push(to.not_on_channel(&name));
                } else if ch.topic.is_none() {
                    lines.push(to.about(RPL_NOTOPIC, &name, "No topic is set"));
                } else {
                    lines = topic_lines(&to, ch);
                }
            }
            ChanOp::Topic {
                set: Some(text),
                now,
            } => {
                if !member {
                    lines.push(to.not_on_channel(&name));
                } else if ch.topic_lock && !ch.is_op(me) {
                    lines.push(to.not_op(&name));
                } else {
                    ch.topic = (!text.is_empty()).then(|| Topic {
                        text: text.clone(),
                        setter: req.prefix.clone(),
                        time: now,
                    });
                    let line = LineBuilder::new(Some(req.prefix.as_bytes()), "TOPIC")
                        .param(&name)
                        .trailing(text);
                    self.fanout(&key, line, None, Change::None, None);
                }
            }
            ChanOp::Names => {
                if ch.secret && !member {
                    lines.push(to.end_of_names(&name));
                } else {
                    lines = names_lines(&to, ch, req.multi_prefix);
                }
            }
            ChanOp::Who => {
                let mut v: Vec<_> = ch.members.iter().collect();
                v.sort_by_key(|(r, _)| **r);
                for (_, mb) in v {
                    if member || (!mb.info.invisible && !ch.secret) {
                        let flags = format!(
                            "{}{}",
                            if mb.info.away { "G" } else { "H" },
                            mb.prefix(req.multi_prefix)
                        );
                        lines.push(who_line(&to, &name, &mb.info, &flags));
                    }
                }
                lines.push(to.end_of_who(&name));
            }
            ChanOp::List => {
                if !ch.secret || member {
                    lines.push(list_line(&to, ch));
                }
            }
            ChanOp::Kick { target, reason } => {
                let victim = ch
                    .by_nick
                    .get(&fold(&target))
                    .and_then(|v| Some((*v, ch.members.get(v)?.info.nick.clone())));
                if !member {
                    lines.push(to.not_on_channel(&name));
                } else if !ch.is_op(me) {
                    lines.push(to.not_op(&name));
                } else if let Some((victim, vnick)) = victim {
                    let line = LineBuilder::new(Some(req.prefix.as_bytes()), "KICK")
                        .param(&name)
                        .param(vnick)
                        .trailing(reason);
                    self.fanout(&key, line, None, Change::Leave { who: victim }, None);
                    self.leave(&key, victim);
                } else {
                    lines.push(
                        to.num(ERR_USERNOTINCHANNEL)
                            .param(&target)
                            .param(&name)
                            .trailing("They aren't on that channel"),
                    );
                }
            }
            ChanOp::Mode { args } => {
                let out = ch.mode(&to, &req, &args, now_secs());
                if let Some(line) = out.line {
                    self.fanout(&key, line, None, Change::None, None);
                }
                for (who, op, voice) in out.status {
                    // To the member's own core, so its WHOIS mirror follows.
                    let change = Change::Status { who, op, voice };
                    let d = Deliver {
                        chan: key.clone(),
                        line: Bytes::new(),
                        except: None,
                        change,
                        dedup: None,
                    };
                    self.post(who.core, Msg::Deliver(d));
                }
                if !out.absent.is_empty() {
                    let (lines, targets) = (out.replies, out.absent);
                    return self.on_check_nicks(req, lines, name, targets);
                }
                lines = out.replies;
            }
            ChanOp::Leave { line, dedup } => {
                if let Some(m) = ch.remove(me) {
                    let line = line.unwrap_or_else(|| {
                        let p = format!("{}!{}@{}", m.info.nick, m.info.user, m.info.host);
                        LineBuilder::new(Some(p.as_bytes()), "QUIT").trailing("Connection closed")
                    });
                    self.fanout(&key, line, Some(me), Change::None, dedup);
                    self.drop_if_empty(&key);
                }
                return;
            }
            ChanOp::NickChange {
                new_nick,
                line,
                dedup,
            } => {
                if member {
                    ch.rename(me, &new_nick);
                    self.fanout(&key, line, Some(me), Change::None, dedup);
                }
                return;
            }
            ChanOp::Update { away, invisible } => {
                if let Some(m) = ch.members.get_mut(&me) {
                    m.info.away = away;
                    m.info.invisible = invisible;
                }
                return;
            }
        }
        self.conclude(&req, lines, ack);
    }

    /// Finishes a MODE whose +o/+v targets were not in the channel: each
    /// target's nick owner adds 441 (the nick exists) or 401 (it does
    /// not), hop by hop, and the last one answers the request.
    pub(super) fn on_check_nicks(
        &mut self,
        req: Req,
        mut lines: Vec<Bytes>,
        chan: String,
        mut targets: Vec<String>,
    ) {
        let server = self.cfg.name.clone();
        let to = To {
            server: &server,
            nick: &req.nick,
        };
        while let Some(t) = targets.first() {
            let core = super::casemap::owner(t, self.cores());
            if core != self.core {
                let msg = Msg::CheckNicks {
                    req,
                    lines,
                    chan,
                    targets,
                };
                return self.post(core, msg);
            }
            let t = targets.remove(0);
            lines.push(if self.nicks.contains_key(&fold(&t)) {
                to.num(ERR_USERNOTINCHANNEL)
                    .param(&t)
                    .param(&chan)
                    .trailing("They aren't on that channel")
            } else {
                to.no_such_nick(t.as_bytes())
            });
        }
        self.answer(&req, lines, None);
    }

    /// Answers a request, or for an unacknowledged one sends only errors.
    fn conclude(&mut self, req: &Req, lines: Vec<Bytes>, ack: bool) {
        if ack {
            self.answer(req, lines, None);
        } else if !lines.is_empty() {
            let id = req.from.id;
            let (frag, done) = (None, false);
            self.post(
                req.from.core,
                Msg::Reply {
                    id,
                    lines,
                    frag,
                    done,
                },
            );
        }
    }

    fn leave(&mut self, key: &str, who: ClientRef) {
        if let Some(ch) = self.chans.get_mut(key) {
            ch.remove(who);
        }
        self.drop_if_empty(key);
    }
}

pub fn topic_lines(to: &To, ch: &Channel) -> Vec<Bytes> {
    let Some(t) = &ch.topic else {
        return Vec::new();
    };
    vec![
        to.num(RPL_TOPIC).param(&ch.name).trailing(&t.text),
        to.num(RPL_TOPICWHOTIME)
            .param(&ch.name)
            .param(&t.setter)
            .param(t.time.to_string())
            .finish(),
    ]
}

pub fn names_lines(to: &To, ch: &Channel, multi: bool) -> Vec<Bytes> {
    let sym = if ch.secret { "@" } else { "=" };
    let mut lines = Vec::new();
    let mut cur = String::new();
    for n in ch.names(multi) {
        if !cur.is_empty() && cur.len() + n.len() + 1 > LIST_CHUNK {
            lines.push(
                to.num(RPL_NAMREPLY)
                    .param(sym)
                    .param(&ch.name)
                    .trailing(&cur),
            );
            cur.clear();
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&n);
    }
    if !cur.is_empty() {
        lines.push(
            to.num(RPL_NAMREPLY)
                .param(sym)
                .param(&ch.name)
                .trailing(&cur),
        );
    }
    lines.push(to.end_of_names(&ch.name));
    lines
}

pub fn list_line(to: &To, ch: &Channel) -> Bytes {
    let topic = ch
        .topic
        .as_ref()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    to.num(RPL_LIST)
        .param(&ch.name)
        .param(ch.members.len().to_string())
        .trailing(topic)
}

/// `352 <me> <chan> <user> <host> <server> <nick> <flags> :0 <realname>`
pub fn who_line(to: &To, chan: &str, m: &super::msg::MemberInfo, flags: &str) -> Bytes {
    to.num(RPL_WHOREPLY)
        .param(chan)
        .param(&m.user)
        .param(&m.host)
        .param(to.server)
        .param(&m.nick)
        .param(flags)
        .trailing(format!("0 {}", m.realname))
}
