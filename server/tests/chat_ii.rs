//! End to end with Debian's `ii`, driven through its files (it asks for no
//! capabilities): the common scenario (chat_support/drivers.rs: join,
//! messages both ways, nick, topic, part, quit) with a plain TCP peer.

mod chat_support;

use chat_support::drivers::{self, Ii};
use chat_support::real;
use chat_support::Server;

#[test]
fn ii_registers_talks_renames_sets_topic_parts_and_quits() {
    let Some(ii) = real::require("ii") else {
        return;
    };
    let srv = Server::start(&[]);
    let mut c = Ii::start(&ii, srv.addr, "iiuser");
    drivers::solo(&mut c, srv.addr, "iinew");
}
