//! End to end with irssi, run in a private tmux server (send-keys to type,
//! capture-pane to read the screen) with its rawlog: it registers with its
//! usual capabilities, joins, talks both ways with a plain TCP peer, changes
//! nick, sets the topic, parts and quits; the peer sees each step (the
//! quit through MONITOR).

mod chat_support;

use std::path::Path;
use std::process::Command;

use chat_support::real::{self, wait_file, wait_for, TempDir};
use chat_support::{code, Client, Server};

/// A tmux server of our own (`-L`), killed when dropped.
struct Tmux {
    tmux: std::path::PathBuf,
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new(&self.tmux)
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `text` (literally) and Enter.
    fn type_line(&self, text: &str) {
        self.run(&["send-keys", "-t", "irc", "-l", text]);
        self.run(&["send-keys", "-t", "irc", "Enter"]);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "irc"])
    }

    fn wait_screen(&self, needle: &str) {
        wait_for(&format!("{needle:?} on irssi's screen"), || {
            self.screen().contains(needle)
        });
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

#[test]
fn irssi_registers_talks_renames_sets_topic_parts_and_quits() {
    let (Some(irssi), Some(tmux)) = (real::require("irssi"), real::require("tmux")) else {
        return;
    };
    let srv = Server::start(&[]);
    let dir = TempDir::new("irssi");
    std::fs::write(
        dir.path().join("config"),
        "settings = { core = { real_name = \"Irssi Tester\"; user_name = \"irssiu\"; \
         nick = \"irssi1\"; settings_autosave = \"no\"; }; };\n",
    )
    .unwrap();
    let tm = Tmux {
        tmux,
        socket: format!("uringo-irssi-{}", std::process::id()),
    };
    let cmd = format!(
        "{} --home={} -n irssi1",
        irssi.display(),
        dir.path().display()
    );
    tm.run(&[
        "new-session",
        "-d",
        "-s",
        "irc",
        "-x",
        "200",
        "-y",
        "50",
        &cmd,
    ]);
    tm.wait_screen("Irssi v");
    tm.type_line(&format!("/connect 127.0.0.1 {}", srv.addr.port()));
    tm.wait_screen("Welcome to the uringo IRC Network irssi1!irssiu@127.0.0.1");
    // The rawlog starts with what irssi kept of the session so far.
    let raw = dir.path().join("raw.log");
    tm.type_line(&format!("/rawlog open {}", raw.display()));
    let log = wait_file(&raw, "<< CAP END");
    let caps = "multi-prefix extended-join setname invite-notify away-notify chghost server-time";
    assert!(log.contains(&format!("<< CAP REQ :{caps}")), "{log}");
    assert!(
        log.contains(&format!(">> :irc.test CAP * ACK :{caps}")),
        "{log}"
    );

    let mut peer = Client::register(srv.addr, "peer");
    peer.send("MONITOR + irssi2");
    peer.expect(|l| code(l) == "731");
    tm.type_line("/join #e2e");
    wait_file(&raw, ":irssi1!irssiu@127.0.0.1 JOIN #e2e * :Irssi Tester");
    peer.send("JOIN #e2e");
    let names = peer.expect(|l| code(l) == "366");
    let names = names.iter().find(|l| code(l) == "353").expect("353");
    assert!(
        names.contains("@irssi1") && names.contains("peer"),
        "{names}"
    );
    wait_file(&raw, ":peer!peer@127.0.0.1 JOIN #e2e * :Real peer");

    tm.type_line("hello from irssi");
    peer.expect(|l| l == ":irssi1!irssiu@127.0.0.1 PRIVMSG #e2e :hello from irssi");
    peer.send("PRIVMSG #e2e :hello irssi");
    tm.wait_screen("< peer> hello irssi");
    let log = wait_file(&raw, "PRIVMSG #e2e :hello irssi");
    assert!(
        log.contains(">> @time="),
        "server-time tags for irssi: {log}"
    );

    tm.type_line("/nick irssi2");
    // The NICK line and MONITOR's 730 come from different cores: any order.
    let online = ":irc.test 730 peer :irssi2";
    let got = peer.expect(|l| l == ":irssi1!irssiu@127.0.0.1 NICK :irssi2");
    if !got.iter().any(|l| l == online) {
        peer.expect(|l| l == online);
    }
    tm.type_line("/topic the irssi topic");
    peer.expect(|l| l == ":irssi2!irssiu@127.0.0.1 TOPIC #e2e :the irssi topic");
    tm.type_line("/part #e2e gone");
    peer.expect(|l| l == ":irssi2!irssiu@127.0.0.1 PART #e2e :gone");
    tm.type_line("/quit see you");
    peer.expect(|l| l == ":irc.test 731 peer :irssi2");
    wait_for("irssi to exit", || !tm.screen().contains("irssi2"));
    assert!(Path::new(&raw).exists());
}
