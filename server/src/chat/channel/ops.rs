//! Channel operations as the owner runs them. Each changes the channel and
//! returns its `Effects`; none does I/O or knows about cores beyond the
//! member count per core.

use bytes::Bytes;

use super::{Channel, Effects, Topic, MAX_INVITES};
use crate::chat::caps::Cap;
use crate::chat::casemap::fold;
use crate::chat::msg::{Change, ClientRef, MemberInfo, Req};
use crate::chat::numerics::*;
use crate::chat::parse::LineBuilder;
use crate::chat::tags::Meta;

impl Channel {
    /// JOIN: refused on a wrong key (475) or a ban (474); the first member
    /// becomes operator. The joiner gets its JOIN line with the others,
    /// then topic and names as replies.
    pub fn join(&mut self, to: &To, req: &Req, info: MemberInfo, key: Option<String>) -> Effects {
        let me = req.from;
        if self.is_member(me) {
            return Effects::default();
        }
        if let Some(refusal) = self.join_refusal(to, req, &info, key) {
            return Effects::reply(refusal);
        }
        let op = self.members.is_empty();
        self.admit(to, req, info, op)
    }

    /// The JOIN of `req` once it may join (`op`: as operator): its JOIN
    /// line for every member, topic and names for it.
    pub fn admit(&mut self, to: &To, req: &Req, info: MemberInfo, op: bool) -> Effects {
        let me = req.from;
        let realname = info.realname.clone();
        self.add(me, info, op);
        let join = LineBuilder::new(Some(req.prefix.as_bytes()), "JOIN").param(&self.name);
        let line = join.finish();
        // extended-join: `JOIN #chan <account> :<realname>`; no accounts here.
        let extended = LineBuilder::new(Some(req.prefix.as_bytes()), "JOIN")
            .param(&self.name)
            .param("*")
            .trailing(realname);
        let mut fx = Effects::replies(self.topic_lines(to));
        fx.replies.extend(self.names_lines(to, req.caps));
        let name = self.name.clone();
        let d = fx.deliver(
            self.member_cores(),
            line,
            Change::Join { who: me, name, op },
        );
        d.alt = Some((Cap::ExtendedJoin, extended));
        fx
    }

    /// Why `req` may not join: a key (475), a ban (474), +i without an
    /// INVITE (473), +l reached (471). An INVITE is used up by the JOIN.
    fn join_refusal(
        &mut self,
        to: &To,
        req: &Req,
        info: &MemberInfo,
        key: Option<String>,
    ) -> Option<Bytes> {
        let nick = fold(&info.nick);
        let invited = self.invited.iter().position(|n| *n == nick);
        let (code, text) = if self.key.is_some() && self.key != key {
            (ERR_BADCHANNELKEY, "Cannot join channel (+k)")
        } else if self.banned(&req.prefix) && invited.is_none() {
            (ERR_BANNEDFROMCHAN, "Cannot join channel (+b)")
        } else if self.invite_only && invited.is_none() {
            (ERR_INVITEONLYCHAN, "Cannot join channel (+i)")
        } else if self.limit.is_some_and(|l| self.members.len() >= l) {
            (ERR_CHANNELISFULL, "Cannot join channel (+l)")
        } else {
            if let Some(i) = invited {
                self.invited.swap_remove(i);
            }
            return None;
        };
        Some(to.about(code, &self.name, text))
    }

    /// INVITE `target`: a member may invite to a channel, an operator
    /// only when it is +i. The invite is recorded here (it lets the nick
    /// past +i and +b once); the line itself goes to the target through
    /// the nick registry, whose answer (341 or 401) ends the request.
    /// Operators with invite-notify see it.
    pub fn invite(&mut self, to: &To, req: &Req, target: &str) -> Effects {
        if !self.is_member(req.from) {
            return Effects::reply(to.not_on_channel(&self.name));
        }
        if self.invite_only && !self.is_op(req.from) {
            return Effects::reply(to.not_op(&self.name));
        }
        if self.by_nick.contains_key(&fold(target)) {
            let l = to
                .num(ERR_USERONCHANNEL)
                .param(target)
                .param(&self.name)
                .trailing("is already on channel");
            return Effects::reply(l);
        }
        if self.invited.len() >= MAX_INVITES {
            self.invited.remove(0);
        }
        self.invited.push(fold(target));
        let line = LineBuilder::new(Some(req.prefix.as_bytes()), "INVITE")
            .param(target)
            .trailing(&self.name);
        let mut fx = Effects::default();
        let d = fx.deliver(self.member_cores(), Bytes::new(), Change::None);
        d.alt = Some((Cap::InviteNotify, line.clone()));
        d.ops_only = true;
        d.except = Some(req.from);
        fx.forward = Some((target.to_string(), line, self.name.clone()));
        fx
    }

    /// PRIVMSG/NOTICE/TAGMSG: to every member but the sender (unless it
    /// has echo-message). Outsiders of a +n channel, and banned members
    /// without voice, get 404 (NOTICE: nothing); so do all but voiced
    /// members of a moderated (+m) channel.
    pub fn privmsg(
        &self,
        to: &To,
        req: &Req,
        line: Bytes,
        notice: bool,
        meta: Meta,
        tags_only: bool,
    ) -> Effects {
        let me = req.from;
        let member = self.is_member(me);
        let silenced = !self.is_voiced(me) && (self.moderated || self.banned(&req.prefix));
        if (self.no_external && !member) || silenced {
            return match notice {
                true => Effects::default(),
                false => Effects::reply(to.cannot_send(&self.name)),
            };
        }
        let mut fx = Effects::default();
        let (line, alt) = match tags_only {
            true => (Bytes::new(), Some((Cap::MessageTags, line))),
            false => (line, None),
        };
        let d = fx.deliver(self.member_cores(), line, Change::None);
        d.except = (!req.caps.has(Cap::EchoMessage)).then_some(me);
        d.meta = meta;
        d.alt = alt;
        fx
    }

    pub fn part(&mut self, to: &To, req: &Req, reason: Option<Bytes>) -> Effects {
        if !self.is_member(req.from) {
            return Effects::reply(to.not_on_channel(&self.name));
        }
        let b = LineBuilder::new(Some(req.prefix.as_bytes()), "PART").param(&self.name);
        let line = match reason {
            Some(r) => b.trailing(r),
            None => b.finish(),
        };
        let mut fx = Effects::default();
        let change = Change::Leave { who: req.from };
        fx.deliver(self.member_cores(), line, change);
        self.remove(req.from);
        fx
    }

    /// TOPIC query (`set: None`) or change; an empty text clears it.
    pub fn topic(&mut self, to: &To, req: &Req, set: Option<Bytes>, now: u64) -> Effects {
        let member = self.is_member(req.from);
        let Some(text) = set else {
            return if self.secret && !member {
                Effects::reply(to.not_on_channel(&self.name))
            } else if self.topic.is_none() {
                Effects::reply(to.about(RPL_NOTOPIC, &self.name, "No topic is set"))
            } else {
                Effects::replies(self.topic_lines(to))
            };
        };
        if !member {
            return Effects::reply(to.not_on_channel(&self.name));
        }
        if self.topic_lock && !self.is_op(req.from) {
            return Effects::reply(to.not_op(&self.name));
        }
        self.topic = (!text.is_empty()).then(|| Topic {
            text: text.clone(),
            setter: req.prefix.clone(),
            time: now,
        });
        let line = LineBuilder::new(Some(req.prefix.as_bytes()), "TOPIC")
            .param(&self.name)
            .trailing(text);
        let mut fx = Effects::default();
        fx.deliver(self.member_cores(), line, Change::None);
        fx
    }

    /// NAMES: a secret channel shows outsiders only its end line.
    pub fn names(&self, to: &To, req: &Req) -> Effects {
        if self.secret && !self.is_member(req.from) {
            return Effects::reply(to.end_of_names(&self.name));
        }
        Effects::replies(self.names_lines(to, req.caps))
    }

    /// WHO: members see every member, invisible ones included; outsiders
    /// see the visible members of a channel that is not secret.
    pub fn who(&self, to: &To, req: &Req) -> Effects {
        let member = self.is_member(req.from);
        let multi = req.caps.has(Cap::MultiPrefix);
        let mut lines = Vec::new();
        for mb in self.listed() {
            if member || (!mb.info.invisible && !self.secret) {
                let away = if mb.info.away { "G" } else { "H" };
                let flags = format!("{away}{}", mb.prefix(multi));
                lines.push(super::who_line(to, &self.name, &mb.info, &flags));
            }
        }
        lines.push(to.end_of_who(&self.name));
        Effects::replies(lines)
    }

    /// The channel's LIST entry, unless it is secret to `who`.
    pub fn list_entry(&self, to: &To, who: ClientRef) -> Option<Bytes> {
        (!self.secret || self.is_member(who)).then(|| super::list_line(to, self))
    }

    pub fn kick(&mut self, to: &To, req: &Req, target: &str, reason: Bytes) -> Effects {
        if !self.is_member(req.from) {
            return Effects::reply(to.not_on_channel(&self.name));
        }
        if !self.is_op(req.from) {
            return Effects::reply(to.not_op(&self.name));
        }
        let victim = self.by_nick.get(&fold(target)).copied();
        let Some((victim, vnick)) =
            victim.and_then(|v| Some((v, self.members.get(&v)?.info.nick.clone())))
        else {
            let l = to
                .num(ERR_USERNOTINCHANNEL)
                .param(target)
                .param(&self.name)
                .trailing("They aren't on that channel");
            return Effects::reply(l);
        };
        let line = LineBuilder::new(Some(req.prefix.as_bytes()), "KICK")
            .param(&self.name)
            .param(vnick)
            .trailing(reason);
        let mut fx = Effects::default();
        fx.deliver(self.member_cores(), line, Change::Leave { who: victim });
        self.remove(victim);
        fx
    }

    /// A member gone without PART (QUIT, disconnect, a join that raced a
    /// disconnect): the others see `line`, or a QUIT built here.
    pub fn leave(&mut self, who: ClientRef, line: Option<Bytes>, dedup: Option<u64>) -> Effects {
        let mut fx = Effects::unanswered();
        if let Some(m) = self.remove(who) {
            let line = line.unwrap_or_else(|| {
                let p = format!("{}!{}@{}", m.info.nick, m.info.user, m.info.host);
                LineBuilder::new(Some(p.as_bytes()), "QUIT").trailing("Connection closed")
            });
            let d = fx.deliver(self.member_cores(), line, Change::None);
            d.except = Some(who);
            d.dedup = dedup;
        }
        fx
    }

    pub fn nick_change(
        &mut self,
        who: ClientRef,
        new_nick: &str,
        line: Bytes,
        dedup: Option<u64>,
    ) -> Effects {
        let mut fx = Effects::unanswered();
        if self.is_member(who) {
            self.rename(who, new_nick);
            let d = fx.deliver(self.member_cores(), line, Change::None);
            d.except = Some(who);
            d.dedup = dedup;
        }
        fx
    }

    /// A member's new away state, invisibility or realname (for WHO);
    /// `notify` is the AWAY or SETNAME line members with `cap` see.
    pub fn update(
        &mut self,
        who: ClientRef,
        info: &MemberInfo,
        notify: Option<(Cap, Bytes)>,
    ) -> Effects {
        let mut fx = Effects::unanswered();
        let Some(m) = self.members.get_mut(&who) else {
            return fx;
        };
        m.info.away = info.away;
        m.info.invisible = info.invisible;
        m.info.realname = info.realname.clone();
        if notify.is_some() {
            let d = fx.deliver(self.member_cores(), Bytes::new(), Change::None);
            d.alt = notify;
            d.except = Some(who);
        }
        fx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::caps::Caps;

    const A: ClientRef = ClientRef { core: 0, id: 1 };
    const B: ClientRef = ClientRef { core: 1, id: 1 };
    const C: ClientRef = ClientRef { core: 1, id: 2 };

    fn req(who: ClientRef, nick: &str) -> Req {
        Req {
            from: who,
            nick: nick.into(),
            prefix: format!("{nick}!{nick}@h"),
            caps: Caps::default(),
        }
    }

    fn info(nick: &str) -> MemberInfo {
        MemberInfo {
            nick: nick.into(),
            user: nick.into(),
            host: "h".into(),
            realname: "r".into(),
            away: false,
            invisible: false,
        }
    }

    fn to(nick: &str) -> To<'_> {
        To {
            server: "srv",
            nick,
        }
    }

    fn text(lines: &[Bytes]) -> Vec<String> {
        lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).trim_end().to_string())
            .collect()
    }

    /// #c with alice (op, core 0) and bob (core 1).
    fn chan() -> Channel {
        let mut c = Channel::new("#c".into(), 2, 0);
        c.join(&to("alice"), &req(A, "alice"), info("alice"), None);
        c.join(&to("bob"), &req(B, "bob"), info("bob"), None);
        c
    }

    #[test]
    fn join_fans_out_to_every_member_core_and_answers_names() {
        let mut c = Channel::new("#c".into(), 2, 0);
        let fx = c.join(&to("alice"), &req(A, "alice"), info("alice"), None);
        assert_eq!(fx.deliveries.len(), 1);
        assert_eq!(fx.deliveries[0].cores, vec![0]);
        let join = Change::Join {
            who: A,
            name: "#c".into(),
            op: true,
        };
        assert_eq!(fx.deliveries[0].event.change, join);
        assert_eq!(
            text(&fx.replies),
            [
                ":srv 353 alice = #c :@alice",
                ":srv 366 alice #c :End of /NAMES list"
            ]
        );
        let fx = c.join(&to("bob"), &req(B, "bob"), info("bob"), None);
        assert_eq!(fx.deliveries[0].cores, vec![0, 1]);
        assert_eq!(
            c.join(&to("bob"), &req(B, "bob"), info("bob"), None),
            Effects::default(),
            "joining twice does nothing"
        );
    }

    #[test]
    fn privmsg_skips_the_sender_and_refuses_outsiders() {
        let c = chan();
        let msg = |c: &Channel, who, nick, notice| {
            let line = Bytes::from("x");
            c.privmsg(
                &to(nick),
                &req(who, nick),
                line,
                notice,
                Meta::default(),
                false,
            )
        };
        let fx = msg(&c, A, "alice", false);
        assert_eq!(fx.deliveries[0].event.except, Some(A));
        assert_eq!(fx.deliveries[0].cores, vec![0, 1]);
        let fx = msg(&c, C, "carol", false);
        assert_eq!(
            text(&fx.replies),
            [":srv 404 carol #c :Cannot send to channel"]
        );
        let fx = msg(&c, C, "carol", true);
        assert_eq!(fx, Effects::default(), "NOTICE errors are silent");
    }

    #[test]
    fn invite_only_limit_and_moderation() {
        let mut c = chan();
        let (now, args) = (0, |a: &[&str]| {
            a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        });
        c.mode(&to("alice"), &req(A, "alice"), &args(&["+iml", "2"]), now);
        let fx = c.join(&to("carol"), &req(C, "carol"), info("carol"), None);
        assert_eq!(
            text(&fx.replies),
            [":srv 473 carol #c :Cannot join channel (+i)"]
        );
        let fx = c.invite(&to("bob"), &req(B, "bob"), "carol");
        assert_eq!(
            text(&fx.replies),
            [":srv 482 bob #c :You're not channel operator"]
        );
        let fx = c.invite(&to("alice"), &req(A, "alice"), "carol");
        assert_eq!(fx.forward.as_ref().map(|f| f.0.as_str()), Some("carol"));
        assert_eq!(
            fx.deliveries[0].event.alt.as_ref().map(|a| a.0),
            Some(Cap::InviteNotify)
        );
        let fx = c.join(&to("carol"), &req(C, "carol"), info("carol"), None);
        assert_eq!(
            text(&fx.replies),
            [":srv 471 carol #c :Cannot join channel (+l)"]
        );
        c.mode(&to("alice"), &req(A, "alice"), &args(&["-l"]), now);
        let fx = c.join(&to("carol"), &req(C, "carol"), info("carol"), None);
        assert!(fx.replies.iter().any(|l| l.starts_with(b":srv 353 ")));
        let fx = c.join(
            &to("dave"),
            &req(ClientRef { core: 0, id: 9 }, "dave"),
            info("dave"),
            None,
        );
        assert_eq!(
            text(&fx.replies),
            [":srv 473 dave #c :Cannot join channel (+i)"],
            "the invite was carol's"
        );
        let msg = |c: &Channel, who, nick| {
            c.privmsg(
                &to(nick),
                &req(who, nick),
                Bytes::from("x"),
                false,
                Meta::default(),
                false,
            )
        };
        assert_eq!(
            text(&msg(&c, B, "bob").replies),
            [":srv 404 bob #c :Cannot send to channel"]
        );
        assert!(
            msg(&c, A, "alice").replies.is_empty(),
            "+m: the operator speaks"
        );
    }

    #[test]
    fn part_reaches_the_leaver_then_removes_it() {
        let mut c = chan();
        let fx = c.part(&to("bob"), &req(B, "bob"), Some(Bytes::from("bye")));
        assert_eq!(fx.deliveries[0].cores, vec![0, 1], "bob's core gets it too");
        assert_eq!(fx.deliveries[0].event.change, Change::Leave { who: B });
        assert_eq!(
            &fx.deliveries[0].event.line[..],
            b":bob!bob@h PART #c :bye\r\n"
        );
        assert!(!c.is_member(B));
        let fx = c.part(&to("bob"), &req(B, "bob"), None);
        assert_eq!(
            text(&fx.replies),
            [":srv 442 bob #c :You're not on that channel"]
        );
    }

    #[test]
    fn topic_needs_op_while_locked() {
        let mut c = chan();
        let fx = c.topic(&to("bob"), &req(B, "bob"), Some(Bytes::from("t")), 5);
        assert_eq!(
            text(&fx.replies),
            [":srv 482 bob #c :You're not channel operator"]
        );
        let fx = c.topic(&to("alice"), &req(A, "alice"), Some(Bytes::from("t")), 5);
        assert_eq!(
            &fx.deliveries[0].event.line[..],
            b":alice!alice@h TOPIC #c :t\r\n"
        );
        let fx = c.topic(&to("bob"), &req(B, "bob"), None, 0);
        assert_eq!(
            text(&fx.replies),
            [":srv 332 bob #c :t", ":srv 333 bob #c alice!alice@h 5"]
        );
    }

    #[test]
    fn kick_needs_op_and_a_member() {
        let mut c = chan();
        let fx = c.kick(&to("bob"), &req(B, "bob"), "alice", Bytes::from("x"));
        assert_eq!(
            text(&fx.replies),
            [":srv 482 bob #c :You're not channel operator"]
        );
        let fx = c.kick(&to("alice"), &req(A, "alice"), "nobody", Bytes::from("x"));
        assert_eq!(
            text(&fx.replies),
            [":srv 441 alice nobody #c :They aren't on that channel"]
        );
        let fx = c.kick(&to("alice"), &req(A, "alice"), "BOB", Bytes::from("out"));
        assert_eq!(
            &fx.deliveries[0].event.line[..],
            b":alice!alice@h KICK #c bob :out\r\n"
        );
        assert_eq!(fx.deliveries[0].event.change, Change::Leave { who: B });
        assert!(!c.is_member(B));
    }

    #[test]
    fn leave_builds_a_quit_and_empties_the_channel() {
        let mut c = chan();
        let fx = c.leave(B, None, Some(9));
        assert!(fx.unanswered);
        let d = &fx.deliveries[0];
        assert_eq!(&d.event.line[..], b":bob!bob@h QUIT :Connection closed\r\n");
        assert_eq!(
            (d.event.except, d.event.dedup, d.cores.clone()),
            (Some(B), Some(9), vec![0])
        );
        c.leave(A, None, None);
        assert!(c.is_empty());
        assert!(c.leave(A, None, None).deliveries.is_empty());
    }

    #[test]
    fn who_hides_invisible_members_from_outsiders_only() {
        let mut c = chan();
        let mut bob = info("bob");
        bob.invisible = true;
        c.update(B, &bob, None);
        let fx = c.who(&to("alice"), &req(A, "alice"));
        assert_eq!(fx.replies.len(), 3, "alice shares #c with invisible bob");
        let fx = c.who(&to("carol"), &req(C, "carol"));
        assert_eq!(fx.replies.len(), 2);
    }
}
