//! What a cluster call can fail with.

use std::fmt;

/// A cluster operation that did not happen (or whose outcome is unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterError {
    /// Redis is not reachable right now; the node is reconnecting. The
    /// operation was not sent (or its connection died before the reply, so
    /// its outcome is unknown).
    Unavailable,
    /// Redis answered with an error reply.
    Redis(String),
    /// Redis answered something this client does not understand.
    Protocol(String),
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::Unavailable => f.write_str("the cluster (redis) is unreachable"),
            ClusterError::Redis(e) => write!(f, "redis error: {e}"),
            ClusterError::Protocol(e) => write!(f, "unexpected reply from redis: {e}"),
        }
    }
}

impl std::error::Error for ClusterError {}
