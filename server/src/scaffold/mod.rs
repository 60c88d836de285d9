//! What every server binary here needs around its protocol, shared by echo and chat:
//! binding the address (refusing one already in use, resolving port 0 once for all cores),
//! announcing the server once every core listens, and pacing the accept loop when file
//! descriptors run out. Each server keeps its own shutdown, since what "draining" means
//! differs: echo finishes the echo in flight, chat says goodbye to every client.

pub mod announce;
pub mod bind;
pub mod pacer;
