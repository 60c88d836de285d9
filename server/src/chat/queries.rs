//! Query commands (LIST, WHO, WHOIS, USERHOST) and a client's own state
//! (AWAY, user MODE): the queries go to the cores that hold the answer
//! and finish with their end numeric once every core has replied.

use bytes::Bytes;

use super::caps::Cap;
use super::chan_cmds;
use super::client::Finish;
use super::commands::valid_channel;
use super::counters::Counters;
use super::msg::{ChanOp, ListFilter, Msg, NickMsg, NickOp, ScatterOp};
use super::numerics::*;
use super::parse::{echo_word, LineBuilder, Message};
use super::session::Session;

pub fn list(s: &mut Session, m: &Message) {
    s.reply(|to| {
        to.num(RPL_LISTSTART)
            .param("Channel")
            .trailing("Users  Name")
    });
    let end = s.reply_line(|to| to.text(RPL_LISTEND, "End of /LIST"));
    s.set_finish(Finish::Lines(vec![end.clone()]));
    let terms = m.param_str(0).unwrap_or("");
    let exact = terms.starts_with('#') && !terms.contains(['*', '?']);
    if !exact {
        // Unknown terms list nothing rather than everything.
        let filter = ListFilter::parse(terms).unwrap_or_else(|| ListFilter {
            fewer_than: Some(0),
            ..ListFilter::default()
        });
        return s.scatter(|| ScatterOp::List(filter.clone()));
    }
    let list = m.params[0];
    for name in list.split(|&b| b == b',').filter(|n| valid_channel(n)) {
        let chan = String::from_utf8_lossy(name).into_owned();
        s.request_chan(chan, ChanOp::List);
    }
    if s.pending() == 0 {
        s.set_finish(Finish::Lines(Vec::new()));
        s.send(end);
    }
}

pub fn who(s: &mut Session, m: &Message) {
    let mask = match m.param_str(0) {
        Some("0") | None => "*".to_string(),
        Some(s) if !s.is_empty() => String::from_utf8_lossy(echo_word(s.as_bytes())).into(),
        _ => "*".to_string(),
    };
    if mask.starts_with('#') {
        return s.request_chan(mask, ChanOp::Who);
    }
    let end = s.reply_line(|to| to.end_of_who(&mask));
    s.set_finish(Finish::Lines(vec![end]));
    if mask.contains(['*', '?']) {
        s.scatter(|| ScatterOp::Who { mask: mask.clone() });
    } else {
        route(s, mask, NickOp::Who);
    }
}

/// Sends `op` to the holder of nick `target`, through the nick's owner.
fn route(s: &mut Session, target: String, op: NickOp) {
    let req = s.req();
    let core = s.mail().nick_owner(&target);
    s.request(core, Msg::Nick(NickMsg::Route { target, req, op }));
}

pub fn whois(s: &mut Session, m: &Message) {
    let target = m
        .params
        .get(1)
        .or(m.params.first())
        .filter(|t| !t.is_empty());
    let Some(target) = target else {
        return s.reply(|to| to.text(ERR_NONICKNAMEGIVEN, "No nickname given"));
    };
    let target = target.split(|&b| b == b',').next().unwrap_or_default();
    let target = String::from_utf8_lossy(target).into_owned();
    route(s, target, NickOp::Whois);
}

pub fn userhost(s: &mut Session, m: &Message) {
    if m.params.is_empty() {
        return s.reply(|to| to.need_more_params("USERHOST"));
    }
    s.set_finish(Finish::Joined(RPL_USERHOST));
    for (slot, nick) in (0u8..).zip(m.params.iter().take(5)) {
        let target = String::from_utf8_lossy(echo_word(nick)).into_owned();
        route(s, target, NickOp::Userhost { slot });
    }
}

/// `ISON nick...`: which of them are online (303), at most 32 asked.
pub fn ison(s: &mut Session, m: &Message) {
    let nicks: Vec<String> = m
        .params
        .iter()
        .flat_map(|p| p.split(|&b| b == b' '))
        .filter(|n| !n.is_empty())
        .take(32)
        .map(|n| String::from_utf8_lossy(echo_word(n)).into_owned())
        .collect();
    if nicks.is_empty() {
        return s.reply(|to| to.need_more_params("ISON"));
    }
    s.set_finish(Finish::Joined(RPL_ISON));
    for (slot, target) in (0u8..).zip(nicks) {
        route(s, target, NickOp::Ison { slot });
    }
}

pub fn away(s: &mut Session, m: &Message) {
    let Some(c) = s.client_mut() else {
        return;
    };
    let msg = m.params.first().filter(|p| !p.is_empty());
    c.set_away(msg.map(|p| Bytes::copy_from_slice(p)));
    let b = LineBuilder::new(Some(c.prefix().as_bytes()), "AWAY");
    let notify = match c.away() {
        Some(text) => b.trailing(text),
        None => b.finish(),
    };
    if c.away().is_some() {
        s.reply(|to| to.text(RPL_NOWAWAY, "You have been marked as being away"));
    } else {
        s.reply(|to| to.text(RPL_UNAWAY, "You are no longer marked as being away"));
    }
    update_channels(s, Some((Cap::AwayNotify, notify)));
}

/// SETNAME (<https://ircv3.net/specs/extensions/setname>): a new realname,
/// seen by the client and by channel members with the cap.
pub fn setname(s: &mut Session, m: &Message) {
    let Some(real) = m.params.first().filter(|p| !p.is_empty()) else {
        return s.reply(|to| to.need_more_params("SETNAME"));
    };
    let server = s.cfg().name.clone();
    if real.len() > 128 {
        let l = LineBuilder::new(Some(server.as_bytes()), "FAIL")
            .param("SETNAME")
            .param("INVALID_REALNAME")
            .trailing("Realname is not valid");
        return s.send(l);
    }
    let Some(c) = s.client_mut() else {
        return;
    };
    let real = String::from_utf8_lossy(real).into_owned();
    c.set_realname(&real);
    let line = LineBuilder::new(Some(c.prefix().as_bytes()), "SETNAME").trailing(real);
    if c.caps.has(Cap::Setname) {
        s.send(line.clone());
    }
    update_channels(s, Some((Cap::Setname, line)));
}

/// Tells the client's channels its away/invisible/realname state (for
/// WHO), with the line members with the cap see.
fn update_channels(s: &mut Session, notify: Option<(Cap, Bytes)>) {
    super::bridge_users::share_profile(s);
    let Some(info) = s.home().member_info(s.me().id) else {
        return;
    };
    let chans: Vec<String> = s
        .client()
        .map(|c| c.channels.keys().cloned().collect())
        .unwrap_or_default();
    for chan in chans {
        let (info, notify) = (info.clone(), notify.clone());
        s.tell_chan(chan, ChanOp::Update { info, notify });
    }
}

pub fn mode(s: &mut Session, m: &Message) {
    let Some(target) = m.param_str(0).filter(|t| !t.is_empty()) else {
        return s.reply(|to| to.need_more_params("MODE"));
    };
    if target.starts_with('#') {
        return chan_cmds::mode(s, m);
    }
    let Some(c) = s.client() else {
        return;
    };
    if !super::casemap::eq(target, c.nick_or_star()) {
        return s.reply(|to| to.text(ERR_USERSDONTMATCH, "Can't change mode for other users"));
    }
    let Some(modes) = m.param_str(1) else {
        let mut modes = String::from("+");
        modes.extend(
            [(c.invisible, 'i'), (c.oper, 'o')]
                .iter()
                .filter(|x| x.0)
                .map(|x| x.1),
        );
        return s.reply(|to| to.num(RPL_UMODEIS).param(modes).finish());
    };
    let mut set = c.invisible;
    let mut plus = true;
    let mut unknown = false;
    for ch in modes.chars() {
        match ch {
            '+' => plus = true,
            '-' => plus = false,
            'i' => set = plus,
            // +o comes only from OPER; -o is allowed but not here yet.
            _ => unknown = true,
        }
    }
    if unknown {
        s.reply(|to| to.text(ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag"));
    }
    set_invisible(s, set);
}

fn set_invisible(s: &mut Session, set: bool) {
    let counters = s.home().counters().clone();
    let Some(c) = s.client_mut().filter(|c| c.invisible != set) else {
        return;
    };
    c.invisible = set;
    Counters::add(&counters.invisible, if set { 1 } else { -1 });
    let nick = c.nick_or_star().to_string();
    let l = LineBuilder::new(Some(c.prefix().as_bytes()), "MODE")
        .param(nick)
        .trailing(if set { "+i" } else { "-i" });
    s.send(l);
    update_channels(s, None);
}

/// `WHOWAS <nick> [count]`, answered by the nick's registry.
pub fn whowas(s: &mut Session, m: &Message) {
    let Some(nick) = m.params.first().filter(|n| !n.is_empty()) else {
        return s.reply(|to| to.text(ERR_NONICKNAMEGIVEN, "No nickname given"));
    };
    let nick = String::from_utf8_lossy(echo_word(nick)).into_owned();
    let count = m
        .param_str(1)
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c > 0)
        .unwrap_or(usize::MAX);
    let req = s.req();
    let core = s.mail().nick_owner(&nick);
    s.request(core, Msg::Nick(NickMsg::Whowas { nick, count, req }));
}
