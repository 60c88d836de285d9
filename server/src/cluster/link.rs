//! Keeping the link to Redis up: connect, load the scripts, subscribe,
//! re-claim nicks and restore members, flush the outbox; when the link is
//! lost, tell the chat server and reconnect with backoff. A second task
//! renews the leases and reaps dead nodes every `lease / 3`.
//!
//! A client alive but unable to renew for longer than its lease (the
//! process frozen or starved of CPU) has been reaped by another node: its
//! users were parted from every channel with `*.net *.split`. Its own
//! dispatch drops those QUITs (`dispatch`), so the member mirror and the
//! chat server's views still hold them; when its next renewal finds its
//! node lease gone it takes the path of a Redis restart without
//! reconnecting: [`Event::Down`], members put back (each a JOIN on its
//! channel), [`Event::Up`], on which the chat server re-reads its views.

use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use uringo::chan::Receiver;

use super::backoff::Backoff;
use super::conn::{Conn, Sink};
use super::counters::ClusterCounters;
use super::error::ClusterError;
use super::resp::{as_array, as_bytes, as_int, command};
use super::scripts::Script;
use super::state::{Inner, Link};
use super::Event;

/// Reconnect backoff's ceiling; every core of every node retries at least this often.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How long after a reconnect this core refuses new nick claims: twice the
/// backoff ceiling, so that after a Redis restart (which loses every claim)
/// each node's cores have reconnected and re-claimed their nicks before
/// another node can take one of them.
const RECLAIM_GRACE: Duration = Duration::from_secs(2 * MAX_BACKOFF.as_secs());

/// Connects, serves until the link is lost, reconnects; forever.
pub async fn supervise(inner: Rc<Inner>) {
    let seed = inner
        .owner
        .iter()
        .fold(0u64, |h, &b| h.wrapping_mul(31).wrapping_add(b as u64));
    let mut backoff = Backoff::new(Duration::from_millis(50), MAX_BACKOFF, seed);
    let mut ever_up = false;
    let mut reported = false;
    loop {
        match up(&inner).await {
            Ok(lost) => {
                if ever_up {
                    ClusterCounters::add(&inner.counters.reconnects, 1);
                    let reopen = std::time::Instant::now() + RECLAIM_GRACE;
                    inner.claims_closed_until.set(Some(reopen));
                }
                ever_up = true;
                backoff.reset();
                let _ = inner.events.send(Event::Up).await;
                lost.recv().await;
                down(&inner, "connection lost").await;
                reported = true;
            }
            Err(e) => {
                inner.link.borrow_mut().take();
                inner.forget_subscriptions();
                if !reported {
                    down(&inner, &e).await;
                    reported = true;
                }
            }
        }
        uringo::time::sleep(backoff.next_delay()).await;
    }
}

async fn down(inner: &Inner, why: &str) {
    inner.link.borrow_mut().take();
    inner.forget_subscriptions();
    tracing::warn!(
        "cluster: redis {} unreachable ({why}); reconnecting",
        inner.cfg.redis
    );
    let _ = inner.events.send(Event::Down(why.to_string())).await;
}

/// Opens the link and restores this client's state on it; returns the
/// receiver that yields when the link is lost.
async fn up(inner: &Rc<Inner>) -> Result<Receiver<()>, String> {
    let addr = inner.cfg.redis;
    let (lost_tx, lost) = uringo::chan(2);
    let (frames_tx, frames) = uringo::chan(1024);
    let connect = async {
        let cmd = Conn::open(addr, Sink::Replies, lost_tx.clone()).await?;
        let sub = Conn::open(addr, Sink::Pushes(frames_tx), lost_tx).await?;
        Ok::<_, std::io::Error>((cmd, sub))
    };
    let (cmd, sub) = uringo::time::timeout(inner.cfg.call_timeout, connect)
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let shas = load_scripts(inner, &cmd).await.map_err(|e| e.to_string())?;
    let dispatch = uringo::spawn(super::dispatch::dispatch(inner.clone(), frames));
    let link = Rc::new(Link {
        cmd,
        sub,
        shas,
        dispatch: Some(dispatch),
    });
    *inner.link.borrow_mut() = Some(link.clone());
    restore(inner).await.map_err(|e| e.to_string())?;
    inner.flush_outbox(&link).await;
    Ok(lost)
}

async fn load_scripts(inner: &Inner, cmd: &Conn) -> Result<Vec<Bytes>, ClusterError> {
    let mut shas = Vec::with_capacity(Script::ALL.len());
    for script in Script::ALL {
        let source = script.source();
        let load = command(&[b"SCRIPT", b"LOAD", source.as_bytes()]);
        let reply = uringo::time::timeout(inner.cfg.call_timeout, cmd.call(load))
            .await
            .map_err(|_| ClusterError::Unavailable)??;
        let sha = as_bytes(&reply).ok_or_else(|| ClusterError::Protocol(format!("{reply:?}")))?;
        shas.push(sha.clone());
    }
    Ok(shas)
}

/// After a (re)connect: subscribe to the inbox, the network topic and every
/// channel with local members; renew (re-claiming) the nicks; put back
/// members Redis may have lost.
async fn restore(inner: &Inner) -> Result<(), ClusterError> {
    let mut topics = vec![inner.inbox(), inner.network()];
    topics.extend(inner.mirror.borrow().keys().map(|c| inner.topic(c)));
    topics.extend(inner.channels.borrow().iter().map(|c| inner.topic(c)));
    inner.subscribe(&topics).await?;
    renew(inner).await?;
    restore_members(inner).await
}

/// Puts back in Redis this client's members it lost (a Redis restart, or
/// this client reaped as dead), each with a JOIN on its channel's topic.
async fn restore_members(inner: &Inner) -> Result<(), ClusterError> {
    let triples: Vec<Bytes> = inner
        .mirror
        .borrow()
        .iter()
        .flat_map(|(chan, members)| {
            members
                .iter()
                .flat_map(move |(nick, prefix)| [chan.clone(), nick.clone(), prefix.clone()])
        })
        .collect();
    if !triples.is_empty() {
        let mut args: Vec<&[u8]> = vec![&inner.owner];
        args.extend(triples.iter().map(|b| &b[..]));
        inner.eval(Script::Restore, &args).await?;
    }
    Ok(())
}

/// Renews the node lease and every nick; a nick someone else took while
/// this node could not renew is dropped and reported as [`Event::NickLost`].
/// `true` if this client had been registered and its node lease was gone:
/// it was reaped as dead (or Redis lost its data).
pub async fn renew(inner: &Inner) -> Result<bool, ClusterError> {
    let lease = inner.cfg.lease.as_millis().to_string();
    let nicks: Vec<Bytes> = inner.nicks.borrow().iter().cloned().collect();
    let mut args: Vec<&[u8]> = vec![&inner.owner, lease.as_bytes()];
    args.extend(nicks.iter().map(|n| &n[..]));
    let was_registered = inner.registered.get();
    let reply = inner.eval(Script::Renew, &args).await?;
    let items = as_array(&reply).unwrap_or_default();
    let still_registered = items.first().and_then(as_int) == Some(1);
    inner.registered.set(true);
    for lost in items.iter().skip(1).filter_map(as_bytes) {
        inner.nicks.borrow_mut().remove(lost);
        let _ = inner.events.send(Event::NickLost(lost.clone())).await;
    }
    Ok(was_registered && !still_registered)
}

/// This client was reaped while alive (see the module docs): its users are
/// told as for a lost link and put back in their channels. Should Redis
/// fail meanwhile, the link is dropped and a reconnect restores them.
async fn rejoin(inner: &Inner) {
    tracing::warn!(
        "cluster: {} was taken for dead (no lease renewal for over {:?}); rejoining",
        String::from_utf8_lossy(&inner.owner),
        inner.cfg.lease
    );
    let why = "taken for dead after missing its lease".to_string();
    let _ = inner.events.send(Event::Down(why)).await;
    match restore_members(inner).await {
        Ok(()) => {
            let _ = inner.events.send(Event::Up).await;
        }
        Err(e) => {
            tracing::warn!("cluster: restoring members after being reaped: {e}");
            if let Ok(link) = inner.live() {
                link.cmd.abandon();
            }
        }
    }
}

/// Renews and reaps every `lease / 3` while the link is up.
pub async fn keep_leases(inner: Rc<Inner>) {
    let mut tick = uringo::time::interval(inner.cfg.lease / 3);
    loop {
        tick.tick().await;
        if inner.live().is_err() {
            continue;
        }
        match renew(&inner).await {
            Ok(true) => rejoin(&inner).await,
            Ok(false) => {}
            Err(e) => {
                tracing::debug!("cluster: lease renewal failed: {e}");
                continue;
            }
        }
        if let Err(e) = inner.eval(Script::Reap, &[]).await {
            tracing::debug!("cluster: reaping dead nodes failed: {e}");
        }
    }
}
