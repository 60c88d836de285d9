//! Requests answered by a client's home about that client (routed there by
//! the nick registry): a private message, WHOIS, WHO, USERHOST; and WHO
//! masks answered from every local client.

use bytes::Bytes;

use super::caps::Cap;
use super::casemap::glob;
use super::channel::{who_line, LIST_CHUNK};
use super::client::Client;
use super::clock::now_secs;
use super::home::Home;
use super::mail::Mail;
use super::msg::{ClientId, MemberInfo, NickOp, Req};
use super::numerics::*;
use super::registry::no_such_nick;

pub fn at_client(
    home: &mut Home,
    mail: &mut Mail,
    id: ClientId,
    target: &str,
    req: Req,
    op: NickOp,
) {
    let server = home.cfg().name.clone();
    let Some(c) = home.client(id).filter(|c| c.registered && !c.closing) else {
        return no_such_nick(mail, &server, target, req, op);
    };
    let to = To {
        server: &server,
        nick: &req.nick,
    };
    let nick = c.nick_or_star().to_string();
    match op {
        NickOp::Privmsg {
            line,
            notice,
            meta,
            tags_only,
        } => {
            let away = (!notice).then(|| c.away().cloned()).flatten();
            if !tags_only || c.caps.has(Cap::MessageTags) {
                let line = meta.render(&line, c.caps);
                home.send(mail, id, line);
            }
            let lines = match away {
                Some(a) => vec![to.num(RPL_AWAY).param(&nick).trailing(a)],
                None => Vec::new(),
            };
            mail.answer(&req, lines, None);
        }
        NickOp::Ison { slot } => mail.answer(&req, Vec::new(), Some((slot, nick))),
        NickOp::Kill { by, reason } => {
            let text = format!("Killed ({by} ({reason}))");
            home.quit(mail, id, &text, &text);
            mail.answer(&req, Vec::new(), None);
        }
        NickOp::Invite { line, chan } => {
            let away = c.away().cloned();
            home.send(mail, id, line);
            let mut lines = vec![to.num(RPL_INVITING).param(&nick).param(&chan).finish()];
            if let Some(a) = away {
                lines.push(to.num(RPL_AWAY).param(&nick).trailing(a));
            }
            mail.answer(&req, lines, None);
        }
        NickOp::Whois => {
            let lines = whois(&to, c, &req, mail.core());
            mail.answer(&req, lines, None);
        }
        NickOp::Who => {
            let lines = vec![who_line(&to, "*", &info(c), flags(c))];
            mail.answer(&req, lines, None);
        }
        NickOp::Userhost { slot } => {
            let (user, _) = c.user_real();
            let away = if c.away().is_some() { '-' } else { '+' };
            let op = if c.oper { "*" } else { "" };
            let frag = format!("{nick}{op}={away}{user}@{}", c.host());
            mail.answer(&req, Vec::new(), Some((slot, frag)));
        }
    }
}

fn whois(to: &To, c: &Client, req: &Req, core: usize) -> Vec<Bytes> {
    let nick = c.nick_or_star();
    let (user, realname) = c.user_real();
    let mut lines = vec![to
        .num(RPL_WHOISUSER)
        .param(nick)
        .param(user)
        .param(c.host())
        .param("*")
        .trailing(realname)];
    let multi = req.caps.has(Cap::MultiPrefix);
    let mut chans: Vec<String> = c
        .channels
        .values()
        .map(|v| {
            let p = match (v.op, v.voice, multi) {
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
            lines.push(to.num(RPL_WHOISCHANNELS).param(nick).trailing(&cur));
            cur.clear();
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&ch);
    }
    if !cur.is_empty() {
        lines.push(to.num(RPL_WHOISCHANNELS).param(nick).trailing(&cur));
    }
    lines.push(
        to.num(RPL_WHOISSERVER)
            .param(nick)
            .param(to.server)
            .trailing(format!("uringo chat, core {core}")),
    );
    if c.oper {
        lines.push(to.about(RPL_WHOISOPERATOR, nick, "is an IRC operator"));
    }
    if let Some(a) = c.away() {
        lines.push(to.num(RPL_AWAY).param(nick).trailing(a));
    }
    let idle = now_secs().saturating_sub(c.last_message());
    lines.push(
        to.num(RPL_WHOISIDLE)
            .param(nick)
            .param(idle.to_string())
            .param(c.signon().to_string())
            .trailing("seconds idle, signon time"),
    );
    lines.push(to.about(RPL_ENDOFWHOIS, nick, "End of /WHOIS list"));
    lines
}

/// WHO entries of the local clients matching `mask` (nick, host, user or
/// realname); invisible clients only for themselves.
pub fn who_mask(home: &Home, req: &Req, mask: &str) -> Vec<Bytes> {
    let server = home.cfg().name.clone();
    let to = To {
        server: &server,
        nick: &req.nick,
    };
    let mut lines = Vec::new();
    for id in home.ids() {
        let Some(c) = home.client(id) else {
            continue;
        };
        let me = home.me(id) == req.from;
        if !c.registered || c.closing || (c.invisible && !me) {
            continue;
        }
        let i = info(c);
        if [&i.nick, &i.host, &i.user, &i.realname]
            .iter()
            .any(|s| glob(mask, s))
        {
            lines.push(who_line(&to, "*", &i, flags(c)));
        }
    }
    lines
}

fn flags(c: &Client) -> &'static str {
    match (c.away().is_some(), c.oper) {
        (false, false) => "H",
        (true, false) => "G",
        (false, true) => "H*",
        (true, true) => "G*",
    }
}

fn info(c: &Client) -> MemberInfo {
    let (user, realname) = c.user_real();
    MemberInfo {
        nick: c.nick_or_star().to_string(),
        user: user.to_string(),
        host: c.host().to_string(),
        realname: realname.to_string(),
        away: false,
        invisible: false,
    }
}
