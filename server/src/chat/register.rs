//! Registration (PASS, NICK, USER, CAP), nick changes, and the nick
//! registry a core keeps for the nicks it owns. A nick is claimed at its
//! owner before anyone sees it, so two cores can never both grant it.

use super::casemap::{self, fold};
use super::msg::{ChanOp, ClientId, ClientRef, Msg};
use super::numerics::*;
use super::parse::{LineBuilder, Message};
use super::shard::{Counters, Shard};

pub const NICKLEN: usize = 30;
pub const CHANNELLEN: usize = 50;
/// Channels one client may be in at once (CHANLIMIT).
pub const CHANLIMIT: usize = 100;
const CAPS: &str = "multi-prefix";

/// Nick syntax (RFC 2812): a letter or special first, then letters,
/// digits, specials or '-'.
pub fn valid_nick(n: &[u8]) -> bool {
    let special = |b: u8| b"[]\\`_^{|}".contains(&b);
    match n.first() {
        Some(&f) if f.is_ascii_alphabetic() || special(f) => {}
        _ => return false,
    }
    n.len() <= NICKLEN
        && n.iter()
            .all(|&b| b.is_ascii_alphanumeric() || special(b) || b == b'-')
}

impl Shard {
    pub(super) fn cmd_pass(&mut self, id: ClientId, m: &Message) {
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        if c.registered {
            self.reply(id, |to| {
                to.text(ERR_ALREADYREGISTERED, "You may not reregister")
            });
        } else if let Some(p) = m.params.first() {
            c.pass = Some(p.to_vec());
        } else {
            self.reply(id, |to| to.need_more_params("PASS"));
        }
    }

    pub(super) fn cmd_user(&mut self, id: ClientId, m: &Message) {
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        if c.registered {
            self.reply(id, |to| {
                to.text(ERR_ALREADYREGISTERED, "You may not reregister")
            });
            return;
        }
        let user = m.params.first().map(|u| String::from_utf8_lossy(u));
        match (user, m.params.get(3)) {
            // An empty realname is as missing as no realname
            // (modern.ircdocs.horse, USER: "<realname> ... must not be empty").
            (Some(u), Some(real)) if !u.is_empty() && !real.is_empty() => {
                let u: String = u
                    .chars()
                    .filter(|c| c.is_ascii_graphic() && *c != '@' && *c != '!')
                    .take(10)
                    .collect();
                let u = if u.is_empty() { "user".into() } else { u };
                c.user = Some((u, String::from_utf8_lossy(real).into_owned()));
                self.try_register(id);
            }
            _ => self.reply(id, |to| to.need_more_params("USER")),
        }
    }

    pub(super) fn cmd_nick(&mut self, id: ClientId, m: &Message) {
        let Some(raw) = m.params.first().filter(|p| !p.is_empty()) else {
            self.reply(id, |to| to.text(ERR_NONICKNAMEGIVEN, "No nickname given"));
            return;
        };
        if !valid_nick(raw) {
            let raw = raw.to_vec();
            self.reply(id, |to| to.erroneous_nick(&raw));
            return;
        }
        // valid_nick admits ASCII only.
        let new = String::from_utf8_lossy(raw).into_owned();
        let Some(c) = self.clients.get(&id) else {
            return;
        };
        match c.nick.as_deref() {
            Some(old) if old == new => {}
            Some(old) if casemap::eq(old, &new) => self.apply_nick(id, new),
            _ => {
                let from = ClientRef {
                    core: self.core,
                    id,
                };
                let core = casemap::owner(&new, self.cores());
                self.request(id, core, Msg::ClaimNick { nick: new, from });
            }
        }
    }

    pub(super) fn on_claim_nick(&mut self, nick: String, from: ClientRef) {
        let key = fold(&nick);
        let ok = match self.nicks.get(&key) {
            Some(holder) => *holder == from,
            None => {
                self.nicks.insert(key, from);
                true
            }
        };
        self.post(
            from.core,
            Msg::NickResult {
                id: from.id,
                nick,
                ok,
            },
        );
    }

    pub(super) fn on_nick_result(&mut self, id: ClientId, nick: String, ok: bool) {
        let me = ClientRef {
            core: self.core,
            id,
        };
        if self.clients.get(&id).is_none_or(|c| c.closing) {
            if ok {
                self.release_nick(&nick, me);
            }
            self.on_reply(id, Vec::new(), None, true);
            return;
        }
        if ok {
            self.apply_nick(id, nick);
        } else {
            self.reply(id, |to| {
                to.about(ERR_NICKNAMEINUSE, &nick, "Nickname is already in use")
            });
        }
        self.on_reply(id, Vec::new(), None, true);
    }

    /// The nick is ours: switch to it, tell the client and its channels.
    fn apply_nick(&mut self, id: ClientId, new: String) {
        let me = ClientRef {
            core: self.core,
            id,
        };
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        let old = c.nick.replace(new.clone());
        let registered = c.registered;
        let old_prefix = std::mem::take(&mut c.prefix);
        if let Some((user, _)) = &c.user {
            c.prefix = format!("{new}!{user}@{}", c.host);
        }
        let chans: Vec<String> = c.channels.keys().cloned().collect();
        if let Some(old) = old.filter(|o| fold(o) != fold(&new)) {
            self.release_nick(&old, me);
        }
        if !registered {
            self.try_register(id);
            return;
        }
        let line = LineBuilder::new(Some(old_prefix.as_bytes()), "NICK").trailing(&new);
        // A peer sharing several channels gets the line from each owner;
        // with one channel there is nothing to de-duplicate.
        let dedup = (chans.len() > 1).then(|| self.new_event());
        self.send(id, line.clone());
        for chan in chans {
            let req = self.req(id);
            self.post_to_owner(
                &chan.clone(),
                Msg::Chan {
                    chan,
                    req,
                    op: ChanOp::NickChange {
                        new_nick: new.clone(),
                        line: line.clone(),
                        dedup,
                    },
                },
            );
        }
    }

    pub(super) fn release_nick(&mut self, nick: &str, who: ClientRef) {
        self.post_to_owner(
            nick,
            Msg::ReleaseNick {
                folded: fold(nick),
                from: who,
            },
        );
    }

    pub(super) fn cmd_cap(&mut self, id: ClientId, m: &Message) {
        let sub = m.param_str(0).unwrap_or("").to_ascii_uppercase();
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        let nick = c.nick_or_star().to_string();
        let server = self.cfg.name.clone();
        let cap = |verb: &str, text: &str| {
            LineBuilder::new(Some(server.as_bytes()), "CAP")
                .param(&nick)
                .param(verb)
                .trailing(text)
        };
        match sub.as_str() {
            "LS" => {
                if !c.registered {
                    c.cap_negotiating = true;
                }
                let l = cap("LS", CAPS);
                self.send(id, l);
            }
            "LIST" => {
                let l = cap("LIST", if c.multi_prefix { CAPS } else { "" });
                self.send(id, l);
            }
            "REQ" => {
                if !c.registered {
                    c.cap_negotiating = true;
                }
                let want = m.params.get(1).copied().unwrap_or_default();
                let want = String::from_utf8_lossy(want).into_owned();
                let mut enable = None;
                let known = want.split(' ').filter(|w| !w.is_empty()).all(|w| match w {
                    "multi-prefix" => {
                        enable = Some(true);
                        true
                    }
                    "-multi-prefix" => {
                        enable = Some(false);
                        true
                    }
                    _ => false,
                });
                if known {
                    if let Some(e) = enable {
                        c.multi_prefix = e;
                    }
                    let l = cap("ACK", &want);
                    self.send(id, l);
                } else {
                    let l = cap("NAK", &want);
                    self.send(id, l);
                }
            }
            "END" => {
                c.cap_negotiating = false;
                self.try_register(id);
            }
            _ => {
                let sub =
                    super::parse::echo_word(m.params.first().copied().unwrap_or(b"*")).to_vec();
                self.reply(id, |to| {
                    to.about(ERR_INVALIDCAPCMD, sub, "Invalid CAP command")
                });
            }
        }
    }

    /// Completes registration once NICK (granted), USER and CAP END are in.
    pub(super) fn try_register(&mut self, id: ClientId) {
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        if c.registered || c.cap_negotiating || c.nick.is_none() || c.user.is_none() {
            return;
        }
        if let Some(want) = &self.cfg.password {
            if c.pass.as_deref() != Some(want.as_bytes()) {
                let l = super::numerics::To::new(&self.cfg.name, c.nick.as_deref())
                    .text(ERR_PASSWDMISMATCH, "Password incorrect");
                self.send(id, l);
                self.quit(id, "Bad password", "Bad password");
                return;
            }
        }
        c.registered = true;
        let nick = c.nick.clone().unwrap_or_default();
        let user = c.user.as_ref().map(|u| u.0.clone()).unwrap_or_default();
        c.prefix = format!("{nick}!{user}@{}", c.host);
        let prefix = c.prefix.clone();
        Counters::add(&self.counters.unknown, -1);
        Counters::add(&self.counters.users, 1);
        let users = Counters::get(&self.counters.users);
        self.counters
            .max_users
            .fetch_max(users, std::sync::atomic::Ordering::Relaxed);
        let cfg = self.cfg.clone();
        let version = concat!("uringo-", env!("CARGO_PKG_VERSION"));
        self.reply(id, |to| {
            to.text(
                RPL_WELCOME,
                format!("Welcome to the {} IRC Network {prefix}", cfg.network),
            )
        });
        self.reply(id, |to| {
            to.text(
                RPL_YOURHOST,
                format!("Your host is {}, running version {version}", cfg.name),
            )
        });
        self.reply(id, |to| {
            to.text(
                RPL_CREATED,
                format!("This server was created {}", cfg.created),
            )
        });
        self.reply(id, |to| {
            to.num(RPL_MYINFO)
                .param(&cfg.name)
                .param(version)
                .param("i")
                .param("knost")
                .finish()
        });
        let isupport = [
            "CASEMAPPING=rfc1459".to_string(),
            "CHANTYPES=#".into(),
            format!("CHANLIMIT=#:{CHANLIMIT}"),
            format!("CHANNELLEN={CHANNELLEN}"),
            format!("NICKLEN={NICKLEN}"),
            "PREFIX=(ov)@+".into(),
            "CHANMODES=b,k,,nst".into(),
            format!("NETWORK={}", cfg.network),
            "MODES=4".into(),
            "TARGMAX=PRIVMSG:4,NOTICE:4,JOIN:,PART:,NAMES:,LIST:,USERHOST:5".into(),
        ];
        self.reply(id, |to| {
            let mut b = to.num(RPL_ISUPPORT);
            for t in &isupport {
                b = b.param(t);
            }
            b.trailing("are supported by this server")
        });
        self.send_lusers(id);
        self.send_motd(id);
    }

    pub(super) fn send_lusers(&mut self, id: ClientId) {
        let k = &self.counters;
        let users = Counters::get(&k.users);
        let inv = Counters::get(&k.invisible);
        let unknown = Counters::get(&k.unknown).to_string();
        let chans = Counters::get(&k.channels).to_string();
        let max = Counters::get(&k.max_users).max(users);
        let counts = format!("Current users {users}, max {max}");
        self.reply(id, |to| {
            to.text(
                RPL_LUSERCLIENT,
                format!(
                    "There are {} users and {inv} invisible on 1 servers",
                    users - inv
                ),
            )
        });
        self.reply(id, |to| to.about(RPL_LUSEROP, "0", "operator(s) online"));
        self.reply(id, |to| {
            to.about(RPL_LUSERUNKNOWN, unknown, "unknown connection(s)")
        });
        self.reply(id, |to| {
            to.about(RPL_LUSERCHANNELS, chans, "channels formed")
        });
        self.reply(id, |to| {
            to.text(RPL_LUSERME, format!("I have {users} clients and 0 servers"))
        });
        for code in [RPL_LOCALUSERS, RPL_GLOBALUSERS] {
            self.reply(id, |to| {
                to.num(code)
                    .param(users.to_string())
                    .param(max.to_string())
                    .trailing(&counts)
            });
        }
    }

    pub(super) fn send_motd(&mut self, id: ClientId) {
        let cfg = self.cfg.clone();
        let Some(motd) = &cfg.motd else {
            self.reply(id, |to| to.text(ERR_NOMOTD, "MOTD File is missing"));
            return;
        };
        self.reply(id, |to| {
            to.text(
                RPL_MOTDSTART,
                format!("- {} Message of the day - ", cfg.name),
            )
        });
        for l in motd {
            self.reply(id, |to| to.text(RPL_MOTD, format!("- {l}")));
        }
        self.reply(id, |to| to.text(RPL_ENDOFMOTD, "End of /MOTD command."));
    }
}
