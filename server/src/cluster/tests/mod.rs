//! The cluster layer against a real `redis-server` (started by each test
//! on a free loopback port, persistence off, stopped at the end).

mod channels;
mod faults;
mod nicks;
mod redis;
mod users;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use uringo::chan::Receiver;

use super::{Cluster, ClusterConfig, Event, JoinOutcome, Kind};

/// Runs `test` on a one-core runtime.
fn run<F: Future<Output = ()>>(test: F) {
    uringo::Builder::new()
        .cores(1)
        .pin(false)
        .build()
        .expect("runtime")
        .block_on(test);
}

/// A node (one cluster client) and its events.
struct Node {
    cluster: Cluster,
    events: Receiver<Event>,
}

impl Node {
    /// Starts a client named `name` and waits until it is up.
    async fn start(redis: SocketAddr, name: &str, tune: impl FnOnce(&mut ClusterConfig)) -> Node {
        let mut cfg = ClusterConfig::new(redis, name).unwrap();
        cfg.prefix = "t:".into();
        tune(&mut cfg);
        let (cluster, events) = Cluster::start(cfg);
        let mut node = Node { cluster, events };
        node.wait_for(|e| matches!(e, Event::Up)).await;
        node
    }

    /// Skips events until one matches (10 s at most).
    async fn wait_for(&mut self, mut wanted: impl FnMut(&Event) -> bool) -> Event {
        let deadline = Duration::from_secs(10);
        let found = uringo::time::timeout(deadline, async {
            loop {
                let event = self.events.recv().await.expect("event stream open");
                if wanted(&event) {
                    return event;
                }
            }
        });
        found.await.expect("the event came within 10 s")
    }

    /// `nick` joins `chan` with `key`.
    async fn join(&self, chan: &str, nick: &str, key: &str) -> JoinOutcome {
        let line = format!(":{nick}!u@h JOIN {chan}");
        let (chan, key, who) = (chan.as_bytes(), key.as_bytes(), prefix(nick));
        let join = self
            .cluster
            .join(chan, nick.as_bytes(), &who, key, line.as_bytes());
        join.await.unwrap()
    }

    /// Claims `nick` (it must be free) and joins it to `chans`.
    async fn enter(&self, nick: &str, chans: &[&str]) {
        assert!(
            self.cluster.claim_nick(nick.as_bytes()).await.unwrap(),
            "{nick} is free"
        );
        for chan in chans {
            assert!(matches!(
                self.join(chan, nick, "").await,
                JoinOutcome::Joined { .. }
            ));
        }
    }

    /// The next channel message of `kind`, as (subject, line).
    async fn next(&mut self, kind: Kind) -> (Bytes, Bytes) {
        match self
            .wait_for(|e| matches!(e, Event::Message(m) if m.kind == kind))
            .await
        {
            Event::Message(m) => (m.subject, m.line),
            _ => unreachable!(),
        }
    }
}

/// `:nick!u@h` for tests.
fn prefix(nick: &str) -> Vec<u8> {
    format!("{nick}!u@h").into_bytes()
}
