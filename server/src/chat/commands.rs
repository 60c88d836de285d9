//! Running one client line on its home core: checks that need only local
//! state happen here; the rest becomes a request to the core that owns the
//! nick or channel. Commands with comma lists are split into one line per
//! target and queued in front, so each target's replies stay together.

use bytes::Bytes;

use super::casemap;
use super::client::ChanView;
use super::msg::{ChanOp, ClientId, MemberInfo, Msg, NickOp};
use super::numerics::*;
use super::parse::{parse, LineBuilder, Message};
use super::register::{CHANLIMIT, CHANNELLEN};
use super::shard::{now_secs, Shard};

/// Channel name syntax: `#`, then no space, comma, BEL or NUL, within CHANNELLEN.
pub fn valid_channel(name: &[u8]) -> bool {
    name.first() == Some(&b'#')
        && name.len() <= CHANNELLEN
        && std::str::from_utf8(name).is_ok()
        && !name
            .iter()
            .any(|b| matches!(b, b' ' | b',' | 7 | 0 | b'\r' | b'\n'))
}

impl Shard {
    pub(super) fn exec(&mut self, id: ClientId, line: Bytes) {
        if line.is_empty() {
            return self.reply(id, |to| to.input_too_long());
        }
        let Some(m) = parse(&line) else {
            return;
        };
        let verb = m.verb.to_ascii_uppercase();
        let Some(c) = self.clients.get(&id) else {
            return;
        };
        let registered = c.registered;
        match &verb[..] {
            b"PASS" => return self.cmd_pass(id, &m),
            b"NICK" => return self.cmd_nick(id, &m),
            b"USER" => return self.cmd_user(id, &m),
            b"CAP" => return self.cmd_cap(id, &m),
            b"PING" => return self.cmd_ping(id, &m),
            b"PONG" => return,
            b"QUIT" => return self.cmd_quit(id, &m),
            _ if !registered => return self.reply(id, |to| to.not_registered()),
            _ => {}
        }
        match &verb[..] {
            b"JOIN" => self.cmd_join(id, &m),
            b"PART" => self.cmd_part(id, &m),
            b"PRIVMSG" => self.cmd_privmsg(id, &m, false),
            b"NOTICE" => self.cmd_privmsg(id, &m, true),
            b"NAMES" => self.cmd_names(id, &m),
            b"LIST" => self.cmd_list(id, &m),
            b"TOPIC" => self.cmd_topic(id, &m),
            b"WHO" => self.cmd_who(id, &m),
            b"WHOIS" => self.cmd_whois(id, &m),
            b"AWAY" => self.cmd_away(id, &m),
            b"USERHOST" => self.cmd_userhost(id, &m),
            b"KICK" => self.cmd_kick(id, &m),
            b"MODE" => self.cmd_mode(id, &m),
            b"LUSERS" => self.send_lusers(id),
            b"MOTD" => self.send_motd(id),
            _ => {
                let v = m.verb.to_vec();
                self.reply(id, |to| to.unknown_command(&v));
            }
        }
    }

    /// Queues `lines` to run next, before anything the client sent later.
    fn run_next(&mut self, id: ClientId, lines: Vec<Vec<u8>>) {
        if let Some(c) = self.clients.get_mut(&id) {
            for l in lines.into_iter().rev() {
                c.inq_bytes += super::shard::inq_cost(&l);
                c.inq.push_front(Bytes::from(l));
            }
        }
    }

    /// Splits `VERB a,b,c rest...` into one line per list item when there is
    /// more than one. Returns true when it did.
    fn split_list(&mut self, id: ClientId, verb: &str, m: &Message, idx: usize) -> bool {
        let Some(list) = m.params.get(idx) else {
            return false;
        };
        let items: Vec<&[u8]> = list
            .split(|&b| b == b',')
            .filter(|s| !s.is_empty())
            .collect();
        if items.len() <= 1 {
            return false;
        }
        let lines = items
            .iter()
            .map(|item| {
                let mut l = verb.as_bytes().to_vec();
                for (i, p) in m.params.iter().enumerate() {
                    l.push(b' ');
                    if i == m.params.len() - 1 {
                        l.push(b':');
                    }
                    l.extend_from_slice(if i == idx { item } else { p });
                }
                l
            })
            .collect();
        self.run_next(id, lines);
        true
    }

    fn cmd_ping(&mut self, id: ClientId, m: &Message) {
        match m.params.first() {
            Some(token) => {
                let name = self.cfg.name.clone();
                let l = LineBuilder::new(Some(name.as_bytes()), "PONG")
                    .param(&name)
                    .trailing(token);
                self.send(id, l);
            }
            None => self.reply(id, |to| to.text(ERR_NOORIGIN, "No origin specified")),
        }
    }

    fn cmd_quit(&mut self, id: ClientId, m: &Message) {
        let reason = match m.params.first() {
            Some(r) => format!("Quit: {}", String::from_utf8_lossy(r)),
            None => "Client Quit".to_string(),
        };
        self.quit(id, &reason, &reason);
    }

    fn cmd_privmsg(&mut self, id: ClientId, m: &Message, notice: bool) {
        let verb = if notice { "NOTICE" } else { "PRIVMSG" };
        let target = m.params.first().filter(|t| !t.is_empty());
        let Some(target) = target else {
            if !notice {
                self.reply(id, |to| {
                    to.text(ERR_NORECIPIENT, format!("No recipient given ({verb})"))
                });
            }
            return;
        };
        let Some(text) = m.params.get(1).filter(|t| !t.is_empty()) else {
            if !notice {
                self.reply(id, |to| to.text(ERR_NOTEXTTOSEND, "No text to send"));
            }
            return;
        };
        if self.split_list(id, verb, m, 0) {
            return;
        }
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        c.last_message = now_secs();
        let line = LineBuilder::new(Some(c.prefix.as_bytes()), verb)
            .param(target)
            .trailing(text);
        let req = self.req(id);
        if target.first() == Some(&b'#') {
            if !valid_channel(target) {
                if !notice {
                    let t = target.to_vec();
                    self.reply(id, |to| to.no_such_channel(&t));
                }
                return;
            }
            let chan = String::from_utf8_lossy(target).into_owned();
            let core = casemap::owner(&chan, self.cores());
            let member = self
                .clients
                .get(&id)
                .is_some_and(|c| c.channels.contains_key(&casemap::fold(&chan)));
            let op = ChanOp::Privmsg {
                line,
                notice,
                ack: !member,
            };
            let msg = Msg::Chan { chan, req, op };
            if member {
                self.post(core, msg);
            } else {
                self.request(id, core, msg);
            }
        } else {
            let Ok(nick) = std::str::from_utf8(target) else {
                if !notice {
                    let t = target.to_vec();
                    self.reply(id, |to| to.no_such_nick(&t));
                }
                return;
            };
            let core = casemap::owner(nick, self.cores());
            let op = NickOp::Privmsg { line, notice };
            let target = nick.to_string();
            self.request(id, core, Msg::ToNick { target, req, op });
        }
    }

    fn cmd_join(&mut self, id: ClientId, m: &Message) {
        let Some(list) = m.params.first().filter(|p| !p.is_empty()) else {
            return self.reply(id, |to| to.need_more_params("JOIN"));
        };
        let Some(c) = self.clients.get(&id) else {
            return;
        };
        if &list[..] == b"0" {
            let chans: Vec<Vec<u8>> = c
                .channels
                .values()
                .map(|v| format!("PART {}", v.name).into_bytes())
                .collect();
            return self.run_next(id, chans);
        }
        if list.contains(&b',') {
            // `JOIN #a,#b key1,key2`: the n-th key goes with the n-th channel.
            let mut keys = m
                .params
                .get(1)
                .map(|k| k.split(|&b| b == b','))
                .into_iter()
                .flatten();
            let lines = list
                .split(|&b| b == b',')
                .map(|chan| {
                    let mut l = b"JOIN ".to_vec();
                    l.extend_from_slice(chan);
                    if let Some(k) = keys.next().filter(|k| !k.is_empty()) {
                        l.push(b' ');
                        l.extend_from_slice(k);
                    }
                    l
                })
                .collect();
            return self.run_next(id, lines);
        }
        let key_param = m.params.get(1);
        if !valid_channel(list) {
            let l = list.to_vec();
            return self.reply(id, |to| to.no_such_channel(&l));
        }
        let chan = String::from_utf8_lossy(list).into_owned();
        if c.channels.contains_key(&casemap::fold(&chan)) {
            return;
        }
        if c.channels.len() >= CHANLIMIT {
            return self.reply(id, |to| {
                to.about(
                    ERR_TOOMANYCHANNELS,
                    &chan,
                    "You have joined too many channels",
                )
            });
        }
        let (user, realname) = c.user.clone().unwrap_or_default();
        let info = MemberInfo {
            nick: c.nick_or_star().to_string(),
            user,
            host: c.host.clone(),
            realname,
            away: c.away.is_some(),
            invisible: c.invisible,
        };
        let key = key_param.map(|k| String::from_utf8_lossy(k).into_owned());
        self.request_chan(id, chan, ChanOp::Join { info, key });
    }

    /// Sends `op` to the owner of the channel named by param 0, after the
    /// usual checks (461, comma list, 403).
    pub(super) fn chan_request(
        &mut self,
        id: ClientId,
        m: &Message,
        verb: &str,
        op: impl FnOnce() -> ChanOp,
    ) {
        let Some(name) = m.params.first().filter(|p| !p.is_empty()) else {
            return self.reply(id, |to| to.need_more_params(verb));
        };
        if self.split_list(id, verb, m, 0) {
            return;
        }
        if !valid_channel(name) {
            let n = name.to_vec();
            return self.reply(id, |to| to.no_such_channel(&n));
        }
        let chan = String::from_utf8_lossy(name).into_owned();
        self.request_chan(id, chan, op());
    }

    fn cmd_part(&mut self, id: ClientId, m: &Message) {
        let reason = m.params.get(1).map(|r| Bytes::copy_from_slice(r));
        self.chan_request(id, m, "PART", || ChanOp::Part { reason });
    }

    fn cmd_topic(&mut self, id: ClientId, m: &Message) {
        let set = m.params.get(1).map(|r| Bytes::copy_from_slice(r));
        let now = now_secs();
        self.chan_request(id, m, "TOPIC", || ChanOp::Topic { set, now });
    }

    fn cmd_kick(&mut self, id: ClientId, m: &Message) {
        if m.params.len() < 2 {
            return self.reply(id, |to| to.need_more_params("KICK"));
        }
        if self.split_list(id, "KICK", m, 1) {
            return;
        }
        let Some(c) = self.clients.get(&id) else {
            return;
        };
        let target = String::from_utf8_lossy(m.params[1]).into_owned();
        let reason = match m.params.get(2) {
            Some(r) => Bytes::copy_from_slice(r),
            None => Bytes::from(c.nick_or_star().to_string()),
        };
        self.chan_request(id, m, "KICK", || ChanOp::Kick { target, reason });
    }

    /// NAMES of a channel that does not exist, or cannot, is its 366 alone
    /// (modern.ircdocs.horse, NAMES; RFC 2812 lets servers answer 403).
    fn cmd_names(&mut self, id: ClientId, m: &Message) {
        match m.params.first() {
            None => self.reply(id, |to| to.end_of_names("*")),
            Some(n) if !n.contains(&b',') && !valid_channel(n) => {
                let n = String::from_utf8_lossy(super::parse::echo_word(n)).into_owned();
                self.reply(id, |to| to.end_of_names(&n));
            }
            Some(_) => self.chan_request(id, m, "NAMES", || ChanOp::Names),
        }
    }

    /// Applies a channel event's membership change to the local mirror.
    pub(super) fn view_join(&mut self, id: ClientId, chan: &str, name: &str, op: bool) -> bool {
        let Some(c) = self.clients.get_mut(&id).filter(|c| !c.closing) else {
            return false;
        };
        c.channels.insert(
            chan.to_string(),
            ChanView {
                name: name.to_string(),
                op,
                voice: false,
            },
        );
        let v = self.index.entry(chan.to_string()).or_default();
        if !v.contains(&id) {
            v.push(id);
        }
        true
    }
}
