//! What the cluster answers about users, and nicks lost in a Redis split
//! (`--cluster` only; see `bridge_users`).

use bytes::Bytes;

use super::Shard;
use crate::chat::bridge_users::UserMsg;
use crate::chat::caps::Cap;
use crate::chat::casemap::fold;
use crate::chat::framing::Frame;
use crate::chat::mail::Mail;
use crate::chat::msg::{ClientId, HomeMsg, Msg, NickOp, Req};
use crate::chat::numerics::*;
use crate::chat::registry::no_such_nick;
use crate::chat::tags::Meta;
use crate::cluster::Found;

impl Shard {
    pub(super) fn on_users(&mut self, msg: UserMsg) {
        let server = &self.cfg.name;
        let mail = &mut self.mail;
        match msg {
            UserMsg::Found {
                req,
                op,
                found: Some(found),
                ..
            } => answer(mail, server, req, op, &found),
            UserMsg::Found {
                target, req, op, ..
            } => no_such_nick(mail, server, &target, req, op),
            UserMsg::Watched {
                nick,
                from,
                req,
                online,
            } => {
                let id = from.id;
                mail.post(from.core, Msg::Home(HomeMsg::Monitor { id, nick, online }));
                mail.answer(&req, Vec::new(), None);
            }
            UserMsg::Presence {
                folded,
                spelled,
                online,
            } => self.registry.presence(mail, &folded, &spelled, online),
            UserMsg::Was {
                nick,
                req,
                entries,
                local,
            } => {
                let lines = match entries.is_empty() {
                    true => local,
                    false => whowas(server, &nick, &req, &entries),
                };
                mail.answer(&req, lines, None);
            }
        }
    }

    /// A direct message from another node for local client `id`, with the
    /// tags its caps ask for.
    pub(super) fn direct_from_afar(
        &mut self,
        id: ClientId,
        line: Bytes,
        meta: Meta,
        tags_only: bool,
    ) {
        let Some(caps) = self.home.client(id).map(|c| c.caps) else {
            return;
        };
        if !tags_only || caps.has(Cap::MessageTags) {
            self.home.send(&mut self.mail, id, meta.render(&line, caps));
        }
    }

    /// Another node took the folded `nick` while Redis was split: its
    /// local holder is told and renamed to a guest nick (a NICK to it and
    /// its channels), as servers do on a nick collision.
    pub(super) fn on_nick_lost(&mut self, nick: String) {
        let Some(holder) = self.registry.holder(&nick) else {
            return;
        };
        // Forgotten here only: the claim in Redis is the other node's now.
        self.registry.forget(&nick, holder, None, &mut self.mail);
        let msg = HomeMsg::NickLost {
            id: holder.id,
            nick,
        };
        self.mail.post(holder.core, Msg::Home(msg));
    }

    /// The home's part of `on_nick_lost`: the client, if it still uses the
    /// nick, runs `NICK Guest<n>` as if it had sent it.
    pub(super) fn become_guest(&mut self, id: ClientId, nick: String) {
        let Some(c) = self.home.client(id) else {
            return;
        };
        if c.nick().map(fold).as_deref() != Some(nick.as_str()) {
            return;
        }
        let guest = guest_nick(self.mail.core(), id);
        let text = format!(
            "*** Another server took your nick while the network was split; you are now {guest}"
        );
        self.home
            .reply(&mut self.mail, id, |to| to.text("NOTICE", text));
        let line = Bytes::from(format!("NICK {guest}"));
        self.input(id, Frame::Line(line));
    }
}

/// `Guest` and eight digits, from this process, core and client.
fn guest_nick(core: usize, id: ClientId) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_usize(core);
    h.write_u64(id);
    format!("Guest{:08}", h.finish() % 100_000_000)
}

/// The answer to `op` about a user held on another node.
fn answer(mail: &mut Mail, server: &str, req: Req, op: NickOp, found: &Found) {
    let to = To {
        server,
        nick: &req.nick,
    };
    let p = &found.profile;
    // A holder that has not shared its profile yet shows `*`.
    let s = |b: &Bytes| match b.is_empty() {
        true => "*".to_string(),
        false => String::from_utf8_lossy(b).into_owned(),
    };
    let nick = s(&p.nick);
    match op {
        NickOp::Whois => {
            let mut lines = vec![to
                .num(RPL_WHOISUSER)
                .param(&nick)
                .param(s(&p.user))
                .param(s(&p.host))
                .param("*")
                .trailing(&p.realname)];
            lines.push(
                to.num(RPL_WHOISSERVER)
                    .param(&nick)
                    .param(s(&found.node))
                    .trailing("uringo chat, another node of the network"),
            );
            if !p.away.is_empty() {
                lines.push(to.num(RPL_AWAY).param(&nick).trailing(&p.away));
            }
            lines.push(to.about(RPL_ENDOFWHOIS, &nick, "End of /WHOIS list"));
            mail.answer(&req, lines, None);
        }
        NickOp::Ison { slot } => mail.answer(&req, Vec::new(), Some((slot, nick))),
        NickOp::Userhost { slot } => {
            let away = if p.away.is_empty() { '+' } else { '-' };
            let frag = format!("{nick}={away}{}@{}", s(&p.user), s(&p.host));
            mail.answer(&req, Vec::new(), Some((slot, frag)));
        }
        op => no_such_nick(mail, server, &nick, req, op),
    }
}

/// 314 per entry, then 369.
fn whowas(server: &str, nick: &str, req: &Req, entries: &[[Bytes; 4]]) -> Vec<Bytes> {
    let to = To {
        server,
        nick: &req.nick,
    };
    let s = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
    let mut lines: Vec<Bytes> = entries
        .iter()
        .map(|[n, user, host, real]| {
            to.num(RPL_WHOWASUSER)
                .param(s(n))
                .param(s(user))
                .param(s(host))
                .param("*")
                .trailing(s(real))
        })
        .collect();
    let shown = crate::chat::parse::echo_word(nick.as_bytes());
    lines.push(to.about(RPL_ENDOFWHOWAS, shown, "End of WHOWAS"));
    lines
}
