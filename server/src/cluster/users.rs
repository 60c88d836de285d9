//! Users' public information network-wide (WHOIS, ISON, USERHOST,
//! MONITOR and WHOWAS for a nick held on another node).
//!
//! The client holding a nick's claim keeps the user's [`Profile`] in
//! `P user:<nick>` (a hash with the claim's owner id), written only while
//! the claim is its own and with a time to live of two leases that it
//! renews with its nick leases; after a Redis restart the next renewal
//! writes it again. A lookup reads the claim and the profile in one
//! script, so a profile left behind by a dead node (until its time to
//! live ends) is never shown for a nick someone else now holds. When a
//! profile first appears or goes away, an `ONLINE`/`OFFLINE` envelope goes
//! to the network topic (MONITOR). A freed nick's profile is pushed to
//! `P was:<nick>` (the last 10, kept a day) for WHOWAS.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use bytes::Bytes;

use super::error::ClusterError;
use super::resp::{as_array, as_bytes, as_int};
use super::state::Inner;
use super::wire::{Envelope, Kind};
use super::Cluster;

/// What every node may show about a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// The nick as its holder spells it.
    pub nick: Bytes,
    pub user: Bytes,
    pub host: Bytes,
    pub realname: Bytes,
    /// The away message, empty if not away.
    pub away: Bytes,
}

/// A profile as a lookup finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub profile: Profile,
    /// The node holding the nick.
    pub node: Bytes,
}

/// The profiles this client holds, by folded nick.
pub type Profiles = Rc<RefCell<HashMap<Bytes, Profile>>>;

/// Profiles written per script call when renewing.
const CHUNK: usize = 100;
/// WHOWAS entries kept per nick, and for how long.
const WAS_KEPT: &str = "10";
const WAS_TTL_MS: &str = "86400000";

/// ARGV: P, owner, ttl_ms, then (nick, spelled, user, host, realname, away)...
/// Writes each profile whose nick this owner holds; returns how many.
const SET: &str = r#"
local P, owner, ttl, n = ARGV[1], ARGV[2], ARGV[3], 0
for i = 4, #ARGV - 5, 6 do
  if redis.call('GET', P..'nick:'..ARGV[i]) == owner then
    local k = P..'user:'..ARGV[i]
    redis.call('HSET', k, 'owner', owner, 'nick', ARGV[i + 1], 'user', ARGV[i + 2],
      'host', ARGV[i + 3], 'realname', ARGV[i + 4], 'away', ARGV[i + 5])
    redis.call('PEXPIRE', k, ttl)
    n = n + 1
  end
end
return n
"#;

/// ARGV: P, nick. {} if nobody holds it; {owner} if its holder wrote no
/// profile (yet); else {owner, nick, user, host, realname, away}.
const GET: &str = r#"
local P, n = ARGV[1], ARGV[2]
local owner = redis.call('GET', P..'nick:'..n)
if not owner then return {} end
local h = redis.call('HMGET', P..'user:'..n, 'owner', 'nick', 'user', 'host', 'realname', 'away')
if h[1] ~= owner then return {owner} end
return {owner, h[2] or n, h[3] or '', h[4] or '', h[5] or '', h[6] or ''}
"#;

/// ARGV: P, nick, owner, kept, ttl_ms. Deletes the owner's profile of
/// `nick`, remembering it for WHOWAS.
const DROP: &str = r#"
local P, n, owner = ARGV[1], ARGV[2], ARGV[3]
local k = P..'user:'..n
local h = redis.call('HMGET', k, 'owner', 'nick', 'user', 'host', 'realname')
if h[1] ~= owner then return 0 end
redis.call('DEL', k)
local w = P..'was:'..n
redis.call('LPUSH', w, h[2]..' '..h[3]..' '..h[4]..' '..h[5])
redis.call('LTRIM', w, 0, tonumber(ARGV[4]) - 1)
redis.call('PEXPIRE', w, ARGV[5])
return 1
"#;

impl Cluster {
    /// Shares `profile` for the folded nick this client holds (again after
    /// an AWAY or SETNAME); the first time, tells MONITOR on every node.
    /// Nothing if the claim is not this client's; while Redis is
    /// unreachable, the renewal after the reconnect writes it.
    pub async fn set_profile(&self, nick: &[u8], profile: Profile) -> Result<(), ClusterError> {
        let key = Bytes::copy_from_slice(nick);
        let written = write(&self.inner, &[(key.clone(), profile.clone())]).await;
        if matches!(written, Ok(0)) {
            return Ok(());
        }
        let fresh = self
            .profiles
            .borrow_mut()
            .insert(key, profile.clone())
            .is_none();
        if fresh && written.is_ok() {
            self.presence(Kind::Online, nick, &profile.nick).await;
        }
        written.map(drop)
    }

    /// The folded nick is no longer this client's: its profile goes (to
    /// WHOWAS) and MONITOR on every node hears it went offline.
    pub async fn drop_profile(&self, nick: &[u8]) -> Result<(), ClusterError> {
        let Some(profile) = self.profiles.borrow_mut().remove(nick) else {
            return Ok(());
        };
        let inner = &self.inner;
        let args: [&[u8]; 8] = [
            b"EVAL",
            DROP.as_bytes(),
            b"0",
            inner.cfg.prefix.as_bytes(),
            nick,
            &inner.owner,
            WAS_KEPT.as_bytes(),
            WAS_TTL_MS.as_bytes(),
        ];
        let dropped = inner.call(&args).await.map(drop);
        // After the WHOWAS entry is in: who hears of it may ask at once.
        self.presence(Kind::Offline, nick, &profile.nick).await;
        dropped
    }

    /// Stops sharing the folded nick's profile (another client took the
    /// nick while Redis was split; its profile is the new holder's now).
    pub fn forget_profile(&self, nick: &[u8]) {
        self.profiles.borrow_mut().remove(nick);
    }

    /// Who holds the folded nick, network-wide: `None` if nobody does.
    pub async fn profile(&self, nick: &[u8]) -> Result<Option<Found>, ClusterError> {
        let prefix = self.inner.cfg.prefix.as_bytes();
        let reply = self
            .inner
            .call(&[b"EVAL", GET.as_bytes(), b"0", prefix, nick])
            .await?;
        let fields: Vec<Bytes> = as_array(&reply)
            .unwrap_or_default()
            .iter()
            .map(|f| as_bytes(f).cloned().unwrap_or_default())
            .collect();
        let Some(owner) = fields.first() else {
            return Ok(None);
        };
        let node = owner.split(|&b| b == b':').next().unwrap_or(owner);
        let field = |i: usize| fields.get(i).cloned().unwrap_or_default();
        let spelled = Some(field(1)).filter(|n| !n.is_empty());
        let profile = Profile {
            nick: spelled.unwrap_or_else(|| Bytes::copy_from_slice(nick)),
            user: field(2),
            host: field(3),
            realname: field(4),
            away: field(5),
        };
        let node = Bytes::copy_from_slice(node);
        Ok(Some(Found { profile, node }))
    }

    /// The last `count` users of the folded nick, newest first:
    /// (nick, user, host, realname).
    pub async fn whowas(&self, nick: &[u8], count: usize) -> Result<Vec<[Bytes; 4]>, ClusterError> {
        let key = self.inner.key(&[b"was:", nick]);
        let last = count.clamp(1, 10) - 1; // at most WAS_KEPT are kept
        let last = last.to_string();
        let reply = self
            .inner
            .call(&[b"LRANGE", &key, b"0", last.as_bytes()])
            .await?;
        let entries = as_array(&reply).unwrap_or_default();
        Ok(entries
            .iter()
            .filter_map(as_bytes)
            .filter_map(|e| {
                let mut it = e.splitn(4, |&b| b == b' ');
                let mut next = || it.next().map(|f| e.slice_ref(f));
                Some([next()?, next()?, next()?, next()?])
            })
            .collect())
    }

    async fn presence(&self, kind: Kind, nick: &[u8], spelled: &[u8]) {
        let inner = &self.inner;
        let payload = Envelope::encode(kind, &inner.owner, nick, spelled, &[], b"");
        inner.publish(inner.network(), payload).await;
    }
}

/// Writes `profiles` (where this client still holds the nick); how many.
async fn write(inner: &Inner, profiles: &[(Bytes, Profile)]) -> Result<i64, ClusterError> {
    let ttl = (inner.cfg.lease.as_millis() * 2).to_string();
    let prefix = inner.cfg.prefix.as_bytes();
    let mut args: Vec<&[u8]> = vec![
        b"EVAL",
        SET.as_bytes(),
        b"0",
        prefix,
        &inner.owner,
        ttl.as_bytes(),
    ];
    for (nick, p) in profiles {
        args.extend([&nick[..], &p.nick, &p.user, &p.host, &p.realname, &p.away]);
    }
    let reply = inner.call(&args).await?;
    as_int(&reply).ok_or_else(|| ClusterError::Protocol(format!("{reply:?}")))
}

/// Renews every profile every `lease / 3` while the link is up (and
/// writes them again after Redis lost them).
pub async fn keep_profiles(inner: Rc<Inner>, profiles: Profiles) {
    let mut tick = uringo::time::interval(inner.cfg.lease / 3);
    loop {
        tick.tick().await;
        if inner.live().is_err() {
            continue;
        }
        let all: Vec<(Bytes, Profile)> = profiles
            .borrow()
            .iter()
            .map(|(n, p)| (n.clone(), p.clone()))
            .collect();
        for chunk in all.chunks(CHUNK) {
            if let Err(e) = write(&inner, chunk).await {
                tracing::debug!("cluster: renewing profiles failed: {e}");
                break;
            }
        }
    }
}
