//! Channel operations: each one script run atomically in Redis, whose
//! refusal comes back as the IRC numeric the chat server sends.

use bytes::Bytes;

use super::error::ClusterError;
use super::resp::{as_array, as_bytes, as_int, Reply};
use super::scripts::Script;
use super::state::Inner;
use super::Cluster;

/// The result of [`Cluster::join`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinOutcome {
    /// Joined; `op` if the join created the channel (its first member).
    Joined { op: bool },
    /// Already a member: nothing happened.
    AlreadyMember,
    /// Refused with this numeric: 471 (+l full), 473 (+i), 474 (banned), 475 (+k).
    Refused(u16),
}

/// The result of [`Cluster::mode`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModeOutcome {
    /// The MODE line as applied (already published), empty if nothing changed.
    pub line: Bytes,
    /// Nicks of +o/+v/-o/-v targets not on the channel (441 each).
    pub not_on_channel: Vec<Bytes>,
}

/// One member as every node sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub nick: Bytes,
    /// `@` and/or `+`, empty for none.
    pub flags: Bytes,
    /// `nick!user@host`.
    pub prefix: Bytes,
    /// The owner id of the client it joined through.
    pub owner: Bytes,
    /// The realname given at JOIN (for WHO); may be empty.
    pub realname: Bytes,
}

/// One ban-list entry: mask, who set it, when (s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanEntry {
    pub mask: Bytes,
    pub setter: Bytes,
    pub time: u64,
}

/// A channel's state, read in one script (a consistent snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelState {
    /// The name as the channel's creator spelled it.
    pub name: Bytes,
    /// Creation time (s).
    pub created: u64,
    /// Mode letters without arguments (`nt`, `int`...).
    pub modes: Bytes,
    pub key: Option<Bytes>,
    pub limit: Option<u32>,
    pub topic: Option<Bytes>,
    pub topic_by: Option<Bytes>,
    pub topic_at: Option<u64>,
    pub members: Vec<Member>,
    /// Ban masks (in `ban_list`'s order).
    pub bans: Vec<Bytes>,
    pub ban_list: Vec<BanEntry>,
}

/// A script's numeric reply: `Ok(())` for 0, `Err(code)` otherwise.
fn numeric(reply: &Reply) -> Result<Result<(), u16>, ClusterError> {
    match as_int(reply) {
        Some(0) => Ok(Ok(())),
        Some(code) => Ok(Err(code.clamp(0, 999) as u16)),
        None => Err(ClusterError::Protocol(format!("{reply:?}"))),
    }
}

impl Cluster {
    /// `nick` (folded; `prefix` = `nick!user@host`) joins `chan` with `key`,
    /// publishing `line` (`:nick!u@h JOIN #chan`) in the channel's order. The
    /// topic is subscribed first, so the joiner's node sees its own JOIN and
    /// everything after it.
    pub async fn join(
        &self,
        chan: &[u8],
        nick: &[u8],
        prefix: &[u8],
        key: &[u8],
        line: &[u8],
    ) -> Result<JoinOutcome, ClusterError> {
        let inner = &self.inner;
        let (chan_b, nick_b) = (Bytes::copy_from_slice(chan), Bytes::copy_from_slice(nick));
        let fresh = inner
            .mirror
            .borrow_mut()
            .entry(chan_b.clone())
            .or_default()
            .insert(nick_b.clone(), Bytes::copy_from_slice(prefix))
            .is_none();
        let args: [&[u8]; 6] = [chan, nick, &inner.owner, prefix, key, line];
        let result = match inner.subscribe(&[inner.topic(chan)]).await {
            Ok(()) => inner
                .eval(Script::Join, &args)
                .await
                .and_then(|r| join_outcome(&r)),
            Err(e) => Err(e),
        };
        if fresh
            && !matches!(
                result,
                Ok(JoinOutcome::Joined { .. }) | Ok(JoinOutcome::AlreadyMember)
            )
        {
            forget_member(inner, &chan_b, &nick_b).await;
        }
        result
    }

    /// `nick` leaves `chan`, publishing `line`. `Err(403 | 442)` if it was not there.
    pub async fn part(
        &self,
        chan: &[u8],
        nick: &[u8],
        line: &[u8],
    ) -> Result<Result<(), u16>, ClusterError> {
        let reply = self
            .inner
            .eval(Script::Part, &[chan, nick, &self.inner.owner, line])
            .await?;
        numeric(&reply)
    }

    /// `by` kicks `target` from `chan`, publishing `line`. Refusals: 403,
    /// 442 (`by` not on it), 482 (`by` not op), 441 (`target` not on it).
    pub async fn kick(
        &self,
        chan: &[u8],
        by: &[u8],
        target: &[u8],
        line: &[u8],
    ) -> Result<Result<(), u16>, ClusterError> {
        let args: [&[u8]; 5] = [chan, by, target, &self.inner.owner, line];
        numeric(&self.inner.eval(Script::Kick, &args).await?)
    }

    /// `by` sets the topic of `chan` to `text` (`setter` = `nick!user@host`),
    /// publishing `line`. Refusals: 403, 442, 482 (+t and not op).
    pub async fn set_topic(
        &self,
        chan: &[u8],
        by: &[u8],
        text: &[u8],
        setter: &[u8],
        line: &[u8],
    ) -> Result<Result<(), u16>, ClusterError> {
        let args: [&[u8]; 6] = [chan, by, text, setter, &self.inner.owner, line];
        numeric(&self.inner.eval(Script::Topic, &args).await?)
    }

    /// `by` (`prefix` = its `nick!user@host`) applies `changes` to `chan`:
    /// pairs like `("+o", nick)`, `("-k", "")`, `("+b", mask)`, `("+i", "")`.
    /// Changes that change nothing are left out of the published line.
    /// Refusals: 403, 442, 482.
    pub async fn mode(
        &self,
        chan: &[u8],
        by: &[u8],
        prefix: &[u8],
        changes: &[(&[u8], &[u8])],
    ) -> Result<Result<ModeOutcome, u16>, ClusterError> {
        let mut args: Vec<&[u8]> = vec![chan, by, &self.inner.owner, prefix];
        for (change, arg) in changes {
            args.extend([*change, *arg]);
        }
        let reply = self.inner.eval(Script::Mode, &args).await?;
        let items = as_array(&reply).unwrap_or_default();
        match items.first().and_then(as_int) {
            Some(0) => Ok(Ok(ModeOutcome {
                line: items.get(1).and_then(as_bytes).cloned().unwrap_or_default(),
                not_on_channel: items.iter().skip(2).filter_map(as_bytes).cloned().collect(),
            })),
            Some(code) => Ok(Err(code.clamp(0, 999) as u16)),
            None => Err(ClusterError::Protocol(format!("{reply:?}"))),
        }
    }

    /// `by` invites `target` to `chan` (lets it past +i and bans once).
    /// Refusals: 403, 442, 482 (+i and not op), 443 (already on it).
    pub async fn invite(
        &self,
        chan: &[u8],
        by: &[u8],
        target: &[u8],
    ) -> Result<Result<(), u16>, ClusterError> {
        numeric(&self.inner.eval(Script::Invite, &[chan, by, target]).await?)
    }

    /// The state of `chan` as every node sees it; `None` if it does not exist.
    pub async fn channel(&self, chan: &[u8]) -> Result<Option<ChannelState>, ClusterError> {
        let reply = self.inner.eval(Script::State, &[chan]).await?;
        Ok(parse_state(&reply))
    }
}

/// A `state_of` reply from a script; `None` if empty or malformed.
pub(super) fn parse_state(reply: &Reply) -> Option<ChannelState> {
    let items = as_array(reply).filter(|i| i.len() >= 10)?;
    let text = |i: usize| items.get(i).and_then(as_bytes).cloned();
    let num = |i: usize| items.get(i).and_then(as_int);
    let list = |i: usize| -> Vec<Bytes> {
        items
            .get(i)
            .and_then(as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(as_bytes)
            .cloned()
            .collect()
    };
    let members = list(8)
        .chunks_exact(5)
        .map(|m| Member {
            nick: m[0].clone(),
            flags: if &m[1][..] == b"-" {
                Bytes::new()
            } else {
                m[1].clone()
            },
            prefix: m[2].clone(),
            owner: m[3].clone(),
            realname: m[4].clone(),
        })
        .collect();
    let ban_list: Vec<BanEntry> = list(9)
        .chunks_exact(3)
        .map(|b| BanEntry {
            mask: b[0].clone(),
            setter: b[1].clone(),
            time: std::str::from_utf8(&b[2])
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0),
        })
        .collect();
    Some(ChannelState {
        name: text(0).unwrap_or_default(),
        modes: text(1).unwrap_or_default(),
        key: text(2),
        limit: num(3).map(|l: i64| l.clamp(0, i64::from(u32::MAX)) as u32),
        topic: text(4).filter(|t| !t.is_empty()),
        topic_by: text(5),
        topic_at: num(6).map(|t: i64| t.max(0) as u64),
        created: num(7).map_or(0, |t: i64| t.max(0) as u64),
        members,
        bans: ban_list.iter().map(|b| b.mask.clone()).collect(),
        ban_list,
    })
}

pub(super) fn join_outcome(reply: &Reply) -> Result<JoinOutcome, ClusterError> {
    let items = as_array(reply).unwrap_or_default();
    match (
        items.first().and_then(as_int),
        items.get(1).and_then(as_bytes),
    ) {
        (Some(0), Some(flags)) => Ok(JoinOutcome::Joined {
            op: flags.contains(&b'@'),
        }),
        (Some(1), _) => Ok(JoinOutcome::AlreadyMember),
        (Some(code), _) => Ok(JoinOutcome::Refused(code.clamp(0, 999) as u16)),
        _ => Err(ClusterError::Protocol(format!("{reply:?}"))),
    }
}

/// Removes a member that did not make it in; unsubscribes if it was the
/// last and nobody subscribed to the channel itself (`Cluster::subscribe`).
pub(super) async fn forget_member(inner: &Inner, chan: &Bytes, nick: &Bytes) {
    let emptied = {
        let mut mirror = inner.mirror.borrow_mut();
        let members = mirror.entry(chan.clone()).or_default();
        members.remove(nick);
        let empty = members.is_empty();
        if empty {
            mirror.remove(chan);
        }
        empty
    };
    if emptied && !inner.channels.borrow().contains(chan) {
        inner.unsubscribe(inner.topic(chan)).await;
    }
}
