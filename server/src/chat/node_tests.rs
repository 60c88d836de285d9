//! A core's shard against a bridge whose queue is full (`--cluster`): what
//! it could not queue is answered or dropped and counted, never retried.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use super::bridge::{BridgeTx, ClusterReq};
use super::cli::ChatArgs;
use super::config::Config;
use super::counters::Counters;
use super::mailbox::{Batch, Outbox};
use super::msg::{ChanOp, ClientRef, MemberInfo, Msg, Req};
use super::node::Node;
use super::shard::Shard;
use crate::cluster::ClusterCounters;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    chat: ChatArgs,
}

fn join(chan: &str) -> Msg {
    Msg::Chan {
        chan: chan.into(),
        req: Req::alice(ClientRef { core: 1, id: 1 }),
        op: ChanOp::Join {
            info: MemberInfo::alice(),
            key: None,
        },
    }
}

/// Core 0 of two (alice's home is core 1, whose inbox is `inbox`), its
/// bridge queue (room for one) full already.
fn node(inbox: uringo::chan::Sender<Batch>) -> (Node, uringo::chan::Receiver<ClusterReq>) {
    let cfg = Arc::new(Config::new("srv", 2));
    let mut shard = Shard::new(0, cfg, Arc::new(Counters::default()));
    shard.set_clustered();
    let args = Args::parse_from(["chat"]).chat;
    let (own, _) = uringo::chan(16);
    let node = Node::new(shard, args, Outbox::start(vec![own, inbox]), 2);
    let (tx, queued) = uringo::chan(1);
    let counters = Arc::new(ClusterCounters::default());
    let bridge = BridgeTx::new(tx, counters);
    let first = ClusterReq::Unsubscribe { chan: "#x".into() };
    assert!(bridge.offer(first, &mut Vec::new()));
    node.set_bridge(bridge);
    (node, queued)
}

#[test]
fn join_refused_for_a_full_bridge_queue_gets_437_once() {
    let rt = uringo::Builder::new().cores(1).build().unwrap();
    rt.block_on(async {
        let (home, inbox) = uringo::chan(16);
        let (node, queued) = node(home);
        // Before the fix, this looped: refused SUBSCRIBE, JOIN retried,
        // SUBSCRIBE refused again, without end.
        node.with(|s| s.handle(join("#c")));
        let batch = uringo::time::timeout(Duration::from_secs(5), inbox.recv())
            .await
            .expect("the JOIN is answered")
            .expect("inbox open");
        let seen = format!("{batch:?}");
        assert!(seen.contains("437 alice #c :"), "{seen}");
        assert_eq!(batch.len(), 1, "one answer: {seen}");
        // Nothing more was queued: the full queue holds what it held.
        assert!(matches!(
            queued.try_recv(),
            Ok(ClusterReq::Unsubscribe { .. })
        ));
        assert!(queued.try_recv().is_err());
    });
}

#[test]
fn line_dropped_for_a_full_bridge_queue_is_counted() {
    let (tx, _queued) = uringo::chan(1);
    let counters = Arc::new(ClusterCounters::default());
    let bridge = BridgeTx::new(tx, counters.clone());
    let line = |n: &str| ClusterReq::Publish {
        chan: "#c".into(),
        sender: "alice".into(),
        line: bytes::Bytes::from(format!("PRIVMSG #c :{n}\r\n")),
    };
    let mut refused = Vec::new();
    assert!(bridge.offer(line("1"), &mut refused));
    assert!(!bridge.offer(line("2"), &mut refused));
    assert!(!bridge.offer(line("3"), &mut refused));
    assert!(refused.is_empty(), "a dropped line has no answer");
    assert_eq!(counters.dropped.load(Relaxed), 2);
}
