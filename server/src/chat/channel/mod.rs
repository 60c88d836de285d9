//! A channel as its owning core keeps it: members with their status,
//! topic, modes, bans, and how many members each core has (where to fan
//! out). Every operation on a channel is a method returning its `Effects`
//! (lines to fan out, replies, membership changes), so the channel rules
//! are tested here without cores or sockets: `ops` (JOIN, PART, PRIVMSG,
//! TOPIC, KICK, NAMES, WHO, ...), `mode` (MODE), `replies` (the numerics
//! that describe a channel).

mod effects;
mod mode;
mod ops;
mod remote;
mod replies;

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;

use crate::chat::caps::{Cap, Caps};
use crate::chat::casemap::{fold, glob};
use crate::chat::msg::{ClientRef, MemberInfo};

pub use effects::Effects;
pub use replies::{list_line, who_line, LIST_CHUNK};

struct Member {
    info: MemberInfo,
    op: bool,
    voice: bool,
}

impl Member {
    /// Status prefix as NAMES/WHO show it; all of them with multi-prefix.
    fn prefix(&self, multi: bool) -> &'static str {
        match (self.op, self.voice, multi) {
            (true, true, true) => "@+",
            (true, _, _) => "@",
            (false, true, _) => "+",
            _ => "",
        }
    }
}

struct Topic {
    text: Bytes,
    setter: String,
    time: u64,
}

/// One entry of the ban list (+b): a `nick!user@host` glob.
struct Ban {
    mask: String,
    setter: String,
    time: u64,
}

/// Most pending invites a channel remembers (the oldest go first).
const MAX_INVITES: usize = 64;

/// Most entries a ban list holds (MAXLIST=b:100).
const MAX_BANS: usize = 100;

/// Completes a ban mask as servers do: `nick` is `nick!*@*`, `user@host`
/// is `*!user@host`, `nick!user` is `nick!user@*`.
fn ban_mask(m: &str) -> String {
    match (m.contains('!'), m.contains('@')) {
        (false, false) => format!("{m}!*@*"),
        (false, true) => format!("*!{m}"),
        (true, false) => format!("{m}@*"),
        (true, true) => m.to_string(),
    }
}

pub struct Channel {
    name: String,
    created: u64,
    members: HashMap<ClientRef, Member>,
    /// Folded nick -> member, for KICK and MODE +o targets.
    by_nick: HashMap<String, ClientRef>,
    per_core: Vec<u32>,
    topic: Option<Topic>,
    topic_lock: bool,
    no_external: bool,
    secret: bool,
    /// +m: only voiced members and operators speak.
    moderated: bool,
    /// +i: JOIN needs an INVITE.
    invite_only: bool,
    /// Folded nicks invited (INVITE), each admitted once.
    invited: Vec<String>,
    /// +l: at most this many members.
    limit: Option<usize>,
    key: Option<String>,
    bans: Vec<Ban>,
    /// Clustered: the members on other nodes, by folded nick.
    remote: BTreeMap<String, Member>,
    /// Clustered: NAMES and WHO list every member by nick, the same on
    /// every node.
    clustered: bool,
    /// Clustered, while the view waits for the JOIN of this folded nick on
    /// the channel's topic: what came before it is in the snapshot.
    pub marker: Option<String>,
}

impl Channel {
    pub fn new(name: String, cores: usize, now: u64) -> Self {
        Channel {
            name,
            created: now,
            members: HashMap::new(),
            by_nick: HashMap::new(),
            per_core: vec![0; cores],
            topic: None,
            topic_lock: true,
            no_external: true,
            secret: false,
            moderated: false,
            invite_only: false,
            invited: Vec::new(),
            limit: None,
            key: None,
            bans: Vec::new(),
            remote: BTreeMap::new(),
            clustered: false,
            marker: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Members network-wide.
    pub fn len(&self) -> usize {
        self.members.len() + self.remote.len()
    }

    /// No member on this node (members on other nodes do not count).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    fn add(&mut self, who: ClientRef, info: MemberInfo, op: bool) {
        self.by_nick.insert(fold(&info.nick), who);
        if self
            .members
            .insert(
                who,
                Member {
                    info,
                    op,
                    voice: false,
                },
            )
            .is_none()
        {
            self.per_core[who.core] += 1;
        }
    }

    fn remove(&mut self, who: ClientRef) -> Option<Member> {
        let m = self.members.remove(&who)?;
        self.per_core[who.core] -= 1;
        self.by_nick.remove(&fold(&m.info.nick));
        Some(m)
    }

    fn rename(&mut self, who: ClientRef, new_nick: &str) {
        if let Some(m) = self.members.get_mut(&who) {
            self.by_nick.remove(&fold(&m.info.nick));
            m.info.nick = new_nick.to_string();
            self.by_nick.insert(fold(new_nick), who);
        }
    }

    /// Cores that have at least one member: where events are sent.
    fn member_cores(&self) -> Vec<usize> {
        self.per_core
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(c, _)| c)
            .collect()
    }

    /// A line another node published (or this one, for PRIVMSG/NOTICE) for
    /// the members here: to all but `sender` (the folded nick), if local.
    pub fn relay(&self, line: Bytes, sender: &str, dedup: Option<u64>) -> Effects {
        let mut fx = Effects::unanswered();
        let d = fx.deliver(self.member_cores(), line, crate::chat::msg::Change::None);
        d.except = self.by_nick.get(sender).copied();
        d.dedup = dedup;
        fx
    }

    pub fn is_member(&self, who: ClientRef) -> bool {
        self.members.contains_key(&who)
    }

    /// Op or voice: speaks whatever the bans say.
    fn is_voiced(&self, who: ClientRef) -> bool {
        self.members.get(&who).is_some_and(|m| m.op || m.voice)
    }

    fn is_op(&self, who: ClientRef) -> bool {
        self.members.get(&who).is_some_and(|m| m.op)
    }

    /// True when `prefix` (`nick!user@host`) matches a ban.
    fn banned(&self, prefix: &str) -> bool {
        self.bans.iter().any(|b| glob(&b.mask, prefix))
    }

    /// `+iklmnst` style mode string and its parameters (the key shown
    /// to members only).
    fn mode_string(&self, member: bool) -> (String, Vec<String>) {
        let mut s = String::from("+");
        let mut params = Vec::new();
        let flags = [
            (self.invite_only, 'i'),
            (self.key.is_some(), 'k'),
            (self.limit.is_some(), 'l'),
            (self.moderated, 'm'),
            (self.no_external, 'n'),
            (self.secret, 's'),
            (self.topic_lock, 't'),
        ];
        s.extend(flags.iter().filter(|f| f.0).map(|f| f.1));
        if let Some(k) = &self.key {
            params.push(if member { k.clone() } else { "*".into() });
        }
        if let Some(l) = self.limit {
            params.push(l.to_string());
        }
        (s, params)
    }

    /// NAMES entries, `@+nick` style (all prefixes with multi-prefix,
    /// `nick!user@host` with userhost-in-names), in a stable order.
    fn nick_list(&self, caps: Caps) -> Vec<String> {
        let multi = caps.has(Cap::MultiPrefix);
        let full = caps.has(Cap::UserhostInNames);
        self.listed()
            .iter()
            .map(|m| {
                let i = &m.info;
                match full {
                    true => format!("{}{}!{}@{}", m.prefix(multi), i.nick, i.user, i.host),
                    false => format!("{}{}", m.prefix(multi), i.nick),
                }
            })
            .collect()
    }

    /// Every member in NAMES/WHO order: by client alone, by nick (the same
    /// on every node) when clustered.
    fn listed(&self) -> Vec<&Member> {
        let mut v: Vec<(&ClientRef, &Member)> = self.members.iter().collect();
        v.sort_by_key(|(r, _)| **r);
        if !self.clustered {
            return v.into_iter().map(|(_, m)| m).collect();
        }
        let mut all: Vec<(String, &Member)> = v
            .into_iter()
            .map(|(_, m)| (fold(&m.info.nick), m))
            .chain(self.remote.iter().map(|(n, m)| (n.clone(), m)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.into_iter().map(|(_, m)| m).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(nick: &str) -> MemberInfo {
        MemberInfo {
            nick: nick.into(),
            user: "u".into(),
            host: "h".into(),
            realname: "r".into(),
            away: false,
            invisible: false,
        }
    }

    #[test]
    fn counts_members_per_core() {
        let mut c = Channel::new("#a".into(), 2, 0);
        let a = ClientRef { core: 1, id: 1 };
        let b = ClientRef { core: 1, id: 2 };
        c.add(a, info("Al"), true);
        c.add(b, info("Bo"), false);
        assert_eq!(c.member_cores(), vec![1]);
        c.rename(a, "Ann");
        assert_eq!(c.by_nick.get("ann"), Some(&a));
        assert_eq!(c.nick_list(Caps::default()), vec!["@Ann", "Bo"]);
        let mut caps = Caps::default();
        caps.set(Cap::UserhostInNames, true);
        assert_eq!(c.nick_list(caps), vec!["@Ann!u@h", "Bo!u@h"]);
        c.remove(a);
        c.remove(b);
        assert!(c.member_cores().is_empty());
        assert!(c.by_nick.is_empty());
    }

    #[test]
    fn ban_masks_complete_and_match() {
        assert_eq!(ban_mask("bob"), "bob!*@*");
        assert_eq!(ban_mask("*@evil.host"), "*!*@evil.host");
        assert_eq!(ban_mask("bob!b"), "bob!b@*");
        let mut c = Channel::new("#a".into(), 1, 0);
        c.bans.push(Ban {
            mask: ban_mask("BOB"),
            setter: "x".into(),
            time: 0,
        });
        assert!(c.banned("bob!u@h"));
        assert!(!c.banned("bobby!u@h"));
    }

    #[test]
    fn prefixes_with_and_without_multi_prefix() {
        let m = Member {
            info: info("x"),
            op: true,
            voice: true,
        };
        assert_eq!(m.prefix(true), "@+");
        assert_eq!(m.prefix(false), "@");
    }
}
