//! Registration (PASS, NICK, USER) and nick changes on the client's home
//! core. A nick is claimed at the nick registry of its owner before anyone
//! sees it, so two cores can never both grant it.

use super::casemap::{self, fold};
use super::msg::{ChanOp, Msg, NickMsg};
use super::numerics::*;
use super::parse::{LineBuilder, Message};
use super::session::Session;
use super::welcome;

pub const NICKLEN: usize = 30;
pub const CHANNELLEN: usize = 50;
/// Channels one client may be in at once (CHANLIMIT).
pub const CHANLIMIT: usize = 100;

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

fn already_registered(s: &mut Session) -> bool {
    let registered = s.client().is_some_and(|c| c.registered);
    if registered {
        s.reply(|to| to.text(ERR_ALREADYREGISTERED, "You may not reregister"));
    }
    registered
}

pub fn pass(s: &mut Session, m: &Message) {
    if already_registered(s) {
        return;
    }
    match (m.params.first(), s.client_mut()) {
        (Some(p), Some(c)) => c.set_pass(Some(p.to_vec())),
        (None, _) => s.reply(|to| to.need_more_params("PASS")),
        _ => {}
    }
}

pub fn user(s: &mut Session, m: &Message) {
    if already_registered(s) {
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
            let real = String::from_utf8_lossy(real).into_owned();
            if let Some(c) = s.client_mut() {
                c.set_user(&u, &real);
            }
            welcome::try_register(s);
        }
        _ => s.reply(|to| to.need_more_params("USER")),
    }
}

pub fn nick(s: &mut Session, m: &Message) {
    let Some(raw) = m.params.first().filter(|p| !p.is_empty()) else {
        return s.reply(|to| to.text(ERR_NONICKNAMEGIVEN, "No nickname given"));
    };
    if !valid_nick(raw) {
        return s.reply(|to| to.erroneous_nick(raw));
    }
    // valid_nick admits ASCII only.
    let new = String::from_utf8_lossy(raw).into_owned();
    let Some(c) = s.client() else {
        return;
    };
    match c.nick() {
        Some(old) if old == new => {}
        Some(old) if casemap::eq(old, &new) => apply_nick(s, new),
        _ => {
            let from = s.me();
            let core = s.mail().nick_owner(&new);
            s.request(core, Msg::Nick(NickMsg::Claim { nick: new, from }));
        }
    }
}

/// The registry's answer to a nick claim.
pub fn on_nick_result(s: &mut Session, nick: String, ok: bool) {
    if s.client().is_none_or(|c| c.closing) {
        if ok {
            release(s, &nick);
        }
    } else if ok {
        apply_nick(s, nick);
    } else {
        s.reply(|to| to.about(ERR_NICKNAMEINUSE, &nick, "Nickname is already in use"));
    }
}

fn release(s: &mut Session, nick: &str) {
    let (folded, from) = (fold(nick), s.me());
    let was = s.client().map(|c| super::home::was(c, nick));
    let msg = NickMsg::Release { folded, from, was };
    s.mail().send_registry(nick, msg);
}

/// The nick is ours: switch to it, tell the client and its channels.
fn apply_nick(s: &mut Session, new: String) {
    let Some(c) = s.client_mut() else {
        return;
    };
    let registered = c.registered;
    let old_prefix = c.prefix().to_string();
    let old = c.set_nick(&new);
    let chans: Vec<String> = c.channels.keys().cloned().collect();
    if let Some(old) = old.filter(|o| fold(o) != fold(&new)) {
        release(s, &old);
    }
    if !registered {
        return welcome::try_register(s);
    }
    let line = LineBuilder::new(Some(old_prefix.as_bytes()), "NICK").trailing(&new);
    // A peer sharing several channels gets the line from each owner;
    // with one channel there is nothing to de-duplicate.
    let dedup = (chans.len() > 1).then(|| s.new_event());
    s.send(line.clone());
    super::bridge_users::share_profile(s);
    for chan in chans {
        let (new_nick, line) = (new.clone(), line.clone());
        s.tell_chan(
            chan,
            ChanOp::NickChange {
                new_nick,
                line,
                dedup,
            },
        );
    }
}
