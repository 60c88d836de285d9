//! A channel's view of the whole network (`--cluster`): the members on
//! other nodes, and state changes decided in Redis applied as they come
//! off the channel's topic, in Redis's one order, on every node alike
//! (this node's own changes included). The view starts from a snapshot
//! that the JOIN script read atomically with the JOIN of the node's first
//! member (see `Channels`), so topic events after that JOIN complete it.

use bytes::Bytes;

use super::{Ban, Channel, Effects, Member, Topic};
use crate::chat::caps::Cap;
use crate::chat::casemap::fold;
use crate::chat::msg::{Change, ClientRef, MemberInfo};
use crate::chat::parse::LineBuilder;
use crate::cluster::ChannelState;

/// `nick!user@host` split; a bare nick has `*` for user and host.
pub fn member_info(prefix: &[u8], realname: &[u8]) -> MemberInfo {
    let p = String::from_utf8_lossy(prefix);
    let (nick, rest) = p.split_once('!').unwrap_or((&p, "*@*"));
    let (user, host) = rest.split_once('@').unwrap_or((rest, "*"));
    MemberInfo {
        nick: nick.to_string(),
        user: user.to_string(),
        host: host.to_string(),
        realname: String::from_utf8_lossy(realname).into_owned(),
        away: false,
        invisible: false,
    }
}

/// The words of `line` after its command: `[:src] CMD a b :c d` → (src, [a, b, "c d"]).
fn words(line: &[u8]) -> (String, Vec<String>) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\r', '\n']);
    let (src, rest) = match text.strip_prefix(':') {
        Some(t) => t.split_once(' ').unwrap_or((t, "")),
        None => ("", text),
    };
    let (head, trailing) = match rest.split_once(" :") {
        Some((h, t)) => (h, Some(t)),
        None => (rest, None),
    };
    let mut v: Vec<String> = head
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    if !v.is_empty() {
        v.remove(0); // the command
    }
    v.extend(trailing.map(String::from));
    (src.to_string(), v)
}

impl Channel {
    /// A view built from a snapshot (members of this node excluded: they
    /// come with their own JOINs).
    pub fn from_state(key: &str, st: &ChannelState, cores: usize) -> Channel {
        let name = String::from_utf8_lossy(&st.name).into_owned();
        let name = if name.is_empty() {
            key.to_string()
        } else {
            name
        };
        let mut ch = Channel::new(name, cores, st.created);
        ch.clustered = true;
        ch.reset(st);
        ch
    }

    /// Replaces everything but this node's members with `st`.
    pub fn reset(&mut self, st: &ChannelState) {
        let has = |m: u8| st.modes.contains(&m);
        self.invite_only = has(b'i');
        self.moderated = has(b'm');
        self.no_external = has(b'n');
        self.secret = has(b's');
        self.topic_lock = has(b't');
        self.key = st
            .key
            .as_ref()
            .map(|k| String::from_utf8_lossy(k).into_owned());
        self.limit = st.limit.map(|l| l as usize);
        self.topic = st.topic.as_ref().map(|t| Topic {
            text: t.clone(),
            setter: String::from_utf8_lossy(st.topic_by.as_deref().unwrap_or(b"*")).into_owned(),
            time: st.topic_at.unwrap_or(0),
        });
        self.bans = st
            .ban_list
            .iter()
            .map(|b| Ban {
                mask: String::from_utf8_lossy(&b.mask).into_owned(),
                setter: String::from_utf8_lossy(&b.setter).into_owned(),
                time: b.time,
            })
            .collect();
        self.remote.clear();
        for m in &st.members {
            let nick = String::from_utf8_lossy(&m.nick).into_owned();
            let info = member_info(&m.prefix, &m.realname);
            let (op, voice) = (m.flags.contains(&b'@'), m.flags.contains(&b'+'));
            self.remote.insert(nick, Member { info, op, voice });
        }
    }

    /// Whether `nick` (folded) is a member on any node.
    pub fn has_nick(&self, nick: &str) -> bool {
        self.by_nick.contains_key(nick) || self.remote.contains_key(nick)
    }

    /// What the channel keeps about local member `who`, if it is one.
    pub fn local_member(&self, who: ClientRef) -> Option<&MemberInfo> {
        self.members.get(&who).map(|m| &m.info)
    }

    /// A member's nick as it is spelled, or `nick` itself.
    pub fn spelled(&self, nick: &str) -> String {
        let key = fold(nick);
        let m = self.by_nick.get(&key).and_then(|w| self.members.get(w));
        m.or_else(|| self.remote.get(&key))
            .map_or_else(|| nick.to_string(), |m| m.info.nick.clone())
    }

    /// An INVITE line for the operators here with invite-notify.
    pub fn invite_notify(&self, from: ClientRef, line: Bytes) -> Effects {
        let mut fx = Effects::default();
        let d = fx.deliver(self.member_cores(), Bytes::new(), Change::None);
        d.alt = Some((Cap::InviteNotify, line));
        d.ops_only = true;
        d.except = Some(from);
        fx
    }

    /// A JOIN from another node: `line` is `:prefix JOIN <chan> * :realname`.
    pub fn remote_join(&mut self, nick: &str, flags: &[u8], line: &[u8]) -> Effects {
        if self.remote.contains_key(nick) || self.by_nick.contains_key(nick) {
            return Effects::unanswered();
        }
        let (src, args) = words(line);
        let realname = args.get(2).cloned().unwrap_or_default();
        let info = member_info(src.as_bytes(), realname.as_bytes());
        let (op, voice) = (flags.contains(&b'@'), flags.contains(&b'+'));
        let plain = LineBuilder::new(Some(src.as_bytes()), "JOIN")
            .param(&self.name)
            .finish();
        let extended = LineBuilder::new(Some(src.as_bytes()), "JOIN")
            .param(&self.name)
            .param("*")
            .trailing(realname);
        self.remote
            .insert(nick.to_string(), Member { info, op, voice });
        let mut fx = Effects::unanswered();
        let d = fx.deliver(self.member_cores(), plain, Change::None);
        d.alt = Some((Cap::ExtendedJoin, extended));
        fx
    }

    /// `nick` (folded) left by PART, KICK or QUIT (`quit`: the leaver does
    /// not get the line; a QUIT arriving through several channels reaches
    /// each client once by `dedup`).
    pub fn remote_leave(
        &mut self,
        nick: &str,
        line: Bytes,
        quit: bool,
        dedup: Option<u64>,
    ) -> Effects {
        let mut fx = Effects::unanswered();
        if self.remote.remove(nick).is_some() {
            fx.deliver(self.member_cores(), line, Change::None).dedup = dedup;
        } else if let Some(who) = self.by_nick.get(nick).copied() {
            let change = if quit {
                Change::None
            } else {
                Change::Leave { who }
            };
            let d = fx.deliver(self.member_cores(), line, change);
            d.dedup = dedup;
            if quit {
                d.except = Some(who);
            }
            self.remove(who);
        }
        fx
    }

    /// `old` (folded) is now `new_prefix`'s nick.
    pub fn remote_rename(
        &mut self,
        old: &str,
        new_prefix: &[u8],
        line: Bytes,
        dedup: Option<u64>,
    ) -> Effects {
        let mut fx = Effects::unanswered();
        let info = member_info(new_prefix, b"");
        if let Some(mut m) = self.remote.remove(old) {
            (m.info.nick, m.info.user, m.info.host) = (info.nick.clone(), info.user, info.host);
            self.remote.insert(fold(&info.nick), m);
            fx.deliver(self.member_cores(), line, Change::None).dedup = dedup;
        } else if let Some(who) = self.by_nick.get(old).copied() {
            self.rename(who, &info.nick);
            let d = fx.deliver(self.member_cores(), line, Change::None);
            (d.except, d.dedup) = (Some(who), dedup);
        }
        fx
    }

    /// A TOPIC line set at `time` (s) by whoever it names.
    pub fn remote_topic(&mut self, line: Bytes, time: u64) -> Effects {
        let (src, args) = words(&line);
        let text = args.get(1).cloned().unwrap_or_default();
        self.topic = (!text.is_empty()).then(|| Topic {
            text: Bytes::from(text),
            setter: src,
            time,
        });
        let mut fx = Effects::unanswered();
        fx.deliver(self.member_cores(), line, Change::None);
        fx
    }

    /// A MODE line as Redis applied it (`time` for new bans): the view
    /// follows, and local members whose status changed tell their cores.
    pub fn remote_mode(&mut self, line: Bytes, time: u64) -> Effects {
        let (src, args) = words(&line);
        let mut params = args.iter().skip(2);
        let mut plus = true;
        let mut status = Vec::new();
        for c in args.get(1).map_or("", String::as_str).chars() {
            match c {
                '+' | '-' => plus = c == '+',
                'o' | 'v' => {
                    let Some(nick) = params.next() else { break };
                    if let Some(who) = self.set_status(&fold(nick), c, plus) {
                        status.push(who);
                    }
                }
                'k' => self.key = params.next().filter(|_| plus).cloned(),
                'l' if plus => self.limit = params.next().and_then(|l| l.parse().ok()),
                'l' => self.limit = None,
                'b' => {
                    let Some(mask) = params.next() else { break };
                    // Exactly as Redis keeps them (a mask is matched ignoring case).
                    self.bans.retain(|b| b.mask != *mask);
                    if plus {
                        let (mask, setter) = (mask.clone(), src.clone());
                        self.bans.push(Ban { mask, setter, time });
                    }
                }
                'i' => self.invite_only = plus,
                'm' => self.moderated = plus,
                'n' => self.no_external = plus,
                's' => self.secret = plus,
                't' => self.topic_lock = plus,
                _ => {}
            }
        }
        let mut fx = Effects::unanswered();
        fx.deliver(self.member_cores(), line, Change::None);
        for who in status {
            if let Some(m) = self.members.get(&who) {
                let change = Change::Status {
                    who,
                    op: m.op,
                    voice: m.voice,
                };
                fx.deliver(vec![who.core], Bytes::new(), change);
            }
        }
        fx
    }

    /// +o/-o/+v/-v on `nick`; the local member if it is one.
    fn set_status(&mut self, nick: &str, c: char, plus: bool) -> Option<ClientRef> {
        let local = self.by_nick.get(nick).copied();
        let m = match local {
            Some(who) => self.members.get_mut(&who),
            None => self.remote.get_mut(nick),
        }?;
        *(if c == 'o' { &mut m.op } else { &mut m.voice }) = plus;
        local
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{BanEntry, Member as Remote};

    fn state() -> ChannelState {
        ChannelState {
            name: "#Room".into(),
            created: 7,
            modes: "int".into(),
            key: Some("k".into()),
            limit: Some(5),
            topic: Some("hi".into()),
            topic_by: Some("a!u@h".into()),
            topic_at: Some(9),
            members: vec![Remote {
                nick: "al".into(),
                flags: "@".into(),
                prefix: "Al!u@h".into(),
                owner: "n2:0:1".into(),
                realname: "Al Real".into(),
            }],
            bans: vec!["x!*@*".into()],
            ban_list: vec![BanEntry {
                mask: "x!*@*".into(),
                setter: "Al!u@h".into(),
                time: 8,
            }],
        }
    }

    #[test]
    fn a_snapshot_and_topic_events_make_the_view() {
        let mut ch = Channel::from_state("#room", &state(), 2);
        assert_eq!((ch.name(), ch.len(), ch.created), ("#Room", 1, 7));
        assert!(ch.invite_only && ch.topic_lock && !ch.secret);
        assert_eq!(ch.mode_string(true).1, ["k", "5"]);
        let fx = ch.remote_join("bo", b"-", b":Bo!b@h JOIN #Room * :Bo B");
        assert!(fx.deliveries[0].cores.is_empty(), "no local member yet");
        assert_eq!(ch.remote["bo"].info.realname, "Bo B");
        ch.remote_mode(Bytes::from(":Al!u@h MODE #Room +v-i+b bo y!*@*"), 10);
        assert!(ch.remote["bo"].voice && !ch.invite_only);
        assert_eq!(ch.bans.len(), 2);
        ch.remote_mode(Bytes::from(":Al!u@h MODE #Room -kl *"), 10);
        assert_eq!((ch.key.as_deref(), ch.limit), (None, None));
        ch.remote_topic(Bytes::from(":Bo!b@h TOPIC #Room :new one"), 11);
        let t = ch.topic.as_ref().unwrap();
        assert_eq!(
            (&t.text[..], t.setter.as_str(), t.time),
            (&b"new one"[..], "Bo!b@h", 11)
        );
        ch.remote_rename("bo", b"Bob!b@h", Bytes::from(":Bo!b@h NICK Bob"), None);
        assert!(ch.has_nick("bob") && !ch.has_nick("bo"));
        ch.remote_leave("al", Bytes::from(":Al!u@h QUIT :x"), true, None);
        assert_eq!(ch.len(), 1);
    }

    #[test]
    fn junk_lines_change_nothing_harmful() {
        let mut ch = Channel::from_state("#room", &state(), 1);
        for junk in [
            &b""[..],
            b":",
            b"MODE",
            b":x MODE #Room +oooo",
            b":x MODE #Room +l zz",
        ] {
            ch.remote_mode(Bytes::copy_from_slice(junk), 0);
            ch.remote_topic(Bytes::copy_from_slice(junk), 0);
            ch.remote_join("j", b"", junk);
        }
        assert_eq!(member_info(b"", b"").nick, "");
    }
}
