use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use super::redis::RedisServer;
use super::{prefix, run, Node};
use crate::cluster::{ClusterError, Event, JoinOutcome, Kind};

#[test]
fn a_redis_restart_is_survived_resubscribed_reclaimed_and_overflow_is_counted() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    run(async move {
        let mut a = Node::start(redis.addr, "a", |c| c.outbox = 5).await;
        let mut b = Node::start(redis.addr, "b", |_| {}).await;
        a.enter("alice", &["#c"]).await;
        b.enter("bob", &["#c"]).await;

        redis.stop();
        a.wait_for(|e| matches!(e, Event::Down(_))).await;
        b.wait_for(|e| matches!(e, Event::Down(_))).await;
        assert_eq!(
            a.cluster.claim_nick(b"zed").await,
            Err(ClusterError::Unavailable)
        );
        for seq in 0..8 {
            let line = format!(":alice!u@h PRIVMSG #c :{seq}");
            a.cluster.publish(b"#c", b"alice", line.as_bytes()).await;
        }
        let counters = a.cluster.counters();
        assert_eq!(
            (
                counters.queued.load(Relaxed),
                counters.dropped.load(Relaxed)
            ),
            (5, 3)
        );

        redis.restart(); // empty: every key and subscription is gone
        a.wait_for(|e| matches!(e, Event::Up)).await;
        b.wait_for(|e| matches!(e, Event::Up)).await;
        assert_eq!(counters.reconnects.load(Relaxed), 1);
        assert_eq!(counters.queued.load(Relaxed), 0);
        // a re-subscribed before flushing, so it sees its queued messages, in order.
        for seq in 0..5 {
            let (_, line) = a.next(Kind::Msg).await;
            assert_eq!(line, Bytes::from(format!(":alice!u@h PRIVMSG #c :{seq}")));
        }
        // Claims and members are back; chat flows between the nodes again.
        assert!(
            !b.cluster.claim_nick(b"alice").await.unwrap(),
            "a re-claimed alice"
        );
        assert!(
            !a.cluster.claim_nick(b"bob").await.unwrap(),
            "b re-claimed bob"
        );
        let state = a.cluster.channel(b"#c").await.unwrap().expect("restored");
        let mut names: Vec<_> = state.members.iter().map(|m| m.nick.clone()).collect();
        names.sort();
        assert_eq!(names, [Bytes::from("alice"), Bytes::from("bob")]);
        a.cluster
            .publish(b"#c", b"alice", b":alice!u@h PRIVMSG #c :after")
            .await;
        loop {
            let (_, line) = b.next(Kind::Msg).await;
            if &line[..] == b":alice!u@h PRIVMSG #c :after" {
                break;
            }
        }
        assert_eq!(b.join("#c", "bob", "").await, JoinOutcome::AlreadyMember);
    });
}
