//! The single-core one-way latch the load generator uses for "the sender is done" within a
//! connection, "everyone is registered, start" and "stop" within a core: the runtime's
//! [`uringo::sync::Latch`], which the echo server's shutdown uses too.

pub use uringo::sync::Latch;
