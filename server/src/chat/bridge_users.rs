//! Clustered (`--cluster`): users' public information across nodes. The
//! registry core holding a nick's claim shares its user's profile (on
//! registration, NICK, AWAY, SETNAME) through `Cluster::set_profile`;
//! WHOIS, ISON, USERHOST, MONITOR and WHOWAS about a nick no local client
//! holds are answered from Redis (see `cluster::users`); the answers come
//! back to the shard as [`UserMsg`] (`shard/cluster_users.rs`).

use bytes::Bytes;

use super::bridge::ClusterMsg;
use super::casemap::fold;
use super::msg::{ClientRef, NickMsg, NickOp, Req};
use super::session::Session;
use crate::cluster::{Cluster, Envelope, Found, Kind, Profile};

/// What a shard asks the cluster about users.
#[derive(Debug)]
pub enum UserReq {
    /// Share the profile of the folded nick this core holds.
    Profile { folded: String, profile: Profile },
    /// WHOIS, ISON or USERHOST for a nick no local client holds.
    Lookup {
        target: String,
        req: Req,
        op: NickOp,
    },
    /// MONITOR: is `nick` online anywhere? Tell `from`, then answer `req`.
    Watch {
        nick: String,
        from: ClientRef,
        req: Req,
    },
    /// WHOWAS network-wide; `local` is this core's answer if Redis has none.
    Whowas {
        nick: String,
        count: usize,
        req: Req,
        local: Vec<Bytes>,
    },
}

/// What comes back.
#[derive(Debug)]
pub enum UserMsg {
    Found {
        target: String,
        req: Req,
        op: NickOp,
        found: Option<Box<Found>>,
    },
    Watched {
        nick: String,
        from: ClientRef,
        req: Req,
        online: bool,
    },
    /// Another node's user `folded` (`spelled`) came online or went offline.
    Presence {
        folded: String,
        spelled: String,
        online: bool,
    },
    Was {
        nick: String,
        req: Req,
        /// (nick, user, host, realname), newest first; empty: use `local`.
        entries: Vec<[Bytes; 4]>,
        local: Vec<Bytes>,
    },
}

/// Sends the client's public information to its nick's registry, which
/// shares it with the cluster (nothing when not clustered).
pub fn share_profile(s: &mut Session) {
    if !s.mail().is_clustered() {
        return;
    }
    let Some(c) = s.client().filter(|c| c.registered) else {
        return;
    };
    let Some(nick) = c.nick().map(str::to_string) else {
        return;
    };
    let (user, realname) = c.user_real();
    let profile = Profile {
        nick: Bytes::copy_from_slice(nick.as_bytes()),
        user: Bytes::copy_from_slice(user.as_bytes()),
        host: Bytes::copy_from_slice(c.host().as_bytes()),
        realname: Bytes::copy_from_slice(realname.as_bytes()),
        away: c.away().cloned().unwrap_or_default(),
    };
    let from = s.me();
    s.mail()
        .send_registry(&nick, NickMsg::Profile { from, profile });
}

/// Runs `req` on the cluster.
pub async fn call(cluster: &Cluster, req: UserReq) -> Option<ClusterMsg> {
    let msg = match req {
        UserReq::Profile { folded, profile } => {
            if let Err(e) = cluster.set_profile(folded.as_bytes(), profile).await {
                tracing::debug!("cluster: sharing {folded}'s profile: {e}");
            }
            return None;
        }
        UserReq::Lookup { target, req, op } => {
            let found = cluster.profile(fold(&target).as_bytes()).await;
            let found = found.ok().flatten().map(Box::new);
            UserMsg::Found {
                target,
                req,
                op,
                found,
            }
        }
        UserReq::Watch { nick, from, req } => {
            let found = cluster.profile(fold(&nick).as_bytes()).await;
            let (nick, online) = match found.ok().flatten() {
                Some(f) => (String::from_utf8_lossy(&f.profile.nick).into_owned(), true),
                None => (nick, false),
            };
            UserMsg::Watched {
                nick,
                from,
                req,
                online,
            }
        }
        UserReq::Whowas {
            nick,
            count,
            req,
            local,
        } => {
            let entries = cluster.whowas(fold(&nick).as_bytes(), count).await;
            let entries = entries.unwrap_or_default();
            UserMsg::Was {
                nick,
                req,
                entries,
                local,
            }
        }
    };
    Some(ClusterMsg::Users(msg))
}

/// The answer when the bridge has no room: as if Redis did not know.
pub fn refuse(req: UserReq) -> Option<ClusterMsg> {
    let msg = match req {
        UserReq::Profile { .. } => return None,
        UserReq::Lookup { target, req, op } => UserMsg::Found {
            target,
            req,
            op,
            found: None,
        },
        UserReq::Watch { nick, from, req } => UserMsg::Watched {
            nick,
            from,
            req,
            online: false,
        },
        UserReq::Whowas {
            nick, req, local, ..
        } => UserMsg::Was {
            nick,
            req,
            entries: Vec::new(),
            local,
        },
    };
    Some(ClusterMsg::Users(msg))
}

/// An `ONLINE`/`OFFLINE` envelope from another node, for MONITOR.
pub fn presence(env: &Envelope, own_node: &[u8]) -> Option<ClusterMsg> {
    let online = match env.kind {
        Kind::Online => true,
        Kind::Offline => false,
        _ => return None,
    };
    let node = env.origin.split(|&b| b == b':').next().unwrap_or(&[]);
    if node == own_node || env.subject.is_empty() {
        return None; // this node's registries told their watchers already
    }
    let folded = String::from_utf8_lossy(&env.subject).into_owned();
    let spelled = String::from_utf8_lossy(&env.extra).into_owned();
    Some(ClusterMsg::Users(UserMsg::Presence {
        folded,
        spelled,
        online,
    }))
}
