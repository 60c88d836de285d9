//! End to end with Debian's `ii`, a client driven through files (it asks
//! for no capabilities): it registers, joins, talks both ways with a plain
//! TCP peer, changes nick, sets the topic, parts and quits; the peer sees
//! each step (the quit through MONITOR).

mod chat_support;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use chat_support::real::{self, wait_file, wait_for, TempDir};
use chat_support::{code, Client, Server};

/// The ii process, killed if the test ends before it quits.
struct Ii(std::process::Child);

impl Drop for Ii {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn write_to(path: &Path, line: &str) {
    fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()))
        .expect("write to ii's in file");
}

#[test]
fn ii_registers_talks_renames_sets_topic_parts_and_quits() {
    let Some(ii) = real::require("ii") else {
        return;
    };
    let srv = Server::start(&[]);
    let dir = TempDir::new("ii");
    let child = Command::new(ii)
        .args(["-s", "127.0.0.1", "-p", &srv.addr.port().to_string()])
        .args(["-n", "iiuser", "-f", "ii user"])
        .arg("-i")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ii");
    let mut ii = Ii(child);
    let server_dir = dir.path().join("127.0.0.1");
    let server_in = server_dir.join("in");
    wait_file(&server_dir.join("out"), "Welcome to the uringo IRC Network");

    let mut peer = Client::register(srv.addr, "peer");
    peer.send("MONITOR + iinew");
    peer.expect(|l| code(l) == "731");
    peer.send("JOIN #e2e");
    peer.expect(|l| code(l) == "366");

    write_to(&server_in, "/j #e2e");
    let chan_in = server_dir.join("#e2e").join("in");
    wait_for("ii's channel", || chan_in.exists());
    peer.expect(|l| l == ":iiuser!iiuser@127.0.0.1 JOIN #e2e");

    write_to(&chan_in, "hello from ii");
    peer.expect(|l| l == ":iiuser!iiuser@127.0.0.1 PRIVMSG #e2e :hello from ii");
    peer.send("PRIVMSG #e2e :hello back");
    let chan_out = server_dir.join("#e2e").join("out");
    wait_file(&chan_out, "<peer> hello back");

    write_to(&server_in, "/n iinew");
    let online = ":irc.test 730 peer :iinew";
    let got = peer.expect(|l| l == ":iiuser!iiuser@127.0.0.1 NICK :iinew");
    if !got.iter().any(|l| l == online) {
        peer.expect(|l| l == online);
    }
    peer.send("MODE #e2e -t");
    peer.expect(|l| l.ends_with("MODE #e2e -t"));
    write_to(&chan_in, "/t the ii topic");
    peer.expect(|l| l == ":iinew!iiuser@127.0.0.1 TOPIC #e2e :the ii topic");
    write_to(&chan_in, "/l gone");
    peer.expect(|l| l == ":iinew!iiuser@127.0.0.1 PART #e2e :gone");
    write_to(&server_in, "/q see you");
    peer.expect(|l| l == ":irc.test 731 peer :iinew");
    wait_for("ii to exit", || matches!(ii.0.try_wait(), Ok(Some(_))));
}
