//! IRC operators: OPER against the `--oper NAME:PASSWORD` credentials,
//! and KILL, which only operators may use.

use super::counters::Counters;
use super::msg::{Msg, NickMsg, NickOp};
use super::numerics::*;
use super::parse::{echo_word, LineBuilder, Message};
use super::session::Session;

pub fn oper(s: &mut Session, m: &Message) {
    let (Some(name), Some(pass)) = (m.params.first(), m.params.get(1)) else {
        return s.reply(|to| to.need_more_params("OPER"));
    };
    let cfg = s.cfg();
    if cfg.opers.is_empty() {
        return s.reply(|to| to.text(ERR_NOOPERHOST, "No O-lines for your host"));
    }
    // Every entry is compared in full, so timing says nothing of which
    // part was wrong.
    let ok = cfg.opers.iter().fold(false, |ok, (n, p)| {
        ok | (same(n.as_bytes(), name) & same(p.as_bytes(), pass))
    });
    if !ok {
        return s.reply(|to| to.text(ERR_PASSWDMISMATCH, "Password incorrect"));
    }
    let counters = s.home().counters().clone();
    let Some(c) = s.client_mut() else {
        return;
    };
    if !c.oper {
        c.oper = true;
        Counters::add(&counters.opers, 1);
        let l = LineBuilder::new(Some(c.prefix().as_bytes()), "MODE")
            .param(c.nick_or_star())
            .trailing("+o");
        s.send(l);
    }
    s.reply(|to| to.text(RPL_YOUREOPER, "You are now an IRC operator"));
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// `KILL <nick> :<reason>`: the target is disconnected with the reason.
pub fn kill(s: &mut Session, m: &Message) {
    if !s.client().is_some_and(|c| c.oper) {
        let text = "Permission Denied- You're not an IRC operator";
        return s.reply(|to| to.text(ERR_NOPRIVILEGES, text));
    }
    let (Some(nick), Some(reason)) = (m.params.first(), m.params.get(1)) else {
        return s.reply(|to| to.need_more_params("KILL"));
    };
    let target = String::from_utf8_lossy(echo_word(nick)).into_owned();
    let by = s
        .client()
        .map(|c| c.nick_or_star().to_string())
        .unwrap_or_default();
    let reason = String::from_utf8_lossy(reason).into_owned();
    let req = s.req();
    let core = s.mail().nick_owner(&target);
    let op = NickOp::Kill { by, reason };
    s.request(core, Msg::Nick(NickMsg::Route { target, req, op }));
}
