//! A `uringo-server chat --cluster` node that is alive but frozen past its
//! lease (SIGSTOP here; CPU starvation does the same) is taken for dead: the
//! other nodes part its users from every channel with `*.net *.split`. When
//! it runs again it must notice, tell its users and put them back, so that
//! every node lists them again and they can talk. Three nodes on one real
//! `redis-server`; redis-server missing: skipped, except under `CI`, where
//! it fails.

mod chat_support;
mod cluster_support;
#[path = "../src/cluster/tests/redis.rs"]
mod redis;

use chat_support::{code, Client};
use cluster_support::{join, names, serial, signal, three_nodes};

/// NAMES `chan` as `c` sees it, sorted.
fn sorted_names(c: &mut Client, chan: &str) -> Vec<String> {
    let mut nicks = names(c, chan);
    nicks.sort();
    nicks
}

#[test]
fn a_node_frozen_past_its_lease_puts_its_users_back() {
    let _serial = serial();
    let Some((_redis, nodes)) = three_nodes() else {
        return;
    };
    let mut alice = Client::register(nodes[0].addr, "alice");
    let mut bob = Client::register(nodes[1].addr, "bob");
    let mut carol = Client::register(nodes[2].addr, "carol");
    for c in [&mut alice, &mut bob, &mut carol] {
        join(c, "#r");
    }
    for c in [&mut alice, &mut bob] {
        c.expect(|l| l.starts_with(":carol!") && code(l) == "JOIN");
    }

    // The freeze is what is under test: past the lease, the others reap n1.
    signal(&nodes[0], "STOP");
    for c in [&mut bob, &mut carol] {
        c.expect(|l| l.starts_with(":alice!") && l.ends_with(" QUIT :*.net *.split"));
    }
    signal(&nodes[0], "CONT");

    // alice is told, and stays in #r on her own node all along.
    let seen = alice.expect(|l| l.contains("NOTICE") && l.contains("restored"));
    assert!(
        !seen
            .iter()
            .any(|l| l.starts_with(":alice!") && code(l) == "QUIT"),
        "alice saw herself quit: {seen:?}"
    );
    // The others see her JOIN again.
    for c in [&mut bob, &mut carol] {
        c.expect(|l| l.starts_with(":alice!") && l.ends_with(" JOIN #r"));
    }
    let all = ["alice", "bob", "carol"].map(String::from).to_vec();
    for c in [&mut alice, &mut bob, &mut carol] {
        let nick = c.nick.clone();
        assert_eq!(sorted_names(c, "#r"), all, "NAMES #r on {nick}'s node");
    }
    // And she can talk there again.
    alice.send("PRIVMSG #r :back again");
    for c in [&mut bob, &mut carol] {
        c.expect(|l| l.starts_with(":alice!") && l.ends_with(" PRIVMSG #r :back again"));
    }
    bob.send("PRIVMSG #r :welcome back");
    alice.expect(|l| l.starts_with(":bob!") && l.ends_with(" PRIVMSG #r :welcome back"));
}
