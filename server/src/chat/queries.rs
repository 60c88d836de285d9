//! Query commands (LIST, WHO, WHOIS, USERHOST) and a client's own state
//! (AWAY, user MODE): the queries scatter to the cores that hold the
//! answer and finish with their end numeric once every core has replied.

use bytes::Bytes;

use super::casemap;
use super::client::Finish;
use super::commands::valid_channel;
use super::msg::{ChanOp, ClientId, Msg, NickOp, ScatterOp};
use super::numerics::*;
use super::parse::{LineBuilder, Message};
use super::shard::{Counters, Shard};

impl Shard {
    pub(super) fn cmd_list(&mut self, id: ClientId, m: &Message) {
        self.reply(id, |to| {
            to.num(RPL_LISTSTART)
                .param("Channel")
                .trailing("Users  Name")
        });
        let end = self.reply_line(id, |to| to.text(RPL_LISTEND, "End of /LIST"));
        self.set_finish(id, Finish::Lines(vec![end.clone()]));
        let Some(list) = m.params.first().filter(|p| p.first() == Some(&b'#')) else {
            for core in 0..self.cores() {
                let req = self.req(id);
                self.request(
                    id,
                    core,
                    Msg::Scatter {
                        req,
                        op: ScatterOp::List,
                    },
                );
            }
            return;
        };
        for name in list.split(|&b| b == b',').filter(|n| valid_channel(n)) {
            let chan = String::from_utf8_lossy(name).into_owned();
            self.request_chan(id, chan, ChanOp::List);
        }
        if self.clients.get(&id).is_some_and(|c| c.pending == 0) {
            self.set_finish(id, Finish::Lines(Vec::new()));
            self.send(id, end);
        }
    }

    /// A reply line addressed to the client, without sending it.
    fn reply_line(&self, id: ClientId, f: impl FnOnce(To) -> Bytes) -> Bytes {
        let nick = self.clients.get(&id).and_then(|c| c.nick.as_deref());
        f(To::new(&self.cfg.name, nick))
    }

    pub(super) fn cmd_who(&mut self, id: ClientId, m: &Message) {
        let mask = match m.param_str(0) {
            Some("0") | None => "*".to_string(),
            Some(s) if !s.is_empty() => s.to_string(),
            _ => "*".to_string(),
        };
        let req = self.req(id);
        if mask.starts_with('#') {
            let core = casemap::owner(&mask, self.cores());
            let chan = mask;
            return self.request(
                id,
                core,
                Msg::Chan {
                    chan,
                    req,
                    op: ChanOp::Who,
                },
            );
        }
        let end = self.reply_line(id, |to| to.end_of_who(&mask));
        self.set_finish(id, Finish::Lines(vec![end]));
        if mask.contains(['*', '?']) {
            for core in 0..self.cores() {
                let req = self.req(id);
                let op = ScatterOp::Who { mask: mask.clone() };
                self.request(id, core, Msg::Scatter { req, op });
            }
        } else {
            let core = casemap::owner(&mask, self.cores());
            let op = NickOp::Who;
            self.request(
                id,
                core,
                Msg::ToNick {
                    target: mask,
                    req,
                    op,
                },
            );
        }
    }

    pub(super) fn cmd_whois(&mut self, id: ClientId, m: &Message) {
        let target = m
            .params
            .get(1)
            .or(m.params.first())
            .filter(|t| !t.is_empty());
        let Some(target) = target else {
            return self.reply(id, |to| to.text(ERR_NONICKNAMEGIVEN, "No nickname given"));
        };
        let target = target.split(|&b| b == b',').next().unwrap_or_default();
        let target = String::from_utf8_lossy(target).into_owned();
        let req = self.req(id);
        let core = casemap::owner(&target, self.cores());
        self.request(
            id,
            core,
            Msg::ToNick {
                target,
                req,
                op: NickOp::Whois,
            },
        );
    }

    pub(super) fn cmd_userhost(&mut self, id: ClientId, m: &Message) {
        if m.params.is_empty() {
            return self.reply(id, |to| to.need_more_params("USERHOST"));
        }
        self.set_finish(id, Finish::Userhost);
        for (slot, nick) in (0u8..).zip(m.params.iter().take(5)) {
            let target = String::from_utf8_lossy(nick).into_owned();
            let req = self.req(id);
            let core = casemap::owner(&target, self.cores());
            let op = NickOp::Userhost { slot };
            self.request(id, core, Msg::ToNick { target, req, op });
        }
    }

    pub(super) fn cmd_away(&mut self, id: ClientId, m: &Message) {
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        let msg = m.params.first().filter(|p| !p.is_empty());
        c.away = msg.map(|p| Bytes::copy_from_slice(p));
        if c.away.is_some() {
            self.reply(id, |to| {
                to.text(RPL_NOWAWAY, "You have been marked as being away")
            });
        } else {
            self.reply(id, |to| {
                to.text(RPL_UNAWAY, "You are no longer marked as being away")
            });
        }
        self.update_channels(id);
    }

    /// Tells the client's channels its away/invisible state (for WHO).
    fn update_channels(&mut self, id: ClientId) {
        let Some(c) = self.clients.get(&id) else {
            return;
        };
        let (away, invisible) = (c.away.is_some(), c.invisible);
        let chans: Vec<String> = c.channels.keys().cloned().collect();
        for chan in chans {
            let req = self.req(id);
            let op = ChanOp::Update { away, invisible };
            self.post_to_owner(&chan.clone(), Msg::Chan { chan, req, op });
        }
    }

    pub(super) fn cmd_mode(&mut self, id: ClientId, m: &Message) {
        let Some(target) = m.param_str(0).filter(|t| !t.is_empty()) else {
            return self.reply(id, |to| to.need_more_params("MODE"));
        };
        if target.starts_with('#') {
            let args = m.params[1..]
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            return self.chan_request(id, m, "MODE", || ChanOp::Mode { args });
        }
        let Some(c) = self.clients.get(&id) else {
            return;
        };
        if !casemap::eq(target, c.nick_or_star()) {
            return self.reply(id, |to| {
                to.text(ERR_USERSDONTMATCH, "Can't change mode for other users")
            });
        }
        let Some(modes) = m.param_str(1) else {
            let s = if c.invisible { "+i" } else { "+" };
            return self.reply(id, |to| to.num(RPL_UMODEIS).param(s).finish());
        };
        let mut set = c.invisible;
        let mut plus = true;
        let mut unknown = false;
        for ch in modes.chars() {
            match ch {
                '+' => plus = true,
                '-' => plus = false,
                'i' => set = plus,
                _ => unknown = true,
            }
        }
        if unknown {
            self.reply(id, |to| to.text(ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag"));
        }
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        if set != c.invisible {
            c.invisible = set;
            Counters::add(&self.counters.invisible, if set { 1 } else { -1 });
            let nick = c.nick_or_star().to_string();
            let l = LineBuilder::new(Some(c.prefix.as_bytes()), "MODE")
                .param(nick)
                .trailing(if set { "+i" } else { "-i" });
            self.send(id, l);
            self.update_channels(id);
        }
    }
}
