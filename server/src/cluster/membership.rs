//! The channel calls the chat server makes (`--cluster`): a JOIN that can
//! return the channel's state in the same script (so a node's view starts
//! from a snapshot ordered exactly before its own JOIN on the channel's
//! topic), a member leaving or renamed in one channel, and LIST across
//! every node's channels. Each is one script, atomic in Redis, publishing
//! its change on the channel's topic.

use bytes::Bytes;

use super::channels::{forget_member, join_outcome, parse_state};
use super::error::ClusterError;
use super::resp::{as_array, as_bytes, as_int};
use super::scripts::Script;
use super::{ChannelState, Cluster, JoinOutcome};

/// One channel as LIST shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    pub name: Bytes,
    pub members: usize,
    pub topic: Bytes,
    /// +s: shown only to its members.
    pub secret: bool,
    /// The asking nick is a member.
    pub member: bool,
}

/// What a JOIN through [`Cluster::join_member`] sends.
pub struct JoinArgs<'a> {
    /// Folded channel name (the key), and the name as typed (kept if the
    /// JOIN creates the channel).
    pub chan: &'a [u8],
    pub name: &'a [u8],
    /// Folded nick, and `nick!user@host`.
    pub nick: &'a [u8],
    pub prefix: &'a [u8],
    pub key: &'a [u8],
    pub realname: &'a [u8],
    /// Return the channel's state (after the JOIN) with the outcome.
    pub want_state: bool,
}

impl Cluster {
    /// Like [`Cluster::join`], but the JOIN line (`:prefix JOIN <name> *
    /// :<realname>`, extended-join's form) is built by the script with the
    /// channel's own spelling, the realname is kept for WHO, and the state
    /// comes back if asked for, without this client's own members (they
    /// arrive through its own JOIN envelopes).
    pub async fn join_member(
        &self,
        a: JoinArgs<'_>,
    ) -> Result<(JoinOutcome, Option<ChannelState>), ClusterError> {
        let inner = &self.inner;
        let (chan_b, nick_b) = (
            Bytes::copy_from_slice(a.chan),
            Bytes::copy_from_slice(a.nick),
        );
        let fresh = inner
            .mirror
            .borrow_mut()
            .entry(chan_b.clone())
            .or_default()
            .insert(nick_b.clone(), Bytes::copy_from_slice(a.prefix))
            .is_none();
        let want: &[u8] = if a.want_state { b"1" } else { b"0" };
        let args: [&[u8]; 9] = [
            a.chan,
            a.nick,
            &inner.owner,
            a.prefix,
            a.key,
            b"",
            a.name,
            a.realname,
            want,
        ];
        let result = inner.eval(Script::Join, &args).await.and_then(|r| {
            let state = as_array(&r).and_then(|i| i.get(3)).and_then(parse_state);
            Ok((join_outcome(&r)?, state))
        });
        let joined = matches!(
            result,
            Ok((JoinOutcome::Joined { .. } | JoinOutcome::AlreadyMember, _))
        );
        if fresh && !joined {
            forget_member(inner, &chan_b, &nick_b).await;
        }
        let owner = inner.owner.clone();
        result.map(|(outcome, state)| {
            let state = state.map(|mut s| {
                s.members.retain(|m| m.owner != owner);
                s
            });
            (outcome, state)
        })
    }

    /// The state of `chan` without this client's own members, which the
    /// caller knows, and the nicks of those (to tell ghosts apart).
    pub async fn channel_view(
        &self,
        chan: &[u8],
    ) -> Result<Option<(ChannelState, Vec<Bytes>)>, ClusterError> {
        let Some(mut state) = self.channel(chan).await? else {
            return Ok(None);
        };
        let owner = &self.inner.owner;
        let mine = state
            .members
            .iter()
            .filter(|m| m.owner == *owner)
            .map(|m| m.nick.clone())
            .collect();
        state.members.retain(|m| m.owner != *owner);
        Ok(Some((state, mine)))
    }

    /// `nick`, joined through this client, leaves `chan`; `kind` is `PART`
    /// or `QUIT` and `line` what the members see. `Err(442)` if it was not
    /// such a member.
    pub async fn leave_channel(
        &self,
        chan: &[u8],
        nick: &[u8],
        kind: &[u8],
        line: &[u8],
    ) -> Result<Result<(), u16>, ClusterError> {
        let args: [&[u8]; 5] = [chan, nick, &self.inner.owner, kind, line];
        let reply = self.inner.eval(Script::Leave, &args).await?;
        self.forget(chan, nick);
        Ok(numeric(as_int(&reply)))
    }

    /// The member `old` of `chan` (joined through this client) is now
    /// `new` (`new_prefix` = `New!user@host`); `line` is the NICK line.
    pub async fn rename_in(
        &self,
        chan: &[u8],
        old: &[u8],
        new: &[u8],
        new_prefix: &[u8],
        line: &[u8],
    ) -> Result<Result<(), u16>, ClusterError> {
        let args: [&[u8]; 6] = [chan, old, new, &self.inner.owner, new_prefix, line];
        let reply = self.inner.eval(Script::RenameIn, &args).await?;
        let renamed = numeric(as_int(&reply));
        if renamed.is_ok() {
            let mut mirror = self.inner.mirror.borrow_mut();
            if let Some(members) = mirror.get_mut(chan) {
                members.remove(old);
                members.insert(
                    Bytes::copy_from_slice(new),
                    Bytes::copy_from_slice(new_prefix),
                );
            }
        }
        Ok(renamed)
    }

    /// Every channel of the network, for LIST by `nick` (folded).
    pub async fn list(&self, nick: &[u8]) -> Result<Vec<ListEntry>, ClusterError> {
        let reply = self.inner.eval(Script::List, &[nick]).await?;
        let items = as_array(&reply).unwrap_or_default();
        Ok(items
            .chunks_exact(5)
            .filter_map(|e| {
                let modes = as_bytes(&e[3]).cloned().unwrap_or_default();
                Some(ListEntry {
                    name: as_bytes(&e[0])?.clone(),
                    members: as_int(&e[1])?.max(0) as usize,
                    topic: as_bytes(&e[2]).cloned().unwrap_or_default(),
                    secret: modes.contains(&b's'),
                    member: as_int(&e[4]) == Some(1),
                })
            })
            .collect())
    }

    /// Drops `nick` from what this client restores after Redis lost its
    /// data (the channel's topic stays subscribed while the caller wants it).
    fn forget(&self, chan: &[u8], nick: &[u8]) {
        let mut mirror = self.inner.mirror.borrow_mut();
        if let Some(members) = mirror.get_mut(chan) {
            members.remove(nick);
            if members.is_empty() {
                mirror.remove(chan);
            }
        }
    }
}

fn numeric(code: Option<i64>) -> Result<(), u16> {
    match code {
        Some(0) => Ok(()),
        Some(c) => Err(c.clamp(1, 999) as u16),
        None => Err(0),
    }
}
