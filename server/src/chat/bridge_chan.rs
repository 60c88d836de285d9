//! Channel state through the cluster (`--cluster`): what a channel's owner
//! core asks Redis (a JOIN, a MODE, a KICK... each one script, decided
//! with the network-wide state), and what comes back. The change itself
//! reaches every node, this one included, on the channel's topic; the
//! answer here only tells the requester (refusals, the snapshot a node's
//! view starts from).

use bytes::Bytes;

use super::casemap::fold;
use super::msg::{ChanOp, ListFilter, MemberInfo, Req};
use crate::cluster::{ChannelState, Cluster, ClusterError, JoinArgs, JoinOutcome, ListEntry};

/// One request about the folded channel `chan` from `req`.
#[derive(Debug)]
pub struct ChanCall {
    pub chan: String,
    pub req: Req,
    pub what: ChanWhat,
}

#[derive(Debug)]
pub enum ChanWhat {
    Join {
        name: String,
        info: MemberInfo,
        key: Option<String>,
        want_state: bool,
    },
    /// The member `nick` (folded) leaves: PART (answered) or QUIT.
    Part {
        nick: String,
        line: Bytes,
    },
    Quit {
        nick: String,
        line: Bytes,
    },
    Rename {
        old: String,
        new_nick: String,
        new_prefix: String,
        line: Bytes,
    },
    Kick {
        target: String,
        line: Bytes,
    },
    Topic {
        text: Bytes,
        line: Bytes,
    },
    Mode {
        changes: Vec<(String, String)>,
        replies: Vec<Bytes>,
    },
    Invite {
        target: String,
    },
    /// A query about a channel without members here, answered from Redis.
    View {
        op: ChanOp,
    },
    /// Re-read the state after a reconnect.
    Resync,
}

impl ChanWhat {
    /// What it is, for logs.
    pub fn verb(&self) -> &'static str {
        match self {
            ChanWhat::Join { .. } => "JOIN",
            ChanWhat::Part { .. } => "PART",
            ChanWhat::Quit { .. } => "QUIT",
            ChanWhat::Rename { .. } => "NICK",
            ChanWhat::Kick { .. } => "KICK",
            ChanWhat::Topic { .. } => "TOPIC",
            ChanWhat::Mode { .. } => "MODE",
            ChanWhat::Invite { .. } => "INVITE",
            ChanWhat::View { .. } => "a query",
            ChanWhat::Resync => "re-reading the state",
        }
    }
}

/// What Redis said.
#[derive(Debug)]
pub enum ChanAnswer {
    Done,
    Refused(u16),
    /// Redis unreachable (or its answer not understood).
    Unavailable,
    /// Joined (`already`: Redis had it as a member, no JOIN was published),
    /// with the state if it was asked for.
    Joined {
        state: Option<ChannelState>,
        already: bool,
    },
    /// MODE applied; these +o/+v targets are not on the channel.
    Mode {
        absent: Vec<Bytes>,
    },
    /// The state without this node's members, and their nicks.
    View {
        state: Option<ChannelState>,
        mine: Vec<Bytes>,
    },
}

/// LIST across the network, answered by one core of the node.
#[derive(Debug)]
pub struct ListCall {
    pub req: Req,
    pub filter: ListFilter,
}

pub async fn call(cluster: &Cluster, c: &ChanCall) -> ChanAnswer {
    match run(cluster, c).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!("cluster: {} on {}: {e}", c.what.verb(), c.chan);
            ChanAnswer::Unavailable
        }
    }
}

async fn run(cluster: &Cluster, c: &ChanCall) -> Result<ChanAnswer, ClusterError> {
    let chan = c.chan.as_bytes();
    let by = fold(&c.req.nick);
    let (by, prefix) = (by.as_bytes(), c.req.prefix.as_bytes());
    let done = |r: Result<(), u16>| r.map_or_else(ChanAnswer::Refused, |()| ChanAnswer::Done);
    Ok(match &c.what {
        ChanWhat::Join { .. } => join(cluster, c, prefix).await?,
        ChanWhat::Part { nick, line } => done(
            cluster
                .leave_channel(chan, nick.as_bytes(), b"PART", trim(line))
                .await?,
        ),
        ChanWhat::Quit { nick, line } => done(
            cluster
                .leave_channel(chan, nick.as_bytes(), b"QUIT", trim(line))
                .await?,
        ),
        ChanWhat::Rename {
            old,
            new_nick,
            new_prefix,
            line,
        } => {
            let new = fold(new_nick);
            let (old, new_prefix) = (old.as_bytes(), new_prefix.as_bytes());
            let renamed = cluster.rename_in(chan, old, new.as_bytes(), new_prefix, trim(line));
            done(renamed.await?)
        }
        ChanWhat::Kick { target, line } => {
            let target = fold(target);
            done(
                cluster
                    .kick(chan, by, target.as_bytes(), trim(line))
                    .await?,
            )
        }
        ChanWhat::Topic { text, line } => done(
            cluster
                .set_topic(chan, by, text, prefix, trim(line))
                .await?,
        ),
        ChanWhat::Mode { changes, .. } => {
            let pairs: Vec<(&[u8], &[u8])> = changes
                .iter()
                .map(|(c, a)| (c.as_bytes(), a.as_bytes()))
                .collect();
            match cluster.mode(chan, by, prefix, &pairs).await? {
                Ok(m) => ChanAnswer::Mode {
                    absent: m.not_on_channel,
                },
                Err(code) => ChanAnswer::Refused(code),
            }
        }
        ChanWhat::Invite { target } => {
            let target = fold(target);
            done(cluster.invite(chan, by, target.as_bytes()).await?)
        }
        ChanWhat::View { .. } | ChanWhat::Resync => match cluster.channel_view(chan).await? {
            Some((state, mine)) => ChanAnswer::View {
                state: Some(state),
                mine,
            },
            None => ChanAnswer::View {
                state: None,
                mine: Vec::new(),
            },
        },
    })
}

async fn join(cluster: &Cluster, c: &ChanCall, prefix: &[u8]) -> Result<ChanAnswer, ClusterError> {
    let ChanWhat::Join {
        name,
        info,
        key,
        want_state,
    } = &c.what
    else {
        return Ok(ChanAnswer::Unavailable);
    };
    let nick = fold(&info.nick);
    let args = JoinArgs {
        chan: c.chan.as_bytes(),
        name: name.as_bytes(),
        nick: nick.as_bytes(),
        prefix,
        key: key.as_deref().unwrap_or("").as_bytes(),
        realname: info.realname.as_bytes(),
        want_state: *want_state,
    };
    Ok(match cluster.join_member(args).await? {
        (JoinOutcome::Refused(code), _) => ChanAnswer::Refused(code),
        (outcome, state) => ChanAnswer::Joined {
            state,
            already: outcome == JoinOutcome::AlreadyMember,
        },
    })
}

/// Every channel of the network for `l`'s LIST (empty if Redis is away).
pub async fn list(cluster: &Cluster, l: &ListCall) -> Vec<ListEntry> {
    let nick = fold(&l.req.nick);
    cluster.list(nick.as_bytes()).await.unwrap_or_else(|e| {
        tracing::warn!("cluster: LIST: {e}");
        Vec::new()
    })
}

/// The line without its CRLF (envelopes carry it bare).
fn trim(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r\n").unwrap_or(line)
}
