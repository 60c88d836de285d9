//! MONITOR (<https://ircv3.net/specs/extensions/monitor>): a client's list
//! of nicks whose coming and going it is told of (730/731). The list lives
//! with the client; each nick's registry keeps who watches it.

use super::msg::{Msg, NickMsg};
use super::numerics::*;
use super::parse::{echo_word, Message};
use super::session::Session;

/// Nicks one client may monitor (MONITOR=100).
pub const LIMIT: usize = 100;

pub fn monitor(s: &mut Session, m: &Message) {
    let sub = m.param_str(0).unwrap_or("").to_ascii_uppercase();
    let targets: Vec<String> = m
        .params
        .get(1)
        .map(|t| {
            t.split(|&b| b == b',')
                .filter(|n| !n.is_empty())
                .map(|n| String::from_utf8_lossy(echo_word(n)).into_owned())
                .collect()
        })
        .unwrap_or_default();
    match sub.as_str() {
        "+" if !targets.is_empty() => add(s, targets),
        "-" if !targets.is_empty() => {
            for t in targets {
                forget(s, &t);
            }
        }
        "C" => {
            let all: Vec<String> = s
                .client()
                .map(|c| c.monitor().values().cloned().collect())
                .unwrap_or_default();
            for t in all {
                forget(s, &t);
            }
        }
        "L" => list(s),
        "S" => {
            let all: Vec<String> = s
                .client()
                .map(|c| c.monitor().values().cloned().collect())
                .unwrap_or_default();
            for t in all {
                watch(s, t, true);
            }
        }
        _ => s.reply(|to| to.need_more_params("MONITOR")),
    }
}

fn add(s: &mut Session, targets: Vec<String>) {
    for (i, t) in targets.iter().enumerate() {
        let Some(c) = s.client_mut() else {
            return;
        };
        let key = super::casemap::fold(t);
        if c.monitor().contains_key(&key) {
            continue;
        }
        if c.monitor().len() >= LIMIT {
            let rest = targets[i..].join(",");
            let limit = LIMIT.to_string();
            let full = s.reply_line(|to| {
                to.num(ERR_MONLISTFULL)
                    .param(limit)
                    .param(rest)
                    .trailing("Monitor list is full")
            });
            return s.send_last(full);
        }
        c.monitor_insert(key, t.clone());
        watch(s, t.clone(), true);
    }
}

fn forget(s: &mut Session, nick: &str) {
    let key = super::casemap::fold(nick);
    if s.client_mut()
        .and_then(|c| c.monitor_remove(&key))
        .is_some()
    {
        watch(s, nick.to_string(), false);
    }
}

/// Tells the nick's registry; when starting, it answers with 730 or 731.
fn watch(s: &mut Session, nick: String, on: bool) {
    let from = s.me();
    let core = s.mail().nick_owner(&nick);
    let answer = on.then(|| s.req());
    let msg = Msg::Nick(NickMsg::Watch {
        nick,
        from,
        on,
        answer,
    });
    if on {
        s.request(core, msg);
    } else {
        s.mail().post(core, msg);
    }
}

fn list(s: &mut Session) {
    let all: Vec<String> = s
        .client()
        .map(|c| c.monitor().values().cloned().collect())
        .unwrap_or_default();
    // 732 lines of at most ~400 bytes of nicks each.
    let mut chunk = String::new();
    for n in all {
        if !chunk.is_empty() && chunk.len() + n.len() > 400 {
            let line = std::mem::take(&mut chunk);
            s.reply(|to| to.text(RPL_MONLIST, line));
        }
        if !chunk.is_empty() {
            chunk.push(',');
        }
        chunk.push_str(&n);
    }
    if !chunk.is_empty() {
        s.reply(|to| to.text(RPL_MONLIST, chunk));
    }
    s.reply(|to| to.text(RPL_ENDOFMONLIST, "End of MONITOR list"));
}
