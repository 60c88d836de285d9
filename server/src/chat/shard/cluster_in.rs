//! What the cluster bridge hands back to a shard (`--cluster` only).

use super::Shard;
use crate::chat::bridge::{with_crlf, ClusterMsg, ClusterReq};
use crate::chat::casemap::fold;
use crate::chat::msg::{HomeMsg, Msg};
use crate::chat::registry::no_such_nick;
use crate::chat::tags::Meta;
use crate::cluster::Kind;

impl Shard {
    /// From now on nick claims and channel lines also go through the
    /// cluster (`--cluster`).
    pub fn set_clustered(&mut self) {
        self.mail.set_clustered();
    }

    /// What the shard queued for the cluster bridge since the last call.
    pub fn take_cluster(&mut self) -> Vec<ClusterReq> {
        self.mail.take_cluster()
    }

    pub fn on_cluster(&mut self, msg: ClusterMsg) {
        let server = &self.cfg.name;
        let mail = &mut self.mail;
        match msg {
            ClusterMsg::Claimed { nick, from, ok } => {
                if !ok {
                    self.registry.forget(&fold(&nick), from, None, mail);
                }
                let msg = HomeMsg::NickResult {
                    id: from.id,
                    nick,
                    ok,
                };
                mail.post(from.core, Msg::Home(msg));
            }
            ClusterMsg::Sent { req } => mail.answer(&req, Vec::new(), None),
            ClusterMsg::Invited { req, target, chan } => {
                let to = crate::chat::numerics::To {
                    server,
                    nick: &req.nick,
                };
                let line = to.num(crate::chat::numerics::RPL_INVITING);
                mail.answer(&req, vec![line.param(&target).param(&chan).finish()], None);
            }
            ClusterMsg::DirectFailed { target, req, op } => {
                no_such_nick(mail, server, &target, req, op)
            }
            // No room in the bridge's queue (`bridge::refuse`).
            ClusterMsg::Subscribed { chan, then } if chan.is_empty() => {
                if let Some(then) = then {
                    self.channels.join_refused(then, mail, server);
                }
            }
            ClusterMsg::Subscribed { chan, then } => {
                self.channels.subscribed(chan);
                if let Some(then) = then {
                    self.handle(then);
                }
            }
            ClusterMsg::Received { env, own, dedup } => match env.kind {
                Kind::Direct => {
                    let nick = String::from_utf8_lossy(&env.subject);
                    if let Some(to) = self.registry.holder(&nick) {
                        let (meta, line) = Meta::from_wire(&env.line);
                        let msg = HomeMsg::Afar {
                            id: to.id,
                            tags_only: is_tagmsg(&line),
                            line: with_crlf(&line),
                            meta,
                        };
                        mail.post(to.core, Msg::Home(msg));
                    }
                }
                Kind::Msg => self.channels.relay(&env, own, dedup, mail),
                _ => self.channels.on_event(&env, own, dedup, mail, server),
            },
            ClusterMsg::Link(why) => self.on_link(why),
            ClusterMsg::Users(m) => self.on_users(m),
            ClusterMsg::NickLost(nick) => self.on_nick_lost(nick),
            ClusterMsg::Chan(done) => {
                let (call, answer) = *done;
                self.channels.on_chan_answer(call, answer, mail, server)
            }
            ClusterMsg::Listed(call, entries) => {
                self.channels.on_listed(call, entries, mail, server)
            }
        }
    }

    /// Redis lost or back (its channels' topics subscribed again, the
    /// outbox flushed): every local client is told.
    fn on_link(&mut self, why: Option<String>) {
        let text = match &why {
            Some(why) => {
                tracing::warn!("cluster: Redis lost ({why}); reconnecting");
                let server = &self.cfg.name;
                self.channels.link_lost(&mut self.mail, server);
                LINK_LOST
            }
            None => {
                tracing::info!("cluster: connected to Redis again");
                self.channels.resync(&mut self.mail);
                LINK_BACK
            }
        };
        for id in self.home.ids() {
            self.home
                .reply(&mut self.mail, id, |to| to.text("NOTICE", text));
        }
    }
}

/// Whether `line` (`:prefix TAGMSG target`) is a TAGMSG.
fn is_tagmsg(line: &[u8]) -> bool {
    line.split(|&b| b == b' ').nth(1) == Some(b"TAGMSG")
}

/// What every local client is told when Redis goes away and comes back.
pub const LINK_LOST: &str = "*** Lost the link to the rest of the network; reconnecting. \
    You stay connected; channel messages wait until it is back, new nicks and \
    messages to users on other servers are refused meanwhile.";
pub const LINK_BACK: &str = "*** Link to the rest of the network restored.";
