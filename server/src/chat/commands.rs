//! Running one client line on its home core: the dispatch, and messaging
//! (PRIVMSG, NOTICE, PING, QUIT). Checks that need only local state happen
//! here; the rest becomes a request to the core that owns the nick or
//! channel. Commands with comma lists are split into one line per target
//! and queued in front, so each target's replies stay together.

use bytes::Bytes;

use super::caps::Cap;
use super::chan_cmds;
use super::clock::now_secs;
use super::msg::{ChanOp, Msg, NickMsg, NickOp};
use super::numerics::*;
use super::parse::{parse, LineBuilder, Message};
use super::queries;
use super::register;
use super::session::Session;
use super::tags::{self, Meta};

/// Channel name syntax: `#`, then no space, comma, BEL or NUL, within CHANNELLEN.
pub fn valid_channel(name: &[u8]) -> bool {
    name.first() == Some(&b'#')
        && name.len() <= register::CHANNELLEN
        && std::str::from_utf8(name).is_ok()
        && !name
            .iter()
            .any(|b| matches!(b, b' ' | b',' | 7 | 0 | b'\r' | b'\n'))
}

pub fn exec(s: &mut Session, line: Bytes) {
    if line.is_empty() {
        return s.reply(|to| to.input_too_long());
    }
    let Some(m) = parse(&line) else {
        return;
    };
    let verb = m.verb.to_ascii_uppercase();
    let registered = s.client().is_some_and(|c| c.registered);
    let labels = s.client().is_some_and(|c| c.caps.has(Cap::LabeledResponse));
    if let Some(label) = tags::tag_value(m.tags, b"label").filter(|_| labels) {
        let label = Bytes::copy_from_slice(super::parse::echo_word(label));
        s.begin_label(label);
    }
    match &verb[..] {
        b"PASS" => return register::pass(s, &m),
        b"NICK" => return register::nick(s, &m),
        b"USER" => return register::user(s, &m),
        b"CAP" => return super::cap_cmd::cap(s, &m),
        b"PING" => return ping(s, &m),
        b"PONG" => return,
        b"QUIT" => return quit(s, &m),
        _ if !registered => return s.reply(|to| to.not_registered()),
        _ => {}
    }
    match &verb[..] {
        b"JOIN" => chan_cmds::join(s, &m),
        b"PART" => chan_cmds::part(s, &m),
        b"PRIVMSG" => privmsg(s, &m, Kind::Privmsg),
        b"NOTICE" => privmsg(s, &m, Kind::Notice),
        b"TAGMSG" => privmsg(s, &m, Kind::Tagmsg),
        b"NAMES" => chan_cmds::names(s, &m),
        b"TOPIC" => chan_cmds::topic(s, &m),
        b"KICK" => chan_cmds::kick(s, &m),
        b"INVITE" => chan_cmds::invite(s, &m),
        b"SETNAME" => queries::setname(s, &m),
        b"MODE" => queries::mode(s, &m),
        b"LIST" => queries::list(s, &m),
        b"WHO" => queries::who(s, &m),
        b"WHOIS" => queries::whois(s, &m),
        b"AWAY" => queries::away(s, &m),
        b"USERHOST" => queries::userhost(s, &m),
        b"ISON" => queries::ison(s, &m),
        b"WHOWAS" => queries::whowas(s, &m),
        b"MONITOR" => super::monitor::monitor(s, &m),
        b"OPER" => super::oper::oper(s, &m),
        b"KILL" => super::oper::kill(s, &m),
        b"LUSERS" => super::welcome::lusers(s),
        b"MOTD" => super::welcome::motd(s),
        _ => {
            let v = m.verb.to_vec();
            s.reply(|to| to.unknown_command(&v));
        }
    }
}

fn ping(s: &mut Session, m: &Message) {
    match m.params.first() {
        Some(token) => {
            let name = s.cfg().name.clone();
            let l = LineBuilder::new(Some(name.as_bytes()), "PONG")
                .param(&name)
                .trailing(token);
            s.send(l);
        }
        None => s.reply(|to| to.text(ERR_NOORIGIN, "No origin specified")),
    }
}

fn quit(s: &mut Session, m: &Message) {
    let reason = match m.params.first() {
        Some(r) => format!("Quit: {}", String::from_utf8_lossy(r)),
        None => "Client Quit".to_string(),
    };
    s.quit(&reason, &reason);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Privmsg,
    Notice,
    /// Tags only (message-tags); errors are silent as for NOTICE.
    Tagmsg,
}

/// What a message carries to its target, whatever the target is.
struct Outgoing {
    line: Bytes,
    notice: bool,
    meta: Meta,
    tags_only: bool,
}

fn privmsg(s: &mut Session, m: &Message, kind: Kind) {
    let verb = match kind {
        Kind::Privmsg => "PRIVMSG",
        Kind::Notice => "NOTICE",
        Kind::Tagmsg => "TAGMSG",
    };
    let loud = kind == Kind::Privmsg;
    let Some(target) = m.params.first().filter(|t| !t.is_empty()) else {
        if loud {
            s.reply(|to| to.text(ERR_NORECIPIENT, format!("No recipient given ({verb})")));
        }
        return;
    };
    let text = m.params.get(1).filter(|t| !t.is_empty());
    if text.is_none() && kind != Kind::Tagmsg {
        if loud {
            s.reply(|to| to.text(ERR_NOTEXTTOSEND, "No text to send"));
        }
        return;
    }
    if s.split_list(verb, m, 0) {
        return;
    }
    let Some(c) = s.client_mut() else {
        return;
    };
    c.messaged(now_secs());
    let b = LineBuilder::new(Some(c.prefix().as_bytes()), verb).param(target);
    let line = match text {
        Some(t) => b.trailing(t),
        None => b.finish(),
    };
    let out = Outgoing {
        line,
        notice: !loud,
        meta: Meta::now(tags::client_only(m.tags)),
        tags_only: kind == Kind::Tagmsg,
    };
    if target.first() == Some(&b'#') {
        to_channel(s, target, out);
    } else {
        to_nick(s, target, out);
    }
}

fn to_channel(s: &mut Session, target: &[u8], out: Outgoing) {
    if !valid_channel(target) {
        if !out.notice {
            s.reply(|to| to.no_such_channel(target));
        }
        return;
    }
    let chan = String::from_utf8_lossy(target).into_owned();
    let member = s
        .client()
        .is_some_and(|c| c.channels.contains_key(&*super::casemap::folded(&chan)));
    // A member's messages need no answer: they all go to one owner, in
    // order. A labeled one waits, so its echo comes inside the label.
    let ack = !member || s.client().is_some_and(|c| c.label().is_some());
    let op = ChanOp::Privmsg {
        line: out.line,
        notice: out.notice,
        ack,
        meta: out.meta,
        tags_only: out.tags_only,
    };
    if ack {
        s.request_chan(chan, op);
    } else {
        s.tell_chan(chan, op);
    }
}

fn to_nick(s: &mut Session, target: &[u8], out: Outgoing) {
    let Ok(nick) = std::str::from_utf8(target) else {
        if !out.notice {
            s.reply(|to| to.no_such_nick(target));
        }
        return;
    };
    let caps = s.client().map(|c| c.caps).unwrap_or_default();
    if caps.has(Cap::EchoMessage) && (!out.tags_only || caps.has(Cap::MessageTags)) {
        s.send(out.meta.render(&out.line, caps));
    }
    let core = s.mail().nick_owner(nick);
    let req = s.req();
    let op = NickOp::Privmsg {
        line: out.line,
        notice: out.notice,
        meta: out.meta,
        tags_only: out.tags_only,
    };
    let target = nick.to_string();
    s.request(core, Msg::Nick(NickMsg::Route { target, req, op }));
}
