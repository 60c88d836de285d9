//! The cluster bridge of one core (`--cluster`): turns what the shard
//! queued for the cluster (`Mail::send_cluster`) into `Cluster` calls, one
//! at a time in the order queued (so one sender's lines keep their order),
//! and turns what the cluster receives back into shard messages.
//!
//! What goes through Redis: nick claims (a nick is first granted by this
//! node's registry, then claimed in Redis; a refusal takes it back: 433),
//! PRIVMSG/NOTICE to a nick held on another node, and every line a channel
//! sends its members. Channel PRIVMSG/NOTICE are delivered only from the
//! channel's Redis topic, on every node (the sender's included), so all
//! members network-wide see them in the order Redis published them.
//! So do JOIN, PART, QUIT, NICK, KICK, TOPIC and MODE lines, which Redis
//! scripts decide and publish (`bridge_chan`); messages carry their IRCv3
//! tags (`cluster_lines`), and users' public information is shared for
//! WHOIS and the like (`bridge_users`).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use uringo::chan::{Receiver, Sender};

use super::bridge_chan::{ChanAnswer, ChanCall, ListCall};
use super::bridge_users::{UserMsg, UserReq};
use super::casemap::fold;
use super::msg::{ClientRef, Msg, NickOp, Req};
use super::node::Node;
use crate::cluster::{Cluster, ClusterCounters, Envelope, Event, Kind};

/// What a shard asks of the cluster.
#[derive(Debug)]
pub enum ClusterReq {
    /// Claim `nick` in Redis for `from`, which this node granted it to.
    Claim {
        nick: String,
        from: ClientRef,
    },
    /// Free the folded nick.
    Release {
        folded: String,
    },
    /// A PRIVMSG/NOTICE for a nick no client of this node holds.
    Direct {
        target: String,
        req: Req,
        op: NickOp,
    },
    /// Subscribe to the folded channel's topic, then handle `then`.
    Subscribe {
        chan: String,
        then: Option<Msg>,
    },
    Unsubscribe {
        chan: String,
    },
    /// A line for every member of the folded channel, network-wide.
    Publish {
        chan: String,
        sender: String,
        line: Bytes,
    },
    /// Users' public information (`bridge_users`).
    Users(UserReq),
    /// A channel's state asked or changed in Redis (`bridge_chan`).
    Chan(ChanCall),
    /// LIST of every channel of the network.
    List(ListCall),
}

/// What the bridge hands back to the shard.
#[derive(Debug)]
pub enum ClusterMsg {
    Claimed {
        nick: String,
        from: ClientRef,
        ok: bool,
    },
    /// The direct message went to the node holding the nick.
    Sent {
        req: Req,
    },
    /// The INVITE went to the node holding `target` (341 for `req`).
    Invited {
        req: Req,
        target: String,
        chan: String,
    },
    DirectFailed {
        target: String,
        req: Req,
        op: NickOp,
    },
    /// Subscribed to `chan` (empty: not subscribed, no room); run `then`.
    Subscribed {
        chan: String,
        then: Option<Msg>,
    },
    /// A line published by a node (`own`: this one) for a channel's members
    /// or for the holder of a nick (`Kind::Direct`).
    Received {
        env: Envelope,
        own: bool,
        dedup: Option<u64>,
    },
    /// Redis lost (`Some(reason)`) or back (`None`).
    Link(Option<String>),
    /// Answers about users (`bridge_users`).
    Users(UserMsg),
    /// A nick this core held was taken by another node while Redis was
    /// split: its local holder becomes a guest.
    NickLost(String),
    Chan(Box<(ChanCall, ChanAnswer)>),
    Listed(ListCall, Vec<crate::cluster::ListEntry>),
}

/// Most requests queued for the bridge before the shard's are dropped.
const QUEUE: usize = 65_536;

/// Events the bridge hands the shard in one poll before it lets the
/// core's other tasks run (a burst from Redis would otherwise hold the core
/// past the stall watchdog: each one may fan out to many clients).
const BATCH: usize = 32;

/// Starts the bridge of this core; returns where the node sends requests.
pub fn start(node: Rc<Node>, cluster: Cluster, events: Receiver<Event>) -> BridgeTx {
    let (tx, rx) = uringo::chan(QUEUE);
    let bridge = BridgeTx::new(tx, cluster.counters());
    let cluster = Rc::new(cluster);
    uringo::spawn(perform(node.clone(), cluster.clone(), rx));
    uringo::spawn(receive(node, cluster, events));
    bridge
}

/// The shard's end of the bridge's bounded queue.
#[derive(Clone)]
pub struct BridgeTx {
    tx: Sender<ClusterReq>,
    counters: Arc<ClusterCounters>,
}

impl BridgeTx {
    pub fn new(tx: Sender<ClusterReq>, counters: Arc<ClusterCounters>) -> BridgeTx {
        BridgeTx { tx, counters }
    }

    /// Queues `req`; `false` if the queue is full: then what the refusal
    /// answers (`refuse`) goes to `refused`, and a dropped channel line is
    /// counted.
    pub fn offer(&self, req: ClusterReq, refused: &mut Vec<ClusterMsg>) -> bool {
        let Err(e) = self.tx.try_send(req) else {
            return true;
        };
        let req = e.into_inner();
        if matches!(req, ClusterReq::Publish { .. }) {
            self.counters.dropped.fetch_add(1, Relaxed);
        }
        refused.extend(refuse(req));
        false
    }
}

async fn perform(node: Rc<Node>, cluster: Rc<Cluster>, rx: Receiver<ClusterReq>) {
    let mut n = 0;
    while let Some(req) = rx.recv().await {
        if let Some(back) = call(&cluster, req).await {
            node.with(|s| s.on_cluster(back));
        }
        n += 1;
        if n % BATCH == 0 {
            uringo::yield_now().await;
        }
    }
}

async fn call(cluster: &Cluster, req: ClusterReq) -> Option<ClusterMsg> {
    match req {
        ClusterReq::Claim { nick, from } => {
            let ok = cluster.claim_nick(fold(&nick).as_bytes()).await;
            if let Err(e) = &ok {
                tracing::warn!("cluster: claiming {nick}: {e}");
            }
            let ok = ok.unwrap_or(false);
            Some(ClusterMsg::Claimed { nick, from, ok })
        }
        ClusterReq::Release { folded } => {
            if let Err(e) = cluster.drop_profile(folded.as_bytes()).await {
                tracing::debug!("cluster: dropping {folded}'s profile: {e}");
            }
            if let Err(e) = cluster.release_nick(folded.as_bytes()).await {
                tracing::warn!("cluster: releasing {folded}: {e}");
            }
            None
        }
        ClusterReq::Direct { target, req, op } => {
            let line = match &op {
                NickOp::Privmsg { line, meta, .. } => meta.to_wire(trim(line)),
                NickOp::Invite { line, .. } => Bytes::copy_from_slice(trim(line)),
                _ => return Some(ClusterMsg::DirectFailed { target, req, op }),
            };
            let (from, to) = (fold(&req.nick), fold(&target));
            let sent = cluster.send_to_nick(from.as_bytes(), to.as_bytes(), &line);
            match (sent.await, op) {
                (Ok(true), NickOp::Invite { chan, .. }) => {
                    Some(ClusterMsg::Invited { req, target, chan })
                }
                (Ok(true), _) => Some(ClusterMsg::Sent { req }),
                (_, op) => Some(ClusterMsg::DirectFailed { target, req, op }),
            }
        }
        ClusterReq::Subscribe { chan, then } => {
            if let Err(e) = cluster.subscribe(chan.as_bytes()).await {
                tracing::warn!("cluster: subscribing to {chan}: {e}");
            }
            Some(ClusterMsg::Subscribed { chan, then })
        }
        ClusterReq::Unsubscribe { chan } => {
            cluster.unsubscribe(chan.as_bytes()).await;
            None
        }
        ClusterReq::Publish { chan, sender, line } => {
            cluster
                .publish(chan.as_bytes(), sender.as_bytes(), trim(&line))
                .await;
            None
        }
        ClusterReq::Users(req) => super::bridge_users::call(cluster, req).await,
        ClusterReq::Chan(c) => {
            let answer = super::bridge_chan::call(cluster, &c).await;
            Some(ClusterMsg::Chan(Box::new((c, answer))))
        }
        ClusterReq::List(l) => {
            let entries = super::bridge_chan::list(cluster, &l).await;
            Some(ClusterMsg::Listed(l, entries))
        }
    }
}

/// The answer to a request the bridge had no room for: a claim is refused
/// (433), a direct message fails (401), a JOIN is refused (437, marked by an
/// empty `chan`); a line or a release is dropped.
fn refuse(req: ClusterReq) -> Option<ClusterMsg> {
    match req {
        ClusterReq::Claim { nick, from } => Some(ClusterMsg::Claimed {
            nick,
            from,
            ok: false,
        }),
        ClusterReq::Direct { target, req, op } => {
            Some(ClusterMsg::DirectFailed { target, req, op })
        }
        ClusterReq::Subscribe { then, .. } => Some(ClusterMsg::Subscribed {
            chan: String::new(),
            then,
        }),
        ClusterReq::Users(req) => super::bridge_users::refuse(req),
        ClusterReq::Chan(c) => Some(ClusterMsg::Chan(Box::new((c, ChanAnswer::Unavailable)))),
        ClusterReq::List(l) => Some(ClusterMsg::Listed(l, Vec::new())),
        ClusterReq::Release { .. }
        | ClusterReq::Unsubscribe { .. }
        | ClusterReq::Publish { .. } => None,
    }
}

/// The line without its CRLF (envelopes carry it bare).
fn trim(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r\n").unwrap_or(line)
}

/// The bare line `line` with its CRLF back.
pub fn with_crlf(line: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(line.len() + 2);
    b.extend_from_slice(line);
    b.extend_from_slice(b"\r\n");
    b.freeze()
}

async fn receive(node: Rc<Node>, cluster: Rc<Cluster>, events: Receiver<Event>) {
    let node_name = node_of(cluster.owner()).to_vec();
    let mut n = 0;
    while let Some(event) = events.recv().await {
        n += 1;
        if n % BATCH == 0 {
            uringo::yield_now().await;
        }
        let back = match event {
            Event::Up => ClusterMsg::Link(None),
            Event::Down(why) => ClusterMsg::Link(Some(why)),
            Event::NickLost(nick) => {
                tracing::warn!("cluster: nick {:?} lost to another node", nick);
                cluster.forget_profile(&nick);
                ClusterMsg::NickLost(String::from_utf8_lossy(&nick).into_owned())
            }
            Event::Message(env) if matches!(env.kind, Kind::Online | Kind::Offline) => {
                match super::bridge_users::presence(&env, &node_name) {
                    Some(msg) => msg,
                    None => continue,
                }
            }
            Event::Message(env) => {
                let own = node_of(&env.origin) == node_name.as_slice();
                let dedup =
                    matches!(env.kind, Kind::Msg | Kind::Quit | Kind::Nick).then(|| event_id(&env));
                ClusterMsg::Received { env, own, dedup }
            }
        };
        node.with(|s| s.on_cluster(back));
    }
}

/// `line` without its tag section (each channel's copy has its own time).
fn untagged(line: &[u8]) -> &[u8] {
    match line.strip_prefix(b"@") {
        Some(rest) => rest.splitn(2, |&b| b == b' ').nth(1).unwrap_or(b""),
        None => line,
    }
}

/// The node name of an owner id `node:core:incarnation`.
fn node_of(owner: &[u8]) -> &[u8] {
    owner.split(|&b| b == b':').next().unwrap_or(owner)
}

/// An id for a QUIT or NICK line that arrives through several channels, so
/// each member writes it once (high bit set: apart from local ids). By node,
/// not owner: each channel's core of a node publishes its own copy.
fn event_id(env: &Envelope) -> u64 {
    let mut h = DefaultHasher::new();
    node_of(&env.origin).hash(&mut h);
    untagged(&env.line).hash(&mut h);
    h.finish() | 1 << 63
}
