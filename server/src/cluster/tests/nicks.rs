use std::rc::Rc;
use std::time::{Duration, Instant};

use super::redis::RedisServer;
use super::{prefix, run, Node};
use crate::cluster::Kind;

#[test]
fn concurrent_claims_of_a_nick_on_two_nodes_have_exactly_one_winner() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    run(async {
        let a = Rc::new(Node::start(redis.addr, "a", |_| {}).await);
        let b = Rc::new(Node::start(redis.addr, "b", |_| {}).await);
        let nicks: Vec<String> = (0..100).map(|i| format!("nick{i}")).collect();
        let claims = |node: Rc<Node>, nicks: Vec<String>| {
            uringo::spawn(async move {
                let mut won = Vec::new();
                for nick in &nicks {
                    won.push(node.cluster.claim_nick(nick.as_bytes()).await.unwrap());
                }
                won
            })
        };
        // Both pipelines are in flight at once; Redis interleaves them.
        let (wa, wb) = (
            claims(a.clone(), nicks.clone()),
            claims(b.clone(), nicks.clone()),
        );
        let (wa, wb) = (wa.await, wb.await);
        for (i, nick) in nicks.iter().enumerate() {
            assert!(wa[i] ^ wb[i], "{nick}: a won {}, b won {}", wa[i], wb[i]);
        }
        // A claim is idempotent for its holder and still refused to the other.
        let holder = if wa[0] { &a } else { &b };
        let other = if wa[0] { &b } else { &a };
        assert!(holder.cluster.claim_nick(b"nick0").await.unwrap());
        assert!(!other.cluster.claim_nick(b"nick0").await.unwrap());
        holder.cluster.release_nick(b"nick0").await.unwrap();
        assert!(other.cluster.claim_nick(b"nick0").await.unwrap());
    });
}

#[test]
fn a_dead_nodes_nicks_and_members_are_freed_within_the_lease_bound() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let lease = Duration::from_millis(900);
    run(async move {
        let a = Node::start(redis.addr, "a", |c| c.lease = lease).await;
        let mut b = Node::start(redis.addr, "b", |c| c.lease = lease).await;
        a.enter("alice", &["#c"]).await;
        b.enter("bob", &["#c"]).await;
        // Outlive several renewals: the lease holds while a is alive.
        uringo::time::sleep(lease * 2).await;
        assert!(
            !b.cluster.claim_nick(b"alice").await.unwrap(),
            "alice is a's while a renews"
        );

        drop(a); // the node dies: no more renewals, connections gone
        let died = Instant::now();
        let (subject, line) = b.next(Kind::Quit).await;
        let freed = died.elapsed();
        assert_eq!(&subject[..], b"alice");
        assert_eq!(&line[..], b":alice!u@h QUIT :*.net *.split");
        assert!(
            freed <= lease + lease / 3 + Duration::from_millis(300),
            "freed after {freed:?}"
        );
        assert!(
            b.cluster.claim_nick(b"alice").await.unwrap(),
            "alice is free again"
        );
        let state = b.cluster.channel(b"#c").await.unwrap().unwrap();
        let names: Vec<_> = state.members.iter().map(|m| m.nick.clone()).collect();
        assert_eq!(names, [bytes::Bytes::from("bob")]);
        println!("a dead node's nicks were freed {freed:?} after it died (lease {lease:?})");
    });
}

#[test]
fn rename_and_quit_reach_the_other_nodes_with_the_channels() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    run(async {
        let a = Node::start(redis.addr, "a", |_| {}).await;
        let mut b = Node::start(redis.addr, "b", |_| {}).await;
        a.enter("alice", &["#x", "#y"]).await;
        b.enter("bob", &[]).await;
        assert!(
            !a.cluster
                .rename(b"alice", b"bob", b"Bob!u@h", b"n")
                .await
                .unwrap(),
            "bob is taken"
        );
        assert!(a
            .cluster
            .rename(b"alice", b"ally", b"Ally!u@h", b":alice!u@h NICK :Ally")
            .await
            .unwrap());
        let nick = b
            .wait_for(|e| matches!(e, crate::cluster::Event::Message(m) if m.kind == Kind::Nick))
            .await;
        let crate::cluster::Event::Message(nick) = nick else {
            unreachable!()
        };
        assert_eq!(
            (&nick.subject[..], &nick.extra[..]),
            (&b"alice"[..], &b"Ally!u@h"[..])
        );
        let mut chans = nick.chans.clone();
        chans.sort();
        assert_eq!(chans, [bytes::Bytes::from("#x"), bytes::Bytes::from("#y")]);
        assert!(
            b.cluster.claim_nick(b"alice").await.unwrap(),
            "the old nick is free"
        );

        // A direct message finds the nick's node; an unknown nick is 401.
        assert!(b
            .cluster
            .send_to_nick(b"bob", b"ally", b":bob!u@h PRIVMSG Ally :hi")
            .await
            .unwrap());
        assert!(!b
            .cluster
            .send_to_nick(b"bob", b"nobody", b"x")
            .await
            .unwrap());
        let mut a = a;
        let (to, line) = a.next(Kind::Direct).await;
        assert_eq!(
            (&to[..], &line[..]),
            (&b"ally"[..], &b":bob!u@h PRIVMSG Ally :hi"[..])
        );

        let left = a
            .cluster
            .quit(b"ally", b":Ally!u@h QUIT :bye")
            .await
            .unwrap();
        assert_eq!(left.len(), 2);
        let (subject, line) = b.next(Kind::Quit).await;
        assert_eq!(
            (&subject[..], &line[..]),
            (&b"ally"[..], &b":Ally!u@h QUIT :bye"[..])
        );
        assert_eq!(
            b.cluster.channel(b"#x").await.unwrap(),
            None,
            "the last member left: gone"
        );
    });
}

#[test]
fn a_node_that_leaves_frees_its_nicks_and_members_at_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    run(async {
        let a = Node::start(redis.addr, "a", |_| {}).await;
        let mut b = Node::start(redis.addr, "b", |_| {}).await;
        a.enter("alice", &["#c"]).await;
        a.enter("idle", &[]).await;
        b.enter("bob", &["#c"]).await;
        a.cluster.leave().await.unwrap();
        let (subject, _) = b.next(Kind::Quit).await;
        assert_eq!(&subject[..], b"alice");
        assert!(b.cluster.claim_nick(b"alice").await.unwrap());
        assert!(
            b.cluster.claim_nick(b"idle").await.unwrap(),
            "nicks without channels are freed too"
        );
        let state = b.cluster.channel(b"#c").await.unwrap().unwrap();
        assert_eq!(state.members.len(), 1);
    });
}
