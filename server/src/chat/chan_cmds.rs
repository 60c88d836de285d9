//! Channel commands on the client's home core (JOIN, PART, TOPIC, KICK,
//! NAMES, channel MODE): local checks, list splitting, then one request to
//! the channel's owner.

use bytes::Bytes;

use super::casemap;
use super::clock::now_secs;
use super::commands::valid_channel;
use super::msg::ChanOp;
use super::numerics::*;
use super::parse::{echo_word, Message};
use super::register::CHANLIMIT;
use super::session::Session;

pub fn join(s: &mut Session, m: &Message) {
    let Some(list) = m.params.first().filter(|p| !p.is_empty()) else {
        return s.reply(|to| to.need_more_params("JOIN"));
    };
    let clustered = s.mail().is_clustered();
    let Some(c) = s.client() else {
        return;
    };
    if &list[..] == b"0" {
        let parts = c
            .channels
            .values()
            .map(|v| format!("PART {}", v.name).into_bytes())
            .collect();
        return s.run_next(parts);
    }
    if list.contains(&b',') {
        return split_join(s, m, list);
    }
    if !valid_channel(list) {
        return s.reply(|to| to.no_such_channel(list));
    }
    let chan = String::from_utf8_lossy(list).into_owned();
    // Clustered, a PART may be answered before its line is back here: the
    // channel's core knows whether this JOIN is one again.
    if c.channels.contains_key(&casemap::fold(&chan)) && !clustered {
        return;
    }
    if c.channels.len() >= CHANLIMIT {
        let text = "You have joined too many channels";
        return s.reply(|to| to.about(ERR_TOOMANYCHANNELS, &chan, text));
    }
    let Some(info) = s.home().member_info(s.me().id) else {
        return;
    };
    let key = m
        .params
        .get(1)
        .map(|k| String::from_utf8_lossy(k).into_owned());
    s.request_chan(chan, ChanOp::Join { info, key });
}

/// `JOIN #a,#b key1,key2`: the n-th key goes with the n-th channel.
fn split_join(s: &mut Session, m: &Message, list: &[u8]) {
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
    s.run_next(lines);
}

/// Sends `op` to the owner of the channel named by param 0, after the
/// usual checks (461, comma list, 403).
pub fn request(s: &mut Session, m: &Message, verb: &str, op: impl FnOnce() -> ChanOp) {
    let Some(name) = m.params.first().filter(|p| !p.is_empty()) else {
        return s.reply(|to| to.need_more_params(verb));
    };
    if s.split_list(verb, m, 0) {
        return;
    }
    if !valid_channel(name) {
        return s.reply(|to| to.no_such_channel(name));
    }
    let chan = String::from_utf8_lossy(name).into_owned();
    s.request_chan(chan, op());
}

pub fn part(s: &mut Session, m: &Message) {
    let reason = m.params.get(1).map(|r| Bytes::copy_from_slice(r));
    request(s, m, "PART", || ChanOp::Part { reason });
}

pub fn topic(s: &mut Session, m: &Message) {
    let set = m.params.get(1).map(|r| Bytes::copy_from_slice(r));
    let now = now_secs();
    request(s, m, "TOPIC", || ChanOp::Topic { set, now });
}

pub fn kick(s: &mut Session, m: &Message) {
    if m.params.len() < 2 {
        return s.reply(|to| to.need_more_params("KICK"));
    }
    if s.split_list("KICK", m, 1) {
        return;
    }
    let Some(c) = s.client() else {
        return;
    };
    let target = String::from_utf8_lossy(echo_word(m.params[1])).into_owned();
    let reason = match m.params.get(2) {
        Some(r) => Bytes::copy_from_slice(r),
        None => Bytes::from(c.nick_or_star().to_string()),
    };
    request(s, m, "KICK", || ChanOp::Kick { target, reason });
}

/// NAMES of a channel that does not exist, or cannot, is its 366 alone
/// (modern.ircdocs.horse, NAMES; RFC 2812 lets servers answer 403).
pub fn names(s: &mut Session, m: &Message) {
    match m.params.first() {
        None => s.reply(|to| to.end_of_names("*")),
        Some(n) if !n.contains(&b',') && !valid_channel(n) => {
            let n = String::from_utf8_lossy(echo_word(n)).into_owned();
            s.reply(|to| to.end_of_names(&n));
        }
        Some(_) => request(s, m, "NAMES", || ChanOp::Names),
    }
}

pub fn mode(s: &mut Session, m: &Message) {
    let args = m.params[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let now = now_secs();
    request(s, m, "MODE", || ChanOp::Mode { args, now });
}

/// `INVITE <nick> <channel>`, to the channel's owner.
pub fn invite(s: &mut Session, m: &Message) {
    let (Some(nick), Some(chan)) = (m.params.first(), m.params.get(1)) else {
        return s.reply(|to| to.need_more_params("INVITE"));
    };
    if !valid_channel(chan) {
        return s.reply(|to| to.no_such_channel(chan));
    }
    let target = String::from_utf8_lossy(echo_word(nick)).into_owned();
    let chan = String::from_utf8_lossy(chan).into_owned();
    s.request_chan(chan, ChanOp::Invite { target });
}
