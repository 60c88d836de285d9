//! irssi, weechat and ii in one channel: each sees the others' messages
//! (before and after they change nick), and a plain TCP peer sees every
//! join, message, nick change, topic, part and quit.

mod chat_support;

use chat_support::drivers::{Driver, Ii, Irssi, Weechat};
use chat_support::real;
use chat_support::{code, Client, Server};

fn nick_of(c: &dyn Driver) -> String {
    c.prefix().split('!').next().unwrap_or_default().to_string()
}

/// Every client says something; every other one shows it; so does the peer.
fn round(clients: &mut [Box<dyn Driver>], peer: &mut Client, chan: &str, what: &str) {
    for i in 0..clients.len() {
        let text = format!("{what} from {}", clients[i].name());
        clients[i].say(chan, &text);
        let (me, nick) = (clients[i].prefix(), nick_of(clients[i].as_ref()));
        peer.expect(|l| l == format!(":{me} PRIVMSG {chan} :{text}"));
        for (j, other) in clients.iter().enumerate() {
            if j != i {
                other.wait_message(chan, &nick, &text);
            }
        }
    }
}

#[test]
fn irssi_weechat_and_ii_talk_to_each_other() {
    let (Some(irssi), Some(tmux), Some(weechat), Some(ii)) = (
        real::require("irssi"),
        real::require("tmux"),
        real::require("weechat-headless"),
        real::require("ii"),
    ) else {
        return;
    };
    let srv = Server::start(&[]);
    let mut clients: Vec<Box<dyn Driver>> = vec![
        Box::new(Irssi::start(&irssi, tmux, srv.addr, "irs")),
        Box::new(Weechat::start(&weechat, srv.addr, "wee")),
        Box::new(Ii::start(&ii, srv.addr, "iii")),
    ];
    let chan = "#all";
    let mut peer = Client::register(srv.addr, "peer");
    peer.send("MONITOR + irs2,wee2,iii2");
    peer.expect(|l| code(l) == "731");
    peer.send(&format!("JOIN {chan}"));
    peer.expect(|l| code(l) == "366");
    peer.send(&format!("MODE {chan} -t"));
    peer.expect(|l| l.ends_with(" -t"));
    for c in clients.iter_mut() {
        c.join(chan);
        let me = c.prefix();
        peer.expect(|l| l == format!(":{me} JOIN {chan}"));
    }
    round(&mut clients, &mut peer, chan, "hello");
    for c in clients.iter_mut() {
        let (me, new) = (c.prefix(), format!("{}2", nick_of(c.as_ref())));
        c.nick(&new);
        peer.expect(|l| l == format!(":{me} NICK :{new}"));
    }
    round(&mut clients, &mut peer, chan, "renamed");
    clients[2].topic(chan, "set by ii");
    let me = clients[2].prefix();
    peer.expect(|l| l == format!(":{me} TOPIC {chan} :set by ii"));
    for c in clients.iter_mut() {
        c.part(chan, "bye");
        let me = c.prefix();
        peer.expect(|l| l == format!(":{me} PART {chan} :bye"));
    }
    for c in clients.iter_mut() {
        let nick = nick_of(c.as_ref());
        c.quit("done");
        peer.expect(|l| l == format!(":irc.test 731 peer :{nick}"));
        c.wait_exit();
    }
}
