//! `uringo-server chat`: an IRC-compatible chat server sharded across cores
//! by message (see shared/DESIGN.md, "Chat server").
//!
//! Layers, bottom up: `parse`/`framing`/`casemap`/`numerics` are pure
//! protocol helpers; `shard` (with `register`, `commands`, `queries`, `owner`,
//! `mode`, `home`) is one core's chat state as a sans-I/O state machine whose
//! only outputs are per-client byte queues and `msg::Msg`s for other cores;
//! `net` runs one shard per core on the uringo runtime, `conn` one client
//! connection, `mailbox` carries messages between cores.

pub mod casemap;
mod channel;
pub mod cli;
mod client;
mod commands;
mod conn;
pub mod framing;
mod home;
mod mailbox;
mod mode;
pub mod msg;
mod net;
pub mod numerics;
mod owner;
pub mod parse;
mod queries;
mod register;
pub mod shard;
mod throttle;

#[cfg(test)]
mod sim;
#[cfg(test)]
mod sim_fuzz;
#[cfg(test)]
mod sim_tests;

pub use cli::ChatArgs;

pub use net::run;
