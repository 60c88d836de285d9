use std::rc::Rc;

use bytes::Bytes;

use super::redis::RedisServer;
use super::{prefix, run, Node};
use crate::cluster::{JoinOutcome, Kind};

#[test]
fn channel_scripts_enforce_ops_keys_limits_invites_and_bans_the_same_for_every_node() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    run(async {
        let a = Node::start(redis.addr, "a", |_| {}).await;
        let b = Node::start(redis.addr, "b", |_| {}).await;
        let (c, p) = (&b"#c"[..], prefix("alice"));
        assert_eq!(
            a.join("#c", "alice", "").await,
            JoinOutcome::Joined { op: true }
        );
        assert_eq!(a.join("#c", "alice", "").await, JoinOutcome::AlreadyMember);
        assert_eq!(
            b.join("#c", "bob", "").await,
            JoinOutcome::Joined { op: false }
        );

        // Only ops change modes, kick, or set the topic under +t.
        assert_eq!(
            b.cluster
                .mode(c, b"bob", b"bob!u@h", &[(b"+i", b"")])
                .await
                .unwrap(),
            Err(482)
        );
        assert_eq!(
            b.cluster.kick(c, b"bob", b"alice", b"k").await.unwrap(),
            Err(482)
        );
        assert_eq!(
            b.cluster
                .set_topic(c, b"bob", b"t", b"bob!u@h", b"t")
                .await
                .unwrap(),
            Err(482)
        );
        assert_eq!(
            a.cluster.kick(c, b"alice", b"nobody", b"k").await.unwrap(),
            Err(441)
        );
        assert_eq!(
            b.cluster.part(b"#nope", b"bob", b"p").await.unwrap(),
            Err(403)
        );

        let set = a
            .cluster
            .mode(
                c,
                b"alice",
                &p,
                &[
                    (b"+k", b"sesame"),
                    (b"+l", b"2"),
                    (b"+t", b""),
                    (b"+o", b"ghost"),
                ],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            &set.line[..],
            b":alice!u@h MODE #c +kl sesame 2",
            "+t was already set"
        );
        assert_eq!(set.not_on_channel, [Bytes::from("ghost")]);
        assert_eq!(b.cluster.part(c, b"bob", b"p").await.unwrap(), Ok(()));
        assert_eq!(b.cluster.part(c, b"bob", b"p").await.unwrap(), Err(442));
        assert_eq!(b.join("#c", "bob", "").await, JoinOutcome::Refused(475));
        assert_eq!(
            b.join("#c", "bob", "sesame").await,
            JoinOutcome::Joined { op: false }
        );
        assert_eq!(
            b.join("#c", "carol", "sesame").await,
            JoinOutcome::Refused(471)
        );

        a.cluster
            .mode(c, b"alice", &p, &[(b"-l", b""), (b"+i", b"")])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            b.join("#c", "carol", "sesame").await,
            JoinOutcome::Refused(473)
        );
        assert_eq!(
            a.cluster.invite(c, b"alice", b"carol").await.unwrap(),
            Ok(())
        );
        assert_eq!(
            b.join("#c", "carol", "sesame").await,
            JoinOutcome::Joined { op: false }
        );

        a.cluster
            .mode(c, b"alice", &p, &[(b"-i", b""), (b"+b", b"Dave!*@*")])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            b.join("#c", "dave", "sesame").await,
            JoinOutcome::Refused(474),
            "masks ignore case"
        );
        assert_eq!(
            b.join("#c", "dan", "sesame").await,
            JoinOutcome::Joined { op: false }
        );

        a.cluster
            .mode(c, b"alice", &p, &[(b"+o", b"bob")])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            b.cluster
                .set_topic(c, b"bob", b"hello all", b"bob!u@h", b"t")
                .await
                .unwrap(),
            Ok(())
        );
        assert_eq!(
            b.cluster.kick(c, b"bob", b"dan", b"k").await.unwrap(),
            Ok(())
        );

        // Every node reads the same state.
        let (sa, sb) = (
            a.cluster.channel(c).await.unwrap().unwrap(),
            b.cluster.channel(c).await.unwrap().unwrap(),
        );
        assert_eq!(sa, sb);
        assert_eq!(&sa.modes[..], b"nt");
        assert_eq!((sa.key.as_deref(), sa.limit), (Some(&b"sesame"[..]), None));
        assert_eq!(sa.topic.as_deref(), Some(&b"hello all"[..]));
        assert_eq!(sa.bans, [Bytes::from("Dave!*@*")]);
        let mut members: Vec<_> = sa
            .members
            .iter()
            .map(|m| (m.nick.clone(), m.flags.clone()))
            .collect();
        members.sort();
        let expect = [("alice", "@"), ("bob", "@"), ("carol", "")];
        assert_eq!(
            members,
            expect.map(|(n, f)| (Bytes::from(n), Bytes::from(f)))
        );
    });
}

#[test]
fn channel_messages_reach_every_node_in_one_order() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    const PER_NODE: usize = 300;
    run(async {
        let nodes: Vec<Rc<Node>> = [
            Node::start(redis.addr, "a", |_| {}).await,
            Node::start(redis.addr, "b", |_| {}).await,
            Node::start(redis.addr, "c", |_| {}).await,
        ]
        .into_iter()
        .map(Rc::new)
        .collect();
        for (i, node) in nodes.iter().enumerate() {
            node.join("#order", &format!("u{i}"), "").await;
        }
        // Every node publishes at once; Redis picks one interleaving.
        let senders: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let node = node.clone();
                uringo::spawn(async move {
                    for seq in 0..PER_NODE {
                        let line = format!(":u{i}!u@h PRIVMSG #order :{seq}");
                        node.cluster
                            .publish(b"#order", format!("u{i}").as_bytes(), line.as_bytes())
                            .await;
                        if seq % 4 == 0 {
                            uringo::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for s in senders {
            s.await;
        }
        let mut orders = Vec::new();
        for node in nodes {
            let mut node = Rc::into_inner(node).expect("senders are done");
            let mut seen = Vec::new();
            while seen.len() < PER_NODE * 3 {
                let (from, line) = node.next(Kind::Msg).await;
                seen.push((from, line));
            }
            orders.push(seen);
        }
        assert_eq!(orders[0], orders[1]);
        assert_eq!(orders[0], orders[2]);
        for sender in 0..3 {
            let from = Bytes::from(format!("u{sender}"));
            let seqs: Vec<usize> = orders[0]
                .iter()
                .filter(|(f, _)| *f == from)
                .map(|(_, l)| {
                    std::str::from_utf8(l)
                        .unwrap()
                        .rsplit(':')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap()
                })
                .collect();
            assert_eq!(
                seqs,
                (0..PER_NODE).collect::<Vec<_>>(),
                "u{sender}'s own order"
            );
        }
        let interleaved = orders[0].windows(2).filter(|w| w[0].0 != w[1].0).count();
        println!(
            "{} messages, one order on 3 nodes, {interleaved} sender switches",
            orders[0].len()
        );
    });
}
