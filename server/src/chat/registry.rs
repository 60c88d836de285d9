//! The nick registry: the nicks this core owns (those `owner(nick)` maps
//! here) and who holds each. A nick is claimed here before anyone sees it,
//! so two cores can never both grant it; requests addressed to a nick pass
//! through here to the holder's home.

use std::collections::HashMap;

use bytes::Bytes;

use super::casemap::fold;
use super::mail::Mail;
use super::msg::{ClientRef, HomeMsg, Msg, NickMsg, NickOp, Req};
use super::numerics::*;

#[derive(Default)]
pub struct NickRegistry {
    /// Folded nick -> holder.
    nicks: HashMap<String, ClientRef>,
}

impl NickRegistry {
    /// Grants `nick` to `from` unless someone else holds it.
    pub fn claim(&mut self, nick: &str, from: ClientRef) -> bool {
        *self.nicks.entry(fold(nick)).or_insert(from) == from
    }

    pub fn release(&mut self, folded: &str, from: ClientRef) {
        if self.nicks.get(folded) == Some(&from) {
            self.nicks.remove(folded);
        }
    }

    pub fn holder(&self, nick: &str) -> Option<ClientRef> {
        self.nicks.get(&fold(nick)).copied()
    }

    pub fn handle(&mut self, msg: NickMsg, mail: &mut Mail, server: &str) {
        match msg {
            NickMsg::Claim { nick, from } => {
                let ok = self.claim(&nick, from);
                let id = from.id;
                let msg = HomeMsg::NickResult { id, nick, ok };
                mail.post(from.core, Msg::Home(msg));
            }
            NickMsg::Release { folded, from } => self.release(&folded, from),
            NickMsg::Route { target, req, op } => match self.holder(&target) {
                Some(r) => {
                    let id = r.id;
                    let msg = HomeMsg::AtClient {
                        id,
                        target,
                        req,
                        op,
                    };
                    mail.post(r.core, Msg::Home(msg));
                }
                None => no_such_nick(mail, server, &target, req, op),
            },
            NickMsg::Check {
                req,
                lines,
                chan,
                targets,
            } => self.check(mail, server, req, lines, chan, targets),
        }
    }

    /// Adds 441 (exists) or 401 (does not) for each leading target this
    /// core owns, then passes the rest on; the last owner answers.
    fn check(
        &self,
        mail: &mut Mail,
        server: &str,
        req: Req,
        mut lines: Vec<Bytes>,
        chan: String,
        mut targets: Vec<String>,
    ) {
        let to = To {
            server,
            nick: &req.nick,
        };
        while let Some(t) = targets.first() {
            if mail.nick_owner(t) != mail.core() {
                let first = t.clone();
                let msg = NickMsg::Check {
                    req,
                    lines,
                    chan,
                    targets,
                };
                return mail.send_registry(&first, msg);
            }
            let t = targets.remove(0);
            lines.push(match self.holder(&t) {
                Some(_) => to
                    .num(ERR_USERNOTINCHANNEL)
                    .param(&t)
                    .param(&chan)
                    .trailing("They aren't on that channel"),
                None => to.no_such_nick(t.as_bytes()),
            });
        }
        mail.answer(&req, lines, None);
    }
}

/// The answer to a request for a nick nobody (registered) holds.
pub fn no_such_nick(mail: &mut Mail, server: &str, target: &str, req: Req, op: NickOp) {
    let to = To {
        server,
        nick: &req.nick,
    };
    let lines = match op {
        NickOp::Privmsg { notice: false, .. } | NickOp::Invite { .. } => {
            vec![to.no_such_nick(target.as_bytes())]
        }
        NickOp::Whois => vec![
            to.no_such_nick(target.as_bytes()),
            to.about(
                RPL_ENDOFWHOIS,
                super::parse::echo_word(target.as_bytes()),
                "End of /WHOIS list",
            ),
        ],
        _ => Vec::new(),
    };
    mail.answer(&req, lines, None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_first_come_and_case_blind() {
        let a = ClientRef { core: 0, id: 1 };
        let b = ClientRef { core: 1, id: 1 };
        let mut r = NickRegistry::default();
        assert!(r.claim("Alice", a));
        assert!(r.claim("alice", a), "the holder may claim again");
        assert!(!r.claim("ALICE", b));
        r.release("alice", b);
        assert_eq!(r.holder("alice"), Some(a), "only the holder releases");
        r.release("alice", a);
        assert!(r.claim("alice", b));
    }
}
