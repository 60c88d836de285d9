//! End to end with irssi in a private tmux server: it registers with the
//! caps it asks for (checked in its rawlog), then plays the common
//! scenario (chat_support/drivers.rs: join, messages both ways, nick,
//! topic, part, quit) with a plain TCP peer; its screen shows the peer.

mod chat_support;

use chat_support::drivers::{self, Driver, Irssi};
use chat_support::real;
use chat_support::Server;

#[test]
fn irssi_registers_talks_renames_sets_topic_parts_and_quits() {
    let (Some(irssi), Some(tmux)) = (real::require("irssi"), real::require("tmux")) else {
        return;
    };
    let srv = Server::start(&[]);
    let mut c = Irssi::start(&irssi, tmux, srv.addr, "irssi1");
    let log = std::fs::read_to_string(c.rawlog()).unwrap();
    let caps = "multi-prefix extended-join setname invite-notify away-notify chghost server-time";
    assert!(log.contains(&format!("<< CAP REQ :{caps}")), "{log}");
    assert!(
        log.contains(&format!(">> :irc.test CAP * ACK :{caps}")),
        "{log}"
    );
    c.join("#screen");
    c.wait_screen("#screen");
    c.say("#screen", "on the screen");
    c.wait_screen("on the screen");
    drivers::solo(&mut c, srv.addr, "irssi2");
    let log = std::fs::read_to_string(c.rawlog()).unwrap();
    assert!(
        log.contains(">> @time="),
        "server-time tags for irssi: {log}"
    );
}
