//! End to end with weechat-headless, driven through its FIFO pipe and read
//! through its logger's files: it registers with its usual capabilities,
//! joins, talks both ways with a plain TCP peer, changes nick, sets the
//! topic, parts and quits; the peer sees each step (the quit through
//! MONITOR).

mod chat_support;

use std::io::Write;
use std::process::{Command, Stdio};

use chat_support::real::{self, wait_file, wait_for, TempDir};
use chat_support::{code, Client, Server};

/// The weechat process, killed if the test ends before it quits.
struct Weechat(std::process::Child);

impl Drop for Weechat {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn weechat_registers_talks_renames_sets_topic_parts_and_quits() {
    let Some(weechat) = real::require("weechat-headless") else {
        return;
    };
    let srv = Server::start(&[]);
    let dir = TempDir::new("weechat");
    let setup = [
        "/set logger.file.flush_delay 0".to_string(),
        format!("/server add t 127.0.0.1/{}", srv.addr.port()),
        "/set irc.server.t.nicks wee1".into(),
        "/set irc.server.t.username weeu".into(),
        "/set irc.server.t.realname Wee Chat".into(),
        "/connect t".into(),
    ];
    let child = Command::new(weechat)
        .arg("--dir")
        .arg(dir.path())
        .args(["-r", &setup.join(";")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn weechat-headless");
    let mut wc = Weechat(child);
    let logs = dir.path().join("logs");
    let server_log = wait_file(
        &logs.join("irc.server.t.weechatlog"),
        "Welcome to the uringo IRC Network wee1!weeu@127.0.0.1",
    );
    let enabled = server_log
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
    // Held open for the whole test: each reopen costs weechat a re-poll.
    let fifo_path = dir.path().join(format!("weechat_fifo_{}", wc.0.id()));
    wait_for("weechat's fifo", || fifo_path.exists());
    let mut fifo = std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo_path)
        .expect("open fifo");
    let mut cmd = |line: &str| {
        fifo.write_all(format!("{line}\n").as_bytes())
            .and_then(|()| fifo.flush())
            .expect("write fifo");
    };

    let mut peer = Client::register(srv.addr, "peer");
    peer.send("MONITOR + wee2");
    peer.expect(|l| code(l) == "731");
    cmd("irc.server.t */join #e2e");
    let chan_log = logs.join("irc.t.#e2e.weechatlog");
    wait_file(
        &chan_log,
        "wee1 (Wee Chat) (weeu@127.0.0.1) has joined #e2e",
    );
    peer.send("JOIN #e2e");
    peer.expect(|l| code(l) == "366");
    // extended-join: weechat shows the realname.
    wait_file(
        &chan_log,
        "peer (Real peer) (peer@127.0.0.1) has joined #e2e",
    );

    cmd("irc.t.#e2e *hello from weechat");
    peer.expect(|l| l == ":wee1!weeu@127.0.0.1 PRIVMSG #e2e :hello from weechat");
    peer.send("PRIVMSG #e2e :hello weechat");
    wait_file(&chan_log, "peer\thello weechat");

    cmd("irc.t.#e2e */nick wee2");
    let online = ":irc.test 730 peer :wee2";
    let got = peer.expect(|l| l == ":wee1!weeu@127.0.0.1 NICK :wee2");
    if !got.iter().any(|l| l == online) {
        peer.expect(|l| l == online);
    }
    cmd("irc.t.#e2e */topic the weechat topic");
    peer.expect(|l| l == ":wee2!weeu@127.0.0.1 TOPIC #e2e :the weechat topic");
    cmd("irc.t.#e2e */part gone");
    peer.expect(|l| l == ":wee2!weeu@127.0.0.1 PART #e2e :gone");
    cmd("irc.server.t */quit see you");
    peer.expect(|l| l == ":irc.test 731 peer :wee2");
    wait_for("weechat to exit", || matches!(wc.0.try_wait(), Ok(Some(_))));
}
