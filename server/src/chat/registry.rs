//! The nick registry: the nicks this core owns (those `owner(nick)` maps
//! here) and who holds each. A nick is claimed here before anyone sees it,
//! so two cores can never both grant it; requests addressed to a nick pass
//! through here to the holder's home. It also remembers the nick's past
//! users (WHOWAS) and who watches it (MONITOR).

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use bytes::Bytes;

use super::bridge::ClusterReq;
use super::bridge_users::UserReq;
use super::casemap::fold;
use super::mail::Mail;
use super::msg::{ClientRef, HomeMsg, Msg, NickMsg, NickOp, Req, Was};
use super::numerics::*;
use super::parse::echo_word;

/// WHOWAS entries a core keeps (the oldest go first).
const HISTORY: usize = 1024;

/// A registered nick's key, one per idle client, so one allocation: the
/// folded nick and, where its holder spelled it otherwise (most nicks are
/// typed in lower case), a NUL and the nick as spelled. Hashed, compared
/// and borrowed as the folded part, which is what lookups name. (A nick
/// has no NUL: `claim` refuses one.)
struct Key(Box<str>);

impl Key {
    fn new(folded: &str, spelled: &str) -> Key {
        match folded == spelled {
            true => Key(folded.into()),
            false => Key([folded, "\0", spelled].concat().into()),
        }
    }

    fn folded(&self) -> &str {
        self.0
            .split_once('\0')
            .map_or(&self.0, |(folded, _)| folded)
    }

    /// The nick as its holder spelled it.
    fn nick(&self) -> &str {
        self.0
            .split_once('\0')
            .map_or(&self.0, |(_, spelled)| spelled)
    }
}

impl Borrow<str> for Key {
    fn borrow(&self) -> &str {
        self.folded()
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.folded().hash(state);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.folded() == other.folded()
    }
}

impl Eq for Key {}

#[derive(Default)]
pub struct NickRegistry {
    /// Folded nick -> holder.
    nicks: HashMap<Key, ClientRef>,
    history: VecDeque<Was>,
    /// Folded nick -> clients monitoring it.
    watchers: HashMap<String, Vec<ClientRef>>,
}

impl NickRegistry {
    /// Grants `nick` to `from` unless someone else holds it; true if granted.
    pub fn claim(&mut self, nick: &str, from: ClientRef, mail: &mut Mail) -> bool {
        let key = fold(nick);
        if let Some(&who) = self.nicks.get(key.as_str()) {
            return who == from;
        }
        if nick.contains('\0') {
            return false;
        }
        self.notify(mail, &key, nick, true);
        self.nicks.insert(Key::new(&key, nick), from);
        true
    }

    /// Frees `folded` if `from` holds it (in the cluster too).
    pub fn release(&mut self, folded: &str, from: ClientRef, was: Option<Was>, mail: &mut Mail) {
        if self.forget(folded, from, was, mail) {
            let folded = folded.to_string();
            mail.send_cluster(ClusterReq::Release { folded });
        }
    }

    /// Frees `folded` here if `from` holds it; true if it did.
    pub fn forget(
        &mut self,
        folded: &str,
        from: ClientRef,
        was: Option<Was>,
        mail: &mut Mail,
    ) -> bool {
        if self.nicks.get(folded).is_none_or(|&who| who != from) {
            return false;
        }
        if let Some((key, _)) = self.nicks.remove_entry(folded) {
            self.notify(mail, folded, key.nick(), false);
        }
        if let Some(w) = was {
            if self.history.len() >= HISTORY {
                self.history.pop_front();
            }
            self.history.push_back(w);
        }
        true
    }

    pub fn holder(&self, nick: &str) -> Option<ClientRef> {
        self.nicks.get(fold(nick).as_str()).copied()
    }

    /// Clustered: another node's user came online or went offline; this
    /// core's watchers of the nick hear it (unless a local client holds it).
    pub fn presence(&self, mail: &mut Mail, folded: &str, spelled: &str, online: bool) {
        if !self.nicks.contains_key(folded) {
            self.notify(mail, folded, spelled, online);
        }
    }

    fn notify(&self, mail: &mut Mail, key: &str, nick: &str, online: bool) {
        for w in self.watchers.get(key).into_iter().flatten() {
            let (id, nick) = (w.id, nick.to_string());
            mail.post(w.core, Msg::Home(HomeMsg::Monitor { id, nick, online }));
        }
    }

    pub fn handle(&mut self, msg: NickMsg, mail: &mut Mail, server: &str) {
        match msg {
            NickMsg::Claim { nick, from } => {
                let fresh = self.holder(&nick) != Some(from);
                let ok = self.claim(&nick, from, mail);
                if ok && fresh && mail.is_clustered() {
                    // Granted here; the answer waits for Redis.
                    mail.send_cluster(ClusterReq::Claim { nick, from });
                    return;
                }
                let id = from.id;
                let msg = HomeMsg::NickResult { id, nick, ok };
                mail.post(from.core, Msg::Home(msg));
            }
            NickMsg::Release { folded, from, was } => self.release(&folded, from, was, mail),
            NickMsg::Profile { from, profile } => {
                let folded = fold(&String::from_utf8_lossy(&profile.nick));
                if self.holder(&folded) == Some(from) {
                    let req = UserReq::Profile { folded, profile };
                    mail.send_cluster(ClusterReq::Users(req));
                }
            }
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
                None if mail.is_clustered()
                    && matches!(op, NickOp::Privmsg { .. } | NickOp::Invite { .. }) =>
                {
                    mail.send_cluster(ClusterReq::Direct { target, req, op });
                }
                None if mail.is_clustered()
                    && matches!(
                        op,
                        NickOp::Whois | NickOp::Ison { .. } | NickOp::Userhost { .. }
                    ) =>
                {
                    let req = UserReq::Lookup { target, req, op };
                    mail.send_cluster(ClusterReq::Users(req));
                }
                None => no_such_nick(mail, server, &target, req, op),
            },
            NickMsg::Check {
                req,
                lines,
                chan,
                targets,
            } => self.check(mail, server, req, lines, chan, targets),
            NickMsg::Whowas { nick, count, req } => {
                let local = self.whowas(server, &nick, count, &req);
                if mail.is_clustered() {
                    let req = UserReq::Whowas {
                        nick,
                        count,
                        req,
                        local,
                    };
                    mail.send_cluster(ClusterReq::Users(req));
                } else {
                    mail.answer(&req, local, None);
                }
            }
            NickMsg::Watch {
                nick,
                from,
                on,
                answer,
            } => self.watch(mail, nick, from, on, answer),
        }
    }

    fn watch(
        &mut self,
        mail: &mut Mail,
        nick: String,
        from: ClientRef,
        on: bool,
        answer: Option<Req>,
    ) {
        let key = fold(&nick);
        let list = self.watchers.entry(key.clone()).or_default();
        list.retain(|w| *w != from);
        if on {
            list.push(from);
        } else if list.is_empty() {
            self.watchers.remove(&key);
        }
        let Some(req) = answer else {
            return;
        };
        let (online, nick) = match self.nicks.get_key_value(key.as_str()) {
            Some((k, _)) => (true, k.nick().to_string()),
            None if mail.is_clustered() => {
                mail.send_cluster(ClusterReq::Users(UserReq::Watch { nick, from, req }));
                return;
            }
            None => (false, nick),
        };
        let id = from.id;
        mail.post(from.core, Msg::Home(HomeMsg::Monitor { id, nick, online }));
        mail.answer(&req, Vec::new(), None);
    }

    /// 314 for each of the last `count` users of `nick`, newest first, then 369.
    fn whowas(&self, server: &str, nick: &str, count: usize, req: &Req) -> Vec<Bytes> {
        let to = To {
            server,
            nick: &req.nick,
        };
        let key = fold(nick);
        let mut lines: Vec<Bytes> = self
            .history
            .iter()
            .rev()
            .filter(|w| fold(&w.nick) == key)
            .take(count)
            .map(|w| {
                to.num(RPL_WHOWASUSER)
                    .param(&w.nick)
                    .param(&w.user)
                    .param(&w.host)
                    .param("*")
                    .trailing(&w.realname)
            })
            .collect();
        let shown = echo_word(nick.as_bytes());
        if lines.is_empty() {
            lines.push(to.about(ERR_WASNOSUCHNICK, shown, "There was no such nickname"));
        }
        lines.push(to.about(RPL_ENDOFWHOWAS, shown, "End of WHOWAS"));
        lines
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
        NickOp::Privmsg { notice: false, .. } | NickOp::Invite { .. } | NickOp::Kill { .. } => {
            vec![to.no_such_nick(target.as_bytes())]
        }
        NickOp::Whois => vec![
            to.no_such_nick(target.as_bytes()),
            to.about(
                RPL_ENDOFWHOIS,
                echo_word(target.as_bytes()),
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

    /// One entry per registered nick: its table slot and key are paid per
    /// idle client, and a nick typed in lower case keeps no second string.
    #[test]
    fn entries_stay_small() {
        // 48 bytes and a second string before the spelling joined the key.
        let slot = std::mem::size_of::<(Key, ClientRef)>();
        assert!(slot <= 32, "a registry slot is {slot} bytes");
        let (a, mut mail) = (ClientRef { core: 0, id: 1 }, Mail::new(0, 1));
        let mut r = NickRegistry::default();
        r.claim("alice", a, &mut mail);
        r.claim("Bob", a, &mut mail);
        let key = |r: &NickRegistry, folded: &str| {
            r.nicks
                .get_key_value(folded)
                .map(|(k, _)| &*k.0)
                .map(str::to_string)
        };
        assert_eq!(
            key(&r, "alice").as_deref(),
            Some("alice"),
            "no second spelling"
        );
        assert_eq!(
            r.nicks.get_key_value("bob").map(|(k, _)| k.nick()),
            Some("Bob")
        );
        assert_eq!(key(&r, "bob").as_deref(), Some("bob\0Bob"));
        assert!(
            !r.claim("nul\0", a, &mut mail),
            "a key's separator is no nick"
        );
    }

    #[test]
    fn claims_are_first_come_and_case_blind() {
        let a = ClientRef { core: 0, id: 1 };
        let b = ClientRef { core: 1, id: 1 };
        let mut mail = Mail::new(0, 2);
        let mut r = NickRegistry::default();
        assert!(r.claim("Alice", a, &mut mail));
        assert!(r.claim("alice", a, &mut mail), "the holder may claim again");
        assert!(!r.claim("ALICE", b, &mut mail));
        r.release("alice", b, None, &mut mail);
        assert_eq!(r.holder("alice"), Some(a), "only the holder releases");
        r.release("alice", a, None, &mut mail);
        assert!(r.claim("alice", b, &mut mail));
    }

    #[test]
    fn watchers_hear_of_claims_and_releases() {
        let (a, w) = (ClientRef { core: 0, id: 1 }, ClientRef { core: 1, id: 7 });
        let mut mail = Mail::new(0, 2);
        let mut r = NickRegistry::default();
        r.watch(&mut mail, "Bob".into(), w, true, None);
        r.claim("bob", a, &mut mail);
        r.release("bob", a, None, &mut mail);
        let seen: Vec<(usize, bool)> = mail
            .take()
            .into_iter()
            .filter_map(|(core, m)| match m {
                Msg::Home(HomeMsg::Monitor { id: 7, online, .. }) => Some((core, online)),
                _ => None,
            })
            .collect();
        assert_eq!(seen, [(1, true), (1, false)]);
    }
}
