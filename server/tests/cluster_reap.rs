//! A `uringo-server chat --cluster` node that is alive but frozen past its
//! lease (SIGSTOP here; CPU starvation does the same) is taken for dead: the
//! other nodes part its users from every channel with `*.net *.split`. When
//! it runs again it must notice, tell its users and put them back, so that
//! every node lists them again and they can talk. Three nodes on one real
//! `redis-server`; redis-server missing: skipped, except under `CI`, where
//! it fails.

mod chat_support;
#[path = "../src/cluster/tests/redis.rs"]
mod redis;

use chat_support::{code, Client, Server};
use redis::RedisServer;

/// One test at a time, like the other cluster tests: each starts three
/// nodes on a small shared machine.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn node(redis: &RedisServer, name: &str) -> Server {
    let url = format!("redis://{}", redis.addr);
    Server::start(&[
        "--cluster",
        &url,
        "--node",
        name,
        "--cluster-lease-ms",
        "1500",
        "--flood-rate",
        "0",
    ])
}

fn signal(node: &Server, signal: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &node.pid().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{signal} failed");
}

fn join(c: &mut Client, chan: &str) {
    c.send(&format!("JOIN {chan}"));
    c.expect(|l| code(l) == "366");
}

/// The nicks NAMES `chan` lists to `c` (without `@`/`+`).
fn names(c: &mut Client, chan: &str) -> Vec<String> {
    c.send(&format!("NAMES {chan}"));
    let lines = c.expect(|l| code(l) == "366");
    let mut nicks: Vec<String> = lines
        .iter()
        .filter(|l| code(l) == "353")
        .flat_map(|l| l.rsplit(" :").next().unwrap_or("").split(' '))
        .filter(|n| !n.is_empty())
        .map(|n| n.trim_start_matches(['@', '+']).to_string())
        .collect();
    nicks.sort();
    nicks
}

#[test]
fn a_node_frozen_past_its_lease_puts_its_users_back() {
    let _serial = serial();
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let nodes = [node(&redis, "n1"), node(&redis, "n2"), node(&redis, "n3")];
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
        assert_eq!(names(c, "#r"), all, "NAMES #r on {nick}'s node");
    }
    // And she can talk there again.
    alice.send("PRIVMSG #r :back again");
    for c in [&mut bob, &mut carol] {
        c.expect(|l| l.starts_with(":alice!") && l.ends_with(" PRIVMSG #r :back again"));
    }
    bob.send("PRIVMSG #r :welcome back");
    alice.expect(|l| l.starts_with(":bob!") && l.ends_with(" PRIVMSG #r :welcome back"));
}

/// The same, but another node's user took the frozen user's nick
/// meanwhile: it comes back as a guest, in its channel on every node.
#[test]
fn a_reaped_user_whose_nick_was_taken_comes_back_as_a_guest() {
    let _serial = serial();
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let nodes = [node(&redis, "n1"), node(&redis, "n2"), node(&redis, "n3")];
    let mut alice = Client::register(nodes[0].addr, "alice");
    let mut carol = Client::register(nodes[2].addr, "carol");
    for c in [&mut alice, &mut carol] {
        join(c, "#g");
    }
    alice.expect(|l| l.starts_with(":carol!") && code(l) == "JOIN");

    signal(&nodes[0], "STOP");
    carol.expect(|l| l.starts_with(":alice!") && l.ends_with(" QUIT :*.net *.split"));
    // The nick's lease (held by alice's core, maybe not the channel's)
    // ends about then too; nothing signals it: ask until it is free.
    let mut thief = Client::connect(nodes[1].addr);
    thief.send("USER t 0 * :t");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        thief.send("NICK alice");
        let lines = thief.expect(|l| code(l) == "433" || code(l) == "001");
        if code(lines.last().unwrap()) == "001" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "alice never freed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    signal(&nodes[0], "CONT");

    let lines = alice.expect(|l| l.starts_with(":alice!") && code(l) == "NICK");
    let guest = lines
        .last()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    assert!(guest.starts_with("Guest"), "{guest}");
    carol.expect(|l| l.contains(&format!(" NICK :{guest}")) || l.contains(&format!(":{guest}!")));
    let want = {
        let mut v = vec!["carol".to_string(), guest.clone()];
        v.sort();
        v
    };
    for c in [&mut alice, &mut carol] {
        let nick = c.nick.clone();
        assert_eq!(names(c, "#g"), want, "NAMES #g on {nick}'s node");
    }
    alice.send("PRIVMSG #g :guest here");
    carol.expect(|l| l.starts_with(&format!(":{guest}!")) && l.ends_with(" :guest here"));
    thief.send("QUIT");
}
