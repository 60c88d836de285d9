use bytes::Bytes;

use super::redis::RedisServer;
use super::{run, Node};
use crate::cluster::{Event, Kind, Profile};

fn profile(nick: &str, away: &str) -> Profile {
    Profile {
        nick: Bytes::copy_from_slice(nick.as_bytes()),
        user: Bytes::from("u"),
        host: Bytes::from("h"),
        realname: Bytes::from("Real Name"),
        away: Bytes::copy_from_slice(away.as_bytes()),
    }
}

#[test]
fn profiles_follow_the_claim_and_leave_a_whowas_entry() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    run(async {
        let a = Node::start(redis.addr, "a", |_| {}).await;
        let mut b = Node::start(redis.addr, "b", |_| {}).await;
        assert_eq!(b.cluster.profile(b"alice").await.unwrap(), None);

        assert!(a.cluster.claim_nick(b"alice").await.unwrap());
        // Claimed, no profile yet: the nick exists, its details are unknown.
        let found = b.cluster.profile(b"alice").await.unwrap().unwrap();
        assert_eq!(
            (&found.node[..], &found.profile.user[..]),
            (&b"a"[..], &b""[..])
        );

        a.cluster
            .set_profile(b"alice", profile("Alice", ""))
            .await
            .unwrap();
        let online = b
            .wait_for(|e| matches!(e, Event::Message(m) if m.kind == Kind::Online))
            .await;
        let Event::Message(online) = online else {
            unreachable!()
        };
        assert_eq!(
            (&online.subject[..], &online.extra[..]),
            (&b"alice"[..], &b"Alice"[..])
        );
        a.cluster
            .set_profile(b"alice", profile("Alice", "lunch"))
            .await
            .unwrap();
        let found = b.cluster.profile(b"alice").await.unwrap().unwrap();
        assert_eq!(found.profile, profile("Alice", "lunch"));

        a.cluster.drop_profile(b"alice").await.unwrap();
        b.wait_for(|e| matches!(e, Event::Message(m) if m.kind == Kind::Offline))
            .await;
        let was = b.cluster.whowas(b"alice", 5).await.unwrap();
        assert_eq!(was.len(), 1);
        assert_eq!(&was[0][3][..], b"Real Name");
    });
}

#[test]
fn a_profile_left_behind_is_not_shown_for_the_next_holder() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    run(async {
        let a = Node::start(redis.addr, "a", |_| {}).await;
        let b = Node::start(redis.addr, "b", |_| {}).await;
        assert!(a.cluster.claim_nick(b"alice").await.unwrap());
        a.cluster
            .set_profile(b"alice", profile("Alice", ""))
            .await
            .unwrap();
        // The nick is freed without its profile going (as if its node died).
        a.cluster.release_nick(b"alice").await.unwrap();
        assert!(b.cluster.claim_nick(b"alice").await.unwrap());
        let found = b.cluster.profile(b"alice").await.unwrap().unwrap();
        assert_eq!(&found.node[..], b"b");
        assert_eq!(
            &found.profile.user[..],
            b"",
            "a's profile shown for b's alice"
        );
        // And a cannot write over b's claim.
        a.cluster
            .set_profile(b"alice", profile("Alice", "x"))
            .await
            .unwrap();
        let found = b.cluster.profile(b"alice").await.unwrap().unwrap();
        assert_eq!(&found.profile.away[..], b"");
    });
}
