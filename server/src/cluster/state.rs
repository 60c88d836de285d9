//! The state one cluster client keeps on its core: the live link (if any),
//! what it must restore after a reconnect (its nicks, its members, its
//! subscriptions), the outbox, and the event sender.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use uringo::chan::Sender;

use super::config::ClusterConfig;
use super::conn::Conn;
use super::counters::ClusterCounters;
use super::error::ClusterError;
use super::outbox::Outbox;
use super::resp::{command, Reply};
use super::scripts::Script;
use super::Event;

/// A connected pair of connections and the scripts loaded on that server.
pub struct Link {
    pub cmd: Conn,
    pub sub: Conn,
    /// SHA1 of each script, by [`Script::index`].
    pub shas: Vec<Bytes>,
    pub dispatch: Option<uringo::JoinHandle<()>>,
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(task) = self.dispatch.take() {
            task.abort();
        }
    }
}

/// Channel → (nick → `nick!user@host`) of the members joined through this
/// client: re-added if Redis loses its data, and the channels whose topics
/// this client subscribes to.
pub type Mirror = HashMap<Bytes, HashMap<Bytes, Bytes>>;

pub struct Inner {
    pub cfg: ClusterConfig,
    /// `node:core:incarnation`: unique per process start and core.
    pub owner: Bytes,
    pub link: RefCell<Option<std::rc::Rc<Link>>>,
    pub nicks: RefCell<BTreeSet<Bytes>>,
    pub mirror: RefCell<Mirror>,
    /// Channels subscribed through `Cluster::subscribe`, again on reconnect.
    pub channels: RefCell<HashSet<Bytes>>,
    /// Topics Redis confirmed, and callers waiting for a confirmation.
    pub subscribed: RefCell<HashSet<Bytes>>,
    pub sub_waiters: RefCell<HashMap<Bytes, Vec<Sender<()>>>>,
    pub outbox: RefCell<Outbox>,
    pub events: Sender<Event>,
    pub counters: Arc<ClusterCounters>,
    /// After a reconnect, new nick claims are refused until then: Redis may
    /// have restarted empty, and every node's cores need their backoff's
    /// worth of time to re-claim the nicks they hold (see `RECLAIM_GRACE`).
    pub claims_closed_until: Cell<Option<std::time::Instant>>,
    /// This client's node lease has been renewed (it is in `nodes`): a
    /// renewal that then finds it missing means it was reaped as dead.
    pub registered: Cell<bool>,
}

impl Inner {
    pub fn topic(&self, chan: &[u8]) -> Bytes {
        self.key(&[b"topic:", chan])
    }

    pub fn inbox(&self) -> Bytes {
        self.key(&[b"inbox:", &self.owner])
    }

    pub fn network(&self) -> Bytes {
        self.key(&[b"network"])
    }

    pub fn key(&self, parts: &[&[u8]]) -> Bytes {
        let mut k = self.cfg.prefix.as_bytes().to_vec();
        parts.iter().for_each(|p| k.extend_from_slice(p));
        k.into()
    }

    /// The live link, or `Unavailable`.
    pub fn live(&self) -> Result<std::rc::Rc<Link>, ClusterError> {
        match &*self.link.borrow() {
            Some(link) if !link.cmd.is_lost() && !link.sub.is_lost() => Ok(link.clone()),
            _ => Err(ClusterError::Unavailable),
        }
    }

    /// Runs a plain command on the command connection.
    pub async fn call(&self, args: &[&[u8]]) -> Result<Reply, ClusterError> {
        let link = self.live()?;
        self.call_on(&link, command(args)).await
    }

    async fn call_on(&self, link: &Link, cmd: Bytes) -> Result<Reply, ClusterError> {
        match uringo::time::timeout(self.cfg.call_timeout, link.cmd.call(cmd)).await {
            Ok(reply) => reply,
            Err(_) => {
                tracing::warn!("redis did not answer within {:?}", self.cfg.call_timeout);
                link.cmd.abandon();
                Err(ClusterError::Unavailable)
            }
        }
    }

    /// Runs `script` with ARGV = prefix, `args` (EVALSHA; EVAL if the
    /// server lost its script cache).
    pub async fn eval(&self, script: Script, args: &[&[u8]]) -> Result<Reply, ClusterError> {
        let link = self.live()?;
        let sha = link.shas[script.index()].clone();
        let mut argv: Vec<&[u8]> = vec![b"EVALSHA", &sha, b"0", self.cfg.prefix.as_bytes()];
        argv.extend_from_slice(args);
        match self.call_on(&link, command(&argv)).await {
            Err(ClusterError::Redis(e)) if e.starts_with("NOSCRIPT") => {
                let source = script.source();
                argv[0] = b"EVAL";
                argv[1] = source.as_bytes();
                self.call_on(&link, command(&argv)).await
            }
            other => other,
        }
    }

    /// Publishes now, or queues in the outbox while Redis is unreachable.
    pub async fn publish(&self, topic: Bytes, payload: Bytes) {
        if let Ok(link) = self.live() {
            if link
                .cmd
                .send(command(&[b"PUBLISH", &topic, &payload]))
                .await
                .is_ok()
            {
                super::counters::ClusterCounters::add(&self.counters.publishes, 1);
                return;
            }
        }
        self.queue(topic, payload);
    }

    fn queue(&self, topic: Bytes, payload: Bytes) {
        let mut outbox = self.outbox.borrow_mut();
        if outbox.push(topic, payload) {
            self.counters
                .queued
                .store(outbox.len() as u64, std::sync::atomic::Ordering::Relaxed);
        } else {
            super::counters::ClusterCounters::add(&self.counters.dropped, 1);
        }
    }

    /// Sends what the outbox holds, oldest first (after a reconnect).
    pub async fn flush_outbox(&self, link: &Link) {
        let queued = self.outbox.borrow_mut().drain();
        self.counters
            .queued
            .store(0, std::sync::atomic::Ordering::Relaxed);
        let n = queued.len() as u64;
        for (topic, payload) in queued {
            if link
                .cmd
                .send(command(&[b"PUBLISH", &topic, &payload]))
                .await
                .is_err()
            {
                self.queue(topic, payload);
            }
        }
        super::counters::ClusterCounters::add(&self.counters.publishes, n);
    }
}
