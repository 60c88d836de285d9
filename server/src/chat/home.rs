//! Handlers on a client's home core: requests routed to one of its clients
//! (via the nick registry), channel events for its local members, and
//! server-wide queries (LIST, WHO masks) answered from what it holds.

use super::casemap::{fold, glob};
use super::msg::{Change, ClientRef, Deliver, MemberInfo, Msg, NickOp, Req, ScatterOp};
use super::numerics::*;
use super::owner::{list_line, who_line, LIST_CHUNK};
use super::shard::{now_secs, Shard};

impl Shard {
    /// At the nick's owner: pass the request on to the client's core.
    pub(super) fn on_to_nick(&mut self, target: String, req: Req, op: NickOp) {
        match self.nicks.get(&fold(&target)).copied() {
            Some(r) => {
                let id = r.id;
                self.post(
                    r.core,
                    Msg::AtClient {
                        id,
                        target,
                        req,
                        op,
                    },
                );
            }
            None => self.no_such_nick(&target, req, op),
        }
    }

    fn no_such_nick(&mut self, target: &str, req: Req, op: NickOp) {
        let server = self.cfg.name.clone();
        let to = To {
            server: &server,
            nick: &req.nick,
        };
        let lines = match op {
            NickOp::Privmsg { notice: false, .. } => vec![to.no_such_nick(target.as_bytes())],
            NickOp::Whois => vec![
                to.no_such_nick(target.as_bytes()),
                to.about(RPL_ENDOFWHOIS, target, "End of /WHOIS list"),
            ],
            _ => Vec::new(),
        };
        self.answer(&req, lines, None);
    }

    pub(super) fn on_at_client(&mut self, id: u64, target: String, req: Req, op: NickOp) {
        let Some(c) = self.clients.get(&id).filter(|c| c.registered && !c.closing) else {
            return self.no_such_nick(&target, req, op);
        };
        let server = self.cfg.name.clone();
        let to = To {
            server: &server,
            nick: &req.nick,
        };
        let nick = c.nick_or_star().to_string();
        let (user, realname) = c.user.clone().unwrap_or_default();
        match op {
            NickOp::Privmsg { line, notice } => {
                let away = (!notice).then(|| c.away.clone()).flatten();
                self.send(id, line);
                let lines = match away {
                    Some(a) => vec![to.num(RPL_AWAY).param(&nick).trailing(a)],
                    None => Vec::new(),
                };
                self.answer(&req, lines, None);
            }
            NickOp::Whois => {
                let mut lines = vec![to
                    .num(RPL_WHOISUSER)
                    .param(&nick)
                    .param(&user)
                    .param(&c.host)
                    .param("*")
                    .trailing(&realname)];
                let mut chans: Vec<String> = c
                    .channels
                    .values()
                    .map(|v| {
                        let p = match (v.op, v.voice, req.multi_prefix) {
                            (true, true, true) => "@+",
                            (true, _, _) => "@",
                            (false, true, _) => "+",
                            _ => "",
                        };
                        format!("{p}{}", v.name)
                    })
                    .collect();
                chans.sort();
                let mut cur = String::new();
                for ch in chans {
                    if !cur.is_empty() && cur.len() + ch.len() > LIST_CHUNK {
                        lines.push(to.num(RPL_WHOISCHANNELS).param(&nick).trailing(&cur));
                        cur.clear();
                    }
                    if !cur.is_empty() {
                        cur.push(' ');
                    }
                    cur.push_str(&ch);
                }
                if !cur.is_empty() {
                    lines.push(to.num(RPL_WHOISCHANNELS).param(&nick).trailing(&cur));
                }
                lines.push(
                    to.num(RPL_WHOISSERVER)
                        .param(&nick)
                        .param(&server)
                        .trailing(format!("uringo chat, core {}", self.core)),
                );
                if let Some(a) = &c.away {
                    lines.push(to.num(RPL_AWAY).param(&nick).trailing(a));
                }
                let idle = now_secs().saturating_sub(c.last_message);
                lines.push(
                    to.num(RPL_WHOISIDLE)
                        .param(&nick)
                        .param(idle.to_string())
                        .param(c.signon.to_string())
                        .trailing("seconds idle, signon time"),
                );
                lines.push(to.about(RPL_ENDOFWHOIS, &nick, "End of /WHOIS list"));
                self.answer(&req, lines, None);
            }
            NickOp::Who => {
                let info = member_info(c.nick_or_star(), &user, &c.host, &realname);
                let flags = if c.away.is_some() { "G" } else { "H" };
                let lines = vec![who_line(&to, "*", &info, flags)];
                self.answer(&req, lines, None);
            }
            NickOp::Userhost { slot } => {
                let away = if c.away.is_some() { '-' } else { '+' };
                let frag = format!("{nick}={away}{user}@{}", c.host);
                self.answer(&req, Vec::new(), Some((slot, frag)));
            }
        }
    }

    pub(super) fn on_scatter(&mut self, req: Req, op: ScatterOp) {
        let server = self.cfg.name.clone();
        let to = To {
            server: &server,
            nick: &req.nick,
        };
        let mut lines = Vec::new();
        match op {
            ScatterOp::List => {
                let mut v: Vec<_> = self.chans.values().collect();
                v.sort_by(|a, b| a.name.cmp(&b.name));
                for ch in v {
                    if !ch.secret || ch.is_member(req.from) {
                        lines.push(list_line(&to, ch));
                    }
                }
            }
            ScatterOp::Who { mask } => {
                let mut ids: Vec<_> = self.clients.keys().copied().collect();
                ids.sort_unstable();
                for id in ids {
                    let Some(c) = self.clients.get(&id) else {
                        continue;
                    };
                    let me = ClientRef {
                        core: self.core,
                        id,
                    } == req.from;
                    if !c.registered || c.closing || (c.invisible && !me) {
                        continue;
                    }
                    let (user, realname) = c.user.clone().unwrap_or_default();
                    let nick = c.nick_or_star();
                    if [nick, &c.host, &user, &realname]
                        .iter()
                        .any(|s| glob(&mask, s))
                    {
                        let info = member_info(nick, &user, &c.host, &realname);
                        let flags = if c.away.is_some() { "G" } else { "H" };
                        lines.push(who_line(&to, "*", &info, flags));
                    }
                }
            }
        }
        self.answer(&req, lines, None);
    }

    /// A channel event for this core's members of the channel.
    pub(super) fn on_deliver(&mut self, d: Deliver) {
        let core = self.core;
        let local = |r: &ClientRef| r.core == core;
        match &d.change {
            Change::Join { who, name, op }
                if local(who) && !self.view_join(who.id, &d.chan, name, *op) =>
            {
                // Joined while disconnecting: take the ghost back out.
                let req = Req {
                    from: *who,
                    nick: String::new(),
                    prefix: String::new(),
                    multi_prefix: false,
                };
                let op = super::msg::ChanOp::Leave {
                    line: None,
                    dedup: None,
                };
                let chan = d.chan.clone();
                self.post_to_owner(&d.chan, Msg::Chan { chan, req, op });
            }
            Change::Status { who, op, voice } if local(who) => {
                if let Some(v) = self
                    .clients
                    .get_mut(&who.id)
                    .and_then(|c| c.channels.get_mut(&d.chan))
                {
                    v.op = *op;
                    v.voice = *voice;
                }
            }
            _ => {}
        }
        if !d.line.is_empty() {
            self.write_to_members(&d);
        }
        if let Change::Leave { who } = &d.change {
            if who.core == self.core {
                self.unindex(&d.chan, who.id);
                if let Some(c) = self.clients.get_mut(&who.id) {
                    c.channels.remove(&d.chan);
                }
            }
        }
    }
}

impl Shard {
    /// Writes a channel event to this core's members of the channel, each
    /// getting the same `Bytes`.
    fn write_to_members(&mut self, d: &Deliver) {
        // The list is taken out while `send` needs `&mut self`; the entry
        // stays in the map, so putting it back allocates nothing.
        let Some(slot) = self.index.get_mut(&d.chan) else {
            return;
        };
        let mut members = std::mem::take(slot);
        let quits = self.quits;
        let core = self.core;
        let me = |id| ClientRef { core, id };
        for &m in &members {
            if d.except == Some(me(m)) || d.dedup.is_some_and(|ev| !self.first_sight(ev, m)) {
                continue;
            }
            self.send(m, d.line.clone());
        }
        if self.quits != quits {
            // Someone was dropped (sendq) while the list was out.
            members.retain(|id| self.clients.get(id).is_some_and(|c| !c.closing));
        }
        match self.index.get_mut(&d.chan) {
            Some(_) if members.is_empty() => {
                self.index.remove(&d.chan);
            }
            Some(slot) => *slot = members,
            // A dropped member's unindex removed the (then empty) entry.
            None if !members.is_empty() => {
                self.index.insert(d.chan.clone(), members);
            }
            None => {}
        }
    }
}

fn member_info(nick: &str, user: &str, host: &str, realname: &str) -> MemberInfo {
    MemberInfo {
        nick: nick.to_string(),
        user: user.to_string(),
        host: host.to_string(),
        realname: realname.to_string(),
        away: false,
        invisible: false,
    }
}
