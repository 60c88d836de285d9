//! Shared helpers for the tests that run `uringo-server chat --cluster`
//! nodes on one real `redis-server` (`cluster_*.rs`): nodes with a short
//! lease, one test at a time, and the few IRC steps they all take.

#![allow(dead_code)]

use super::chat_support::{code, Client, Server};
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
    Server::start(&[
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
