//! Running one client line on its home core: the dispatch, and messaging
//! (PRIVMSG, NOTICE, PING, QUIT). Checks that need only local state happen
//! here; the rest becomes a request to the core that owns the nick or
//! channel. Commands with comma lists are split into one line per target
//! and queued in front, so each target's replies stay together.

use bytes::Bytes;

use super::chan_cmds;
use super::clock::now_secs;
use super::msg::{ChanOp, Msg, NickMsg, NickOp};
use super::numerics::*;
use super::parse::{parse, LineBuilder, Message};
use super::queries;
use super::register;
use super::session::Session;

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
        b"PRIVMSG" => privmsg(s, &m, false),
        b"NOTICE" => privmsg(s, &m, true),
        b"NAMES" => chan_cmds::names(s, &m),
        b"TOPIC" => chan_cmds::topic(s, &m),
        b"KICK" => chan_cmds::kick(s, &m),
        b"MODE" => queries::mode(s, &m),
        b"LIST" => queries::list(s, &m),
        b"WHO" => queries::who(s, &m),
        b"WHOIS" => queries::whois(s, &m),
        b"AWAY" => queries::away(s, &m),
        b"USERHOST" => queries::userhost(s, &m),
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

fn privmsg(s: &mut Session, m: &Message, notice: bool) {
    let verb = if notice { "NOTICE" } else { "PRIVMSG" };
    let Some(target) = m.params.first().filter(|t| !t.is_empty()) else {
        if !notice {
            s.reply(|to| to.text(ERR_NORECIPIENT, format!("No recipient given ({verb})")));
        }
        return;
    };
    let Some(text) = m.params.get(1).filter(|t| !t.is_empty()) else {
        if !notice {
            s.reply(|to| to.text(ERR_NOTEXTTOSEND, "No text to send"));
        }
        return;
    };
    if s.split_list(verb, m, 0) {
        return;
    }
    let Some(c) = s.client_mut() else {
        return;
    };
    c.last_message = now_secs();
    let line = LineBuilder::new(Some(c.prefix.as_bytes()), verb)
        .param(target)
        .trailing(text);
    if target.first() == Some(&b'#') {
        to_channel(s, target, line, notice);
    } else {
        to_nick(s, target, line, notice);
    }
}

fn to_channel(s: &mut Session, target: &[u8], line: Bytes, notice: bool) {
    if !valid_channel(target) {
        if !notice {
            s.reply(|to| to.no_such_channel(target));
        }
        return;
    }
    let chan = String::from_utf8_lossy(target).into_owned();
    let member = s
        .client()
        .is_some_and(|c| c.channels.contains_key(&super::casemap::fold(&chan)));
    // A member's messages need no answer: they all go to one owner, in order.
    let ack = !member;
    let op = ChanOp::Privmsg { line, notice, ack };
    if member {
        s.tell_chan(chan, op);
    } else {
        s.request_chan(chan, op);
    }
}

fn to_nick(s: &mut Session, target: &[u8], line: Bytes, notice: bool) {
    let Ok(nick) = std::str::from_utf8(target) else {
        if !notice {
            s.reply(|to| to.no_such_nick(target));
        }
        return;
    };
    let core = s.mail().nick_owner(nick);
    let req = s.req();
    let op = NickOp::Privmsg { line, notice };
    let target = nick.to_string();
    s.request(core, Msg::Nick(NickMsg::Route { target, req, op }));
}
