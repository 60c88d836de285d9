//! End to end with weechat-headless through its FIFO and logger files: it
//! registers with the caps it asks for (checked in its server log), then
//! plays the common scenario (chat_support/drivers.rs: join, messages both
//! ways, nick, topic, part, quit) with a plain TCP peer.

mod chat_support;

use chat_support::drivers::{self, Weechat};
use chat_support::real;
use chat_support::Server;

#[test]
fn weechat_registers_talks_renames_sets_topic_parts_and_quits() {
    let Some(weechat) = real::require("weechat-headless") else {
        return;
    };
    let srv = Server::start(&[]);
    let mut c = Weechat::start(&weechat, srv.addr, "wee1");
    let log = std::fs::read_to_string(c.server_log()).unwrap();
    let enabled = log
        .lines()
        .find(|l| l.contains("client capability, enabled:"))
        .expect("caps enabled");
    for cap in [
        "multi-prefix",
        "server-time",
        "message-tags",
        "away-notify",
        "setname",
    ] {
        assert!(enabled.contains(cap), "{cap} not enabled: {enabled}");
    }
    drivers::solo(&mut c, srv.addr, "wee2");
}
