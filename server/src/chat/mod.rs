//! `uringo-server chat`: an IRC-compatible chat server sharded across cores
//! by message (see shared/DESIGN.md, "Chat server").
//!
//! Layers, bottom up:
//! - protocol helpers, pure: `parse`, `framing`, `casemap`, `numerics`, `caps`;
//! - the three roles of a core, each with its own state: `registry` (the
//!   nicks this core owns), `channels` (the channels it owns; each
//!   operation a method on `channel::Channel` returning its effects) and
//!   `home` (its clients, with `mirror` of their channel membership);
//!   a client's lines run as functions of a `session` in `commands`,
//!   `chan_cmds`, `register`, `cap_cmd`, `welcome`, `queries`, and
//!   `at_client` answers what others ask about a local client;
//! - `mail` carries their messages out (and is the seam where a clustered
//!   server would route channel operations and nick claims elsewhere);
//!   `shard` puts the roles together and dispatches messages to them;
//! - I/O: `node` is one core's running server, `conn` one connection,
//!   `mailbox` the transport between cores, `net` starts it all.

mod at_client;
mod bridge;
mod bridge_chan;
mod bridge_users;
mod cap_cmd;
mod caps;
pub mod casemap;
mod chan_cmds;
mod channel;
mod channels;
mod channels_cluster;
pub mod cli;
mod client;
mod clock;
mod cluster_lines;
mod cluster_pending;
mod commands;
mod config;
mod conn;
mod counters;
mod due;
pub mod framing;
mod home;
mod ident;
mod mail;
mod mailbox;
mod mirror;
mod monitor;
pub mod msg;
mod net;
mod node;
pub mod numerics;
mod oper;
mod outbuf;
pub mod parse;
mod queries;
mod register;
mod registry;
mod session;
pub mod shard;
mod tags;
mod throttle;
mod welcome;

#[cfg(test)]
mod node_tests;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod sim_commands;
#[cfg(test)]
mod sim_fuzz;
#[cfg(test)]
mod sim_ircv3;
#[cfg(test)]
mod sim_tests;

pub use cli::ChatArgs;

pub use net::run;
