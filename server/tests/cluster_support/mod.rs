//! Shared helpers for the tests that run `uringo-server chat --cluster`
//! nodes on one real `redis-server` (`cluster_*.rs`): nodes with a short
//! lease, one test at a time, the few IRC steps they all take, and the
//! signals of what no client sees: a node's cores linked to Redis again
//! (their log), a nick's lease ended (Redis's own keyspace event).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::chat_support::{code, Client, Server, CORES};
use super::redis::RedisServer;

/// The nick lease the nodes run with: short, so the cases where a node
/// dies or freezes are quick.
pub const LEASE_MS: u64 = 1500;

/// One test at a time: each starts up to three nodes, and a small machine
/// shared with other builds runs them slowly enough as it is.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn node(redis: &RedisServer, name: &str) -> Server {
    node_leased(redis, name, LEASE_MS)
}

pub fn node_leased(redis: &RedisServer, name: &str, lease_ms: u64) -> Server {
    let url = format!("redis://{}", redis.addr);
    let lease = lease_ms.to_string();
    Server::start_logged(&[
        "--cluster",
        &url,
        "--node",
        name,
        "--cluster-lease-ms",
        &lease,
        "--flood-rate",
        "0",
    ])
}

/// Redis and the nodes `n1`, `n2`, `n3`; `None` if redis-server is missing
/// (outside `CI`).
pub fn three_nodes() -> Option<(RedisServer, [Server; 3])> {
    let redis = RedisServer::start()?;
    let nodes = [node(&redis, "n1"), node(&redis, "n2"), node(&redis, "n3")];
    Some((redis, nodes))
}

/// Sends `signal` (`STOP`, `CONT`, ...) to the node's process.
pub fn signal(node: &Server, signal: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &node.pid().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{signal} failed");
}

/// Joins `chan` and returns once the server answered (end of NAMES): from
/// then on this client's node receives the channel's messages.
pub fn join(c: &mut Client, chan: &str) {
    c.send(&format!("JOIN {chan}"));
    c.expect(|l| code(l) == "366");
}

/// The nicks NAMES `chan` lists to `c`, in its order, without `@`/`+`.
pub fn names(c: &mut Client, chan: &str) -> Vec<String> {
    c.send(&format!("NAMES {chan}"));
    let lines = c.expect(|l| code(l) == "366");
    lines
        .iter()
        .filter(|l| code(l) == "353")
        .flat_map(|l| l.rsplit_once(" :").map_or("", |(_, n)| n).split(' '))
        .filter(|n| !n.is_empty())
        .map(|n| n.trim_start_matches(['@', '+']).to_string())
        .collect()
}

/// What each core of a node logs once its link to Redis is back: its
/// subscriptions confirmed, its nicks and members restored, its outbox sent.
const RELINKED: &str = "cluster: connected to Redis again";

/// Waits until every core of `node` has linked to Redis again since `mark`
/// (`node.log().len()` taken before Redis went away).
pub fn wait_relinked(node: &Server, mark: usize) {
    node.log()
        .wait_for(mark, RELINKED, CORES, Duration::from_secs(15));
}

/// A subscription to Redis's `expired` keyspace events: the one signal of
/// a nick's lease (a `PX` key) ending.
pub struct Expiries {
    reader: BufReader<TcpStream>,
}

impl Expiries {
    /// Subscribes before whatever makes a lease run out, so no event is missed.
    pub fn watch(redis: &RedisServer) -> Expiries {
        let mut stream = TcpStream::connect(redis.addr).expect("connect to redis");
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut reply = |args: &[&str]| {
            let mut cmd = format!("*{}\r\n", args.len());
            for a in args {
                cmd += &format!("${}\r\n{a}\r\n", a.len());
            }
            stream.write_all(cmd.as_bytes()).unwrap();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            line
        };
        let set = reply(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
        assert_eq!(set, "+OK\r\n", "CONFIG SET notify-keyspace-events");
        // The confirmation: `*3`, then `subscribe`, the channel and the count.
        assert!(reply(&["SUBSCRIBE", "__keyevent@0__:expired"]).starts_with("*3"));
        for _ in 0..5 {
            reader.read_line(&mut String::new()).unwrap();
        }
        Expiries { reader }
    }

    /// Returns once the claim on `nick` (lower case) has expired; panics
    /// after `limit`.
    pub fn wait_nick(&mut self, nick: &str, limit: Duration) {
        let key = format!("uringo:nick:{nick}");
        let deadline = std::time::Instant::now() + limit;
        let mut line = String::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let stream = self.reader.get_ref();
            stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            line.clear();
            let read = self.reader.read_line(&mut line);
            assert!(
                matches!(read, Ok(n) if n > 0),
                "{nick}'s lease did not end within {limit:?}: {read:?}"
            );
            if line.trim_end() == key {
                return;
            }
        }
    }
}
