//! uringo-loadgen: the load generator for uringo's echo and IRC chat servers.
//!
//! It runs on uringo itself, one runtime core per CPU it is given. Each core drives its share
//! of the connections and keeps its own counters and latency histogram; a printer thread merges
//! the cores' per-second reports, and the per-core histograms are merged once at the end, so the
//! hot path shares nothing.
//!
//! Echo: closed loop (`--pipeline K` messages in flight per connection) or open loop
//! (`--rate R` messages per second, latency from the intended send time as wrk2 measures it).
//! Every echoed byte is checked against a per-connection pattern ([`pattern`]).
//! Chat: registers IRC clients, joins channels by a fixed [`chat::plan::Plan`], and checks each
//! delivery for loss, duplication and order.

pub mod chat;
pub mod cli;
pub mod cpu;
pub mod echo;
pub mod errors;
pub mod latch;
pub mod latency;
pub mod live;
pub mod output;
pub mod pattern;
pub mod schedule;
pub mod ticker;
