//! Clustered (`--cluster`): a client's channel changes reach Redis in the
//! order it sent them, even when one follows another before the first has
//! come back on the channel's topic (PART then JOIN, NICK then QUIT, NICK
//! then NICK, NICK then PART, PART then QUIT, JOIN then PART). Two nodes on one real
//! `redis-server`: `a` (and a witness `w`) on the first, `b` on the second,
//! which sees only what Redis published.
//! redis-server missing: the test is skipped, except under `CI`, where it
//! fails.

mod chat_support;
mod cluster_support;
#[path = "../src/cluster/tests/redis.rs"]
mod redis;

use chat_support::{code, Client, Server};
use cluster_support::{join, node_leased, serial};
use redis::RedisServer;

/// No node dies or freezes here: they keep the server's default lease, so a slow machine
/// cannot make one look dead.
const LEASE_MS: u64 = 10_000;

/// Times each sequence is tried (the race it guards against is one Redis
/// round trip wide).
const ROUNDS: usize = 12;

const CHAN: &str = "#seq";

struct Net {
    _redis: RedisServer,
    nodes: [Server; 2],
    /// On the second node: sees what Redis published.
    b: Client,
    /// On the first node, beside the actors.
    w: Client,
}

fn net() -> Option<(std::sync::MutexGuard<'static, ()>, Net)> {
    let serial = serial();
    let redis = RedisServer::start()?;
    let nodes = ["n1", "n2"].map(|name| node_leased(&redis, name, LEASE_MS));
    let mut b = Client::register(nodes[1].addr, "bob");
    let mut w = Client::register(nodes[0].addr, "walt");
    for c in [&mut b, &mut w] {
        join(c, CHAN);
    }
    b.expect(|l| l.starts_with(":walt!") && code(l) == "JOIN");
    let net = Net {
        _redis: redis,
        nodes,
        b,
        w,
    };
    Some((serial, net))
}

impl Net {
    /// A client `nick` on the first node in the channel, seen by `b`.
    fn actor(&mut self, nick: &str) -> Client {
        let mut a = Client::register(self.nodes[0].addr, nick);
        join(&mut a, CHAN);
        let prefix = format!(":{nick}!");
        self.b
            .expect(|l| l.starts_with(&prefix) && code(l) == "JOIN");
        a
    }

    /// What `b` received up to a line `w` says once it saw `until` (so
    /// Redis has run everything `w` saw before `w` spoke), and what `w` saw.
    fn published_until(
        &mut self,
        until: impl Fn(&str) -> bool,
        mark: &str,
    ) -> (Vec<String>, Vec<String>) {
        let here = self.w.expect(until);
        self.w.send(&format!("PRIVMSG {CHAN} :{mark}"));
        let end = format!("PRIVMSG {CHAN} :{mark}");
        (self.b.expect(|l| l.ends_with(&end)), here)
    }
}

impl Net {
    /// `old` renames itself `new` with `next` right behind: `b` gets the
    /// NICK and then `new`'s `verb` (what `next` does), as `w` does.
    fn rename_then(&mut self, old: &str, new: &str, next: &str, verb: &str) -> Client {
        let mut a = self.actor(old);
        a.send_raw(format!("NICK {new}\r\n{next}\r\n").as_bytes());
        let then = format!(":{new}!");
        let mark = format!("mark-{old}");
        let (seen, _) = self.published_until(|l| l.starts_with(&then) && code(l) == verb, &mark);
        let got = format!("{old} -> {new}, {next}: {seen:?}");
        assert_eq!(count(&seen, &format!(":{old}!"), "NICK"), 1, "{got}");
        assert_eq!(count(&seen, &then, verb), 1, "{got}");
        a
    }
}

fn count(lines: &[String], prefix: &str, verb: &str) -> usize {
    lines
        .iter()
        .filter(|l| l.starts_with(prefix) && code(l) == verb)
        .count()
}

#[test]
fn join_right_behind_part_is_joined() {
    let Some((_serial, mut net)) = net() else {
        return;
    };
    let mut a = net.actor("alice");
    for i in 0..ROUNDS {
        a.send_raw(format!("PART {CHAN}\r\nJOIN {CHAN}\r\n").as_bytes());
        let lines = a.sync();
        let got = format!("round {i}: {lines:?}");
        assert_eq!(count(&lines, ":alice!", "PART"), 1, "{got}");
        assert_eq!(count(&lines, ":alice!", "JOIN"), 1, "{got}");
        assert!(lines.iter().any(|l| code(l) == "366"), "{got}");
        let seen = net
            .b
            .expect(|l| l.starts_with(":alice!") && code(l) == "JOIN");
        assert_eq!(count(&seen, ":alice!", "PART"), 1, "b, {i}: {seen:?}");
    }
    a.send(&format!("PART {CHAN}"));
    let lines = a.expect(|l| code(l) == "PART" || code(l) == "442");
    assert_eq!(code(lines.last().unwrap()), "PART", "{lines:?}");
    net.b
        .expect(|l| l.starts_with(":alice!") && code(l) == "PART");
}

#[test]
fn quit_right_behind_nick_is_published() {
    let Some((_serial, mut net)) = net() else {
        return;
    };
    for i in 0..ROUNDS {
        let (old, new) = (format!("q{i}"), format!("r{i}"));
        net.rename_then(&old, &new, &format!("QUIT :bye{i}"), "QUIT");
    }
}

#[test]
fn nick_right_behind_nick_is_published() {
    let Some((_serial, mut net)) = net() else {
        return;
    };
    for i in 0..ROUNDS {
        let (old, new) = (format!("n{i}"), format!("x{i}"));
        let mut a = net.rename_then(&old, &new, &format!("NICK y{i}"), "NICK");
        a.send("QUIT");
        let quit = format!(":y{i}!");
        net.b.expect(|l| l.starts_with(&quit) && code(l) == "QUIT");
    }
}

#[test]
fn part_right_behind_nick_is_published() {
    let Some((_serial, mut net)) = net() else {
        return;
    };
    for i in 0..ROUNDS {
        let (old, new) = (format!("m{i}"), format!("s{i}"));
        net.rename_then(&old, &new, &format!("PART {CHAN}"), "PART");
    }
}

#[test]
fn quit_right_behind_part_is_a_part_everywhere() {
    let Some((_serial, mut net)) = net() else {
        return;
    };
    for i in 0..ROUNDS {
        let nick = format!("p{i}");
        let mut a = net.actor(&nick);
        a.send_raw(format!("PART {CHAN}\r\nQUIT :bye\r\n").as_bytes());
        a.expect(|l| l.starts_with("ERROR"));
        let who = format!(":{nick}!");
        let mark = format!("mark{i}");
        let (seen, here) = net.published_until(|l| l.starts_with(&who), &mark);
        let got = format!("round {i}: {seen:?}");
        assert_eq!(count(&seen, &who, "PART"), 1, "{got}");
        assert_eq!(count(&seen, &who, "QUIT"), 0, "{got}");
        // The PART reaches `w` through Redis, maybe after a local PING's PONG: wait for it.
        let left = net
            .w
            .expect(|l| l.starts_with(&who) && !l.contains(" JOIN "));
        let here = [here, left, net.w.sync()].concat();
        assert_eq!(count(&here, &who, "PART"), 1, "w, {i}: {here:?}");
        assert_eq!(count(&here, &who, "QUIT"), 0, "w, {i}: {here:?}");
    }
}

#[test]
fn part_right_behind_join_is_published() {
    let Some((_serial, mut net)) = net() else {
        return;
    };
    let mut a = net.actor("alice");
    for i in 0..ROUNDS {
        let chan = format!("#jp{i}");
        join(&mut net.b, &chan);
        a.send_raw(format!("JOIN {chan}\r\nPART {chan}\r\n").as_bytes());
        // (A PART is answered before its line comes back from Redis.)
        let lines = a.expect(|l| l.starts_with(":alice!") && code(l) == "PART");
        let got = format!("round {i}: {lines:?}");
        assert_eq!(count(&lines, ":alice!", "JOIN"), 1, "{got}");
        assert!(lines.iter().any(|l| code(l) == "366"), "{got}");
        let seen = net
            .b
            .expect(|l| l.starts_with(":alice!") && code(l) == "PART");
        assert_eq!(count(&seen, ":alice!", "JOIN"), 1, "b, {i}: {seen:?}");
    }
}
