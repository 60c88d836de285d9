//! The chat server as a cluster of nodes over Redis (`--cluster`).
//!
//! Why Redis: it is the backplane operators already run for chat and
//! pub/sub services, it orders every topic's messages in one place, and its
//! scripts change several keys atomically. The protocol is RESP2 through
//! the `redis-protocol` crate on uringo's own TCP (no tokio).
//!
//! One [`Cluster`] is a client on one core (`!Send`): a command connection
//! (pipelined calls, scripts run by `EVALSHA`) and a pub/sub connection.
//! Each client has an *owner id* `node:core:incarnation`; nick claims and
//! channel members are recorded under it. What it guarantees:
//!
//! - **Nicks are unique network-wide.** [`Cluster::claim_nick`] is one
//!   atomic script (`SET NX PX`); of concurrent claims exactly one wins.
//!   The claim is a lease of `lease` (10 s by default) renewed every
//!   `lease / 3`; a node that dies frees its nicks at most `lease` after its
//!   last renewal, and its users leave every channel (a QUIT
//!   `:*.net *.split` is published for each) at most `lease + lease / 3`
//!   after it, when the next live node reaps its node lease.
//! - **Channel state changes atomically** in Lua scripts (`scripts.rs`):
//!   members across nodes, topic, modes, key, limit, bans, invites. The
//!   script decides with the network-wide state (a JOIN against +k/+i/+l/+b,
//!   op status for MODE/KICK/TOPIC) and publishes the change on the
//!   channel's topic, so JOIN, PART, KICK, TOPIC and MODE are ordered with
//!   the messages. Reads: the chat server keeps a per-node view of each
//!   channel with local members, fed by that topic and started from the
//!   snapshot [`Cluster::join_member`] returns in the JOIN's own script
//!   (queries cost no round trip and every node answers alike once the
//!   topic's events arrived); [`Cluster::channel`] and [`Cluster::list`]
//!   read Redis for the rest.
//! - **One order per channel.** [`Cluster::publish`] sends a channel message
//!   to the channel's topic; every node receives it in the order Redis
//!   applied it. A client subscribes to the topic of every channel that has
//!   members joined through it, before their JOIN runs.
//! - **Direct messages** go to the inbox topic of the nick's owner
//!   ([`Cluster::send_to_nick`]); QUIT and NICK changes go to the network
//!   topic that every client receives, with the user's channels.
//! - **Users' public information** (WHOIS, ISON, USERHOST, MONITOR,
//!   WHOWAS): the holder of a nick's claim keeps its user's [`Profile`]
//!   in Redis, with `ONLINE`/`OFFLINE` on the network topic (`users.rs`).
//! - **Redis unreachable or restarted**: [`Event::Down`], then reconnects
//!   with backoff (50 ms doubling to 2 s, jittered); on [`Event::Up`] the
//!   subscriptions, nick claims and this client's channel members are back
//!   (topics, modes, keys and bans are lost if Redis lost its data; a nick
//!   another node took meanwhile is reported as [`Event::NickLost`]).
//!   Publishes meanwhile wait in an outbox of `outbox` entries (10,000 by
//!   default), beyond which they are dropped and counted; calls that need an
//!   answer fail at once with [`ClusterError::Unavailable`]. Messages in the
//!   one write that was in flight when the connection broke may be lost.
//!
//! A server started without `--cluster` creates no [`Cluster`] and pays
//! nothing.

mod backoff;
mod channels;
mod config;
mod conn;
mod counters;
mod dispatch;
mod error;
mod link;
mod membership;
mod outbox;
mod resp;
mod scripts;
mod state;
mod subs;
mod users;
mod wire;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use uringo::chan::Receiver;
use uringo::JoinHandle;

pub use channels::{BanEntry, ChannelState, JoinOutcome, Member, ModeOutcome};
pub use config::{parse_redis_url, ClusterConfig};
pub use counters::ClusterCounters;
pub use error::ClusterError;
pub use membership::{JoinArgs, ListEntry};
pub use users::{Found, Profile};
pub use wire::{Envelope, Kind};

use resp::as_int;
use scripts::Script;
use state::Inner;

/// What the cluster tells the chat server, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Connected (again): subscriptions, nicks and members are restored
    /// and the outbox flushed.
    Up,
    /// Lost Redis (the reason); reconnecting. Local clients stay connected.
    Down(String),
    /// A nick this client held is now another node's (after an outage
    /// longer than the lease).
    NickLost(Bytes),
    /// A message published by any node (this one included).
    Message(Envelope),
}

/// A cluster client on the current core. Dropping it closes its
/// connections and stops its tasks (its leases then run out).
pub struct Cluster {
    inner: Rc<Inner>,
    /// The profiles of the users whose nicks this client holds.
    profiles: users::Profiles,
    tasks: Vec<JoinHandle<()>>,
}

/// Events buffered between the pub/sub connection and the consumer before
/// the connection stops reading (and Redis buffers instead).
const EVENTS: usize = 4096;

impl Cluster {
    /// Starts connecting in the background; the first event is `Up` or
    /// `Down`.
    pub fn start(cfg: ClusterConfig) -> (Cluster, Receiver<Event>) {
        let (events, rx) = uringo::chan(EVENTS);
        let incarnation = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()) << 40;
        let owner = format!("{}:{}:{incarnation:x}", cfg.node, uringo::core_id());
        let inner = Rc::new(Inner {
            outbox: RefCell::new(outbox::Outbox::new(cfg.outbox)),
            cfg,
            owner: owner.into(),
            link: RefCell::new(None),
            nicks: RefCell::new(BTreeSet::new()),
            mirror: RefCell::new(HashMap::new()),
            channels: RefCell::new(HashSet::new()),
            subscribed: RefCell::new(HashSet::new()),
            sub_waiters: RefCell::new(HashMap::new()),
            events,
            counters: Arc::default(),
            claims_closed_until: Cell::new(None),
        });
        let profiles = users::Profiles::default();
        let tasks = vec![
            uringo::spawn(link::supervise(inner.clone())),
            uringo::spawn(link::keep_leases(inner.clone())),
            uringo::spawn(users::keep_profiles(inner.clone(), profiles.clone())),
        ];
        let cluster = Cluster {
            inner,
            profiles,
            tasks,
        };
        (cluster, rx)
    }

    /// This client's owner id (`node:core:incarnation`).
    pub fn owner(&self) -> &Bytes {
        &self.inner.owner
    }

    /// Whether Redis is reachable now.
    pub fn is_up(&self) -> bool {
        self.inner.live().is_ok()
    }

    /// The counters, for metrics.
    pub fn counters(&self) -> Arc<ClusterCounters> {
        self.inner.counters.clone()
    }

    /// Claims `nick` (its folded form) for this client: `true` if it is now
    /// ours, `false` if another client holds it (433).
    pub async fn claim_nick(&self, nick: &[u8]) -> Result<bool, ClusterError> {
        if let Some(until) = self.inner.claims_closed_until.get() {
            if std::time::Instant::now() < until {
                return Ok(false); // other nodes may still be re-claiming it
            }
            self.inner.claims_closed_until.set(None);
        }
        let lease = self.inner.cfg.lease.as_millis().to_string();
        let reply = self
            .inner
            .eval(Script::Claim, &[nick, &self.inner.owner, lease.as_bytes()])
            .await?;
        let won = as_int(&reply) == Some(1);
        if won {
            self.inner
                .nicks
                .borrow_mut()
                .insert(Bytes::copy_from_slice(nick));
        }
        Ok(won)
    }

    /// Frees `nick` if this client holds it. Its channel memberships are
    /// left alone: they go channel by channel (`leave_channel`,
    /// `rename_in`), so a NICK change keeps them.
    pub async fn release_nick(&self, nick: &[u8]) -> Result<(), ClusterError> {
        self.inner
            .eval(Script::Release, &[nick, &self.inner.owner])
            .await?;
        self.inner.nicks.borrow_mut().remove(nick);
        Ok(())
    }

    /// Renames `old` to `new` (folded forms) if `new` is free: moves the
    /// memberships and publishes `line` (`:old!u@h NICK :New`) to every node.
    /// `new_prefix` is `New!user@host`.
    pub async fn rename(
        &self,
        old: &[u8],
        new: &[u8],
        new_prefix: &[u8],
        line: &[u8],
    ) -> Result<bool, ClusterError> {
        let lease = self.inner.cfg.lease.as_millis().to_string();
        let args: [&[u8]; 6] = [
            old,
            new,
            &self.inner.owner,
            lease.as_bytes(),
            new_prefix,
            line,
        ];
        let renamed = as_int(&self.inner.eval(Script::Rename, &args).await?) == Some(1);
        if renamed {
            let mut nicks = self.inner.nicks.borrow_mut();
            nicks.remove(old);
            nicks.insert(Bytes::copy_from_slice(new));
        }
        Ok(renamed)
    }

    /// The user `nick` quits: its nick is freed, it leaves every channel
    /// and `line` (if not empty) reaches everyone sharing one. Returns the
    /// channels it was in.
    pub async fn quit(&self, nick: &[u8], line: &[u8]) -> Result<Vec<Bytes>, ClusterError> {
        let reply = self
            .inner
            .eval(Script::Quit, &[nick, &self.inner.owner, line])
            .await?;
        self.inner.nicks.borrow_mut().remove(nick);
        Ok(resp::as_array(&reply)
            .unwrap_or_default()
            .iter()
            .filter_map(resp::as_bytes)
            .cloned()
            .collect())
    }

    /// Sends `line` (a PRIVMSG/NOTICE) to the node holding `nick`: `false`
    /// if nobody holds it (401).
    pub async fn send_to_nick(
        &self,
        from: &[u8],
        nick: &[u8],
        line: &[u8],
    ) -> Result<bool, ClusterError> {
        let payload = Envelope::encode(Kind::Direct, &self.inner.owner, nick, from, &[], line);
        let reply = self.inner.eval(Script::Direct, &[nick, &payload]).await?;
        ClusterCounters::add(&self.inner.counters.publishes, 1);
        Ok(as_int(&reply) == Some(1))
    }

    /// Publishes a channel message from `sender` (folded nick) to every node
    /// with members on `chan`, in the channel's one order. Never fails: while
    /// Redis is unreachable it waits in the outbox or is dropped (counted).
    pub async fn publish(&self, chan: &[u8], sender: &[u8], line: &[u8]) {
        let payload = Envelope::encode(Kind::Msg, &self.inner.owner, sender, b"", &[chan], line);
        self.inner.publish(self.inner.topic(chan), payload).await;
    }

    /// Receives `chan`'s messages from now on (returns once Redis
    /// confirmed), and again after every reconnect, before the outbox is
    /// flushed.
    pub async fn subscribe(&self, chan: &[u8]) -> Result<(), ClusterError> {
        let chan = Bytes::copy_from_slice(chan);
        self.inner.channels.borrow_mut().insert(chan.clone());
        self.inner.subscribe(&[self.inner.topic(&chan)]).await
    }

    /// Stops receiving `chan`'s messages.
    pub async fn unsubscribe(&self, chan: &[u8]) {
        self.inner.channels.borrow_mut().remove(chan);
        self.inner.unsubscribe(self.inner.topic(chan)).await;
    }

    /// Leaves the network now instead of when the lease runs out: this
    /// client's users quit every channel (a QUIT each) and its nicks are freed.
    pub async fn leave(&self) -> Result<(), ClusterError> {
        self.inner
            .call(&[
                b"ZADD",
                &self.inner.key(&[b"nodes"]),
                b"0",
                &self.inner.owner,
            ])
            .await?;
        self.inner.eval(Script::Reap, &[]).await?;
        let nicks: Vec<Bytes> = self.inner.nicks.borrow().iter().cloned().collect();
        for nick in nicks {
            self.release_nick(&nick).await?;
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        self.inner.link.borrow_mut().take();
    }
}

#[cfg(test)]
mod tests;
