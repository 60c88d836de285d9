//! `--cluster redis://HOST:PORT --node NAME`: what a node needs to join.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// How this node reaches Redis and identifies itself.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The Redis server.
    pub redis: SocketAddr,
    /// This node's name (unique in the cluster; no spaces).
    pub node: String,
    /// Prefix of every key and topic (default `uringo:`), so several
    /// networks can share one Redis.
    pub prefix: String,
    /// Nick and node lease (default 10 s): renewed every `lease / 3`; a node
    /// that stops renewing loses its nicks `lease` after its last renewal.
    pub lease: Duration,
    /// Most publishes kept while Redis is unreachable (default 10,000).
    pub outbox: usize,
    /// How long a call waits for Redis before the connection is declared
    /// lost (default 5 s).
    pub call_timeout: Duration,
}

impl ClusterConfig {
    /// A configuration with the defaults above.
    pub fn new(redis: SocketAddr, node: &str) -> Result<ClusterConfig, String> {
        if node.is_empty() || node.bytes().any(|b| b.is_ascii_whitespace() || b == b':') {
            return Err(format!("bad node name {node:?}: no spaces or ':' allowed"));
        }
        Ok(ClusterConfig {
            redis,
            node: node.to_string(),
            prefix: "uringo:".to_string(),
            lease: Duration::from_secs(10),
            outbox: 10_000,
            call_timeout: Duration::from_secs(5),
        })
    }
}

/// Parses `redis://HOST:PORT` (port 6379 if omitted) and resolves HOST.
pub fn parse_redis_url(url: &str) -> Result<SocketAddr, String> {
    let rest = url
        .strip_prefix("redis://")
        .ok_or_else(|| format!("{url:?}: expected redis://HOST:PORT"))?;
    let hostport = rest.trim_end_matches('/');
    if hostport.is_empty() || hostport.contains(['/', '@']) {
        return Err(format!(
            "{url:?}: expected redis://HOST:PORT (no user, password or database)"
        ));
    }
    let with_port = if hostport
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        && !hostport.ends_with(']')
    {
        hostport.to_string()
    } else {
        format!("{hostport}:6379")
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| format!("{url:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url:?}: no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_redis_url("redis://127.0.0.1:7000").unwrap(),
            "127.0.0.1:7000".parse().unwrap()
        );
        assert_eq!(parse_redis_url("redis://127.0.0.1").unwrap().port(), 6379);
        assert_eq!(
            parse_redis_url("redis://[::1]:7001/").unwrap(),
            "[::1]:7001".parse().unwrap()
        );
        for bad in [
            "127.0.0.1:6379",
            "redis://",
            "redis://u:p@h:1",
            "redis://h:1/2",
        ] {
            assert!(parse_redis_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn node_names() {
        let addr = "127.0.0.1:1".parse().unwrap();
        assert!(ClusterConfig::new(addr, "n1").is_ok());
        for bad in ["", "a b", "a:b"] {
            assert!(ClusterConfig::new(addr, bad).is_err());
        }
    }
}
