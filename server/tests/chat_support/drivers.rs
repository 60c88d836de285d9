//! Drivers for real IRC clients, one per client, behind one `Driver`
//! trait, and the scenario every one of them plays against the server.
//! irssi runs in a private tmux server (send-keys to type; capture-pane
//! and its rawlog to read), weechat-headless through its FIFO and logger
//! files, ii through its `in` and `out` files.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::real::{wait_file, wait_for, TempDir};
use super::{code, Client};

pub trait Driver {
    fn name(&self) -> &'static str;
    /// `nick!user@127.0.0.1` as others see it now.
    fn prefix(&self) -> String;
    /// Joins `chan` and waits until the client shows it joined.
    fn join(&mut self, chan: &str);
    fn say(&mut self, chan: &str, text: &str);
    fn nick(&mut self, new: &str);
    fn topic(&mut self, chan: &str, text: &str);
    fn part(&mut self, chan: &str, reason: &str);
    fn quit(&mut self, reason: &str);
    /// Waits until the client has shown `from`'s message `text` in `chan`.
    fn wait_message(&self, chan: &str, from: &str, text: &str);
    /// Waits until the client's process has exited.
    fn wait_exit(&mut self);
}

/// Waits for `child` to exit.
fn wait_child(what: &str, child: &mut Child) {
    wait_for(&format!("{what} to exit"), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
}

pub struct Irssi {
    tmux: PathBuf,
    socket: String,
    dir: TempDir,
    nick: String,
}

impl Irssi {
    /// Starts irssi in tmux, connects it and opens its rawlog.
    pub fn start(irssi: &Path, tmux: PathBuf, addr: SocketAddr, nick: &str) -> Irssi {
        let dir = TempDir::new(&format!("irssi-{nick}"));
        // irssi's own flood control would space commands 2.2 s apart.
        let config = format!(
            "settings = {{ core = {{ real_name = \"Irssi Tester\"; user_name = \"irssiu\"; \
             nick = \"{nick}\"; settings_autosave = \"no\"; }}; \
             \"irc/core\" = {{ cmd_queue_speed = \"0msec\"; cmds_max_at_once = \"100\"; }}; }};\n"
        );
        fs::write(dir.path().join("config"), config).expect("irssi config");
        let c = Irssi {
            tmux,
            socket: format!("uringo-{nick}-{}", std::process::id()),
            dir,
            nick: nick.into(),
        };
        let cmd = format!("{} --home={}", irssi.display(), c.dir.path().display());
        c.tmux(&[
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
        c.wait_screen("Irssi v");
        c.type_line(&format!("/connect {} {}", addr.ip(), addr.port()));
        c.wait_screen(&format!("Welcome to the uringo IRC Network {nick}!irssiu@"));
        // The rawlog starts with what irssi kept of the session so far.
        c.type_line(&format!("/rawlog open {}", c.rawlog().display()));
        wait_file(&c.rawlog(), "<< CAP END");
        c
    }

    pub fn rawlog(&self) -> PathBuf {
        self.dir.path().join("raw.log")
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new(&self.tmux)
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `text` (literally) and Enter.
    pub fn type_line(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "irc", "-l", text]);
        self.tmux(&["send-keys", "-t", "irc", "Enter"]);
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "irc"])
    }

    pub fn wait_screen(&self, needle: &str) {
        wait_for(&format!("{needle:?} on irssi's screen"), || {
            self.screen().contains(needle)
        });
    }
}

impl Drop for Irssi {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

impl Driver for Irssi {
    fn name(&self) -> &'static str {
        "irssi"
    }
    fn prefix(&self) -> String {
        format!("{}!irssiu@127.0.0.1", self.nick)
    }
    fn join(&mut self, chan: &str) {
        self.type_line(&format!("/join {chan}"));
        let me = format!(":{}!", self.nick);
        let joined = format!(" JOIN {chan}");
        wait_for(&format!("irssi in {chan}"), || {
            let log = fs::read_to_string(self.rawlog()).unwrap_or_default();
            log.lines().any(|l| l.contains(&me) && l.contains(&joined))
        });
    }
    fn say(&mut self, chan: &str, text: &str) {
        self.type_line(&format!("/msg {chan} {text}"));
    }
    fn nick(&mut self, new: &str) {
        self.type_line(&format!("/nick {new}"));
        self.nick = new.into();
    }
    fn topic(&mut self, chan: &str, text: &str) {
        self.type_line(&format!("/topic {chan} {text}"));
    }
    fn part(&mut self, chan: &str, reason: &str) {
        self.type_line(&format!("/part {chan} {reason}"));
    }
    fn quit(&mut self, reason: &str) {
        self.type_line(&format!("/quit {reason}"));
    }
    fn wait_message(&self, chan: &str, from: &str, text: &str) {
        let want = format!(" PRIVMSG {chan} :{text}");
        wait_for(&format!("{want:?} from {from} in irssi's rawlog"), || {
            let log = fs::read_to_string(self.rawlog()).unwrap_or_default();
            log.lines()
                .any(|l| l.contains(&format!(":{from}!")) && l.ends_with(&want))
        });
    }
    fn wait_exit(&mut self) {
        wait_for("irssi to exit", || self.screen().is_empty());
    }
}

pub struct Weechat {
    child: Child,
    dir: TempDir,
    fifo: fs::File,
    nick: String,
}

impl Weechat {
    /// Starts weechat-headless connected to `addr`, its FIFO open.
    pub fn start(weechat: &Path, addr: SocketAddr, nick: &str) -> Weechat {
        let dir = TempDir::new(&format!("weechat-{nick}"));
        let setup = [
            "/set logger.file.flush_delay 0".to_string(),
            format!("/server add t {}/{}", addr.ip(), addr.port()),
            format!("/set irc.server.t.nicks {nick}"),
            "/set irc.server.t.username weeu".into(),
            "/set irc.server.t.realname Wee Chat".into(),
            // weechat's own flood control would space messages 2 s apart.
            "/set irc.server.t.anti_flood_prio_high 0".into(),
            "/set irc.server.t.anti_flood_prio_low 0".into(),
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
        let fifo_path = dir.path().join(format!("weechat_fifo_{}", child.id()));
        wait_for("weechat's fifo", || fifo_path.exists());
        // Held open for the whole test: each reopen costs weechat a re-poll.
        let fifo = fs::OpenOptions::new()
            .write(true)
            .open(&fifo_path)
            .expect("open fifo");
        let c = Weechat {
            child,
            dir,
            fifo,
            nick: nick.into(),
        };
        let welcome = format!("Welcome to the uringo IRC Network {nick}!weeu@");
        wait_file(&c.server_log(), &welcome);
        c
    }

    pub fn server_log(&self) -> PathBuf {
        self.dir.path().join("logs").join("irc.server.t.weechatlog")
    }

    pub fn chan_log(&self, chan: &str) -> PathBuf {
        self.dir
            .path()
            .join("logs")
            .join(format!("irc.t.{chan}.weechatlog"))
    }

    /// A FIFO line: `buffer *text` (text or a /command for that buffer).
    fn fifo(&mut self, buffer: &str, text: &str) {
        self.fifo
            .write_all(format!("{buffer} *{text}\n").as_bytes())
            .and_then(|()| self.fifo.flush())
            .expect("write weechat's fifo");
    }
}

impl Drop for Weechat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver for Weechat {
    fn name(&self) -> &'static str {
        "weechat"
    }
    fn prefix(&self) -> String {
        format!("{}!weeu@127.0.0.1", self.nick)
    }
    fn join(&mut self, chan: &str) {
        self.fifo("irc.server.t", &format!("/join {chan}"));
        // The channel's buffer exists (and takes FIFO lines) from here on.
        let joined = format!(
            "{} (Wee Chat) (weeu@127.0.0.1) has joined {chan}",
            self.nick
        );
        wait_file(&self.chan_log(chan), &joined);
    }
    fn say(&mut self, chan: &str, text: &str) {
        self.fifo(&format!("irc.t.{chan}"), text);
    }
    fn nick(&mut self, new: &str) {
        self.fifo("irc.server.t", &format!("/nick {new}"));
        self.nick = new.into();
    }
    fn topic(&mut self, chan: &str, text: &str) {
        self.fifo(&format!("irc.t.{chan}"), &format!("/topic {text}"));
    }
    fn part(&mut self, chan: &str, reason: &str) {
        self.fifo(&format!("irc.t.{chan}"), &format!("/part {reason}"));
    }
    fn quit(&mut self, reason: &str) {
        self.fifo("irc.server.t", &format!("/quit {reason}"));
    }
    fn wait_message(&self, chan: &str, from: &str, text: &str) {
        wait_file(&self.chan_log(chan), &format!("{from}\t{text}"));
    }
    fn wait_exit(&mut self) {
        wait_child("weechat", &mut self.child);
    }
}

pub struct Ii {
    child: Child,
    dir: TempDir,
    host: String,
    /// ii's user name is the nick it started with.
    user: String,
    nick: String,
}

impl Ii {
    /// Starts ii connected to `addr`.
    pub fn start(ii: &Path, addr: SocketAddr, nick: &str) -> Ii {
        let dir = TempDir::new(&format!("ii-{nick}"));
        let host = addr.ip().to_string();
        let child = Command::new(ii)
            .args(["-s", &host, "-p", &addr.port().to_string()])
            .args(["-n", nick, "-f", "ii user"])
            .arg("-i")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ii");
        let c = Ii {
            child,
            dir,
            host,
            user: nick.into(),
            nick: nick.into(),
        };
        wait_file(&c.file(None, "out"), "Welcome to the uringo IRC Network");
        c
    }

    /// ii's `in`/`out` file of the server (`None`) or of a channel.
    pub fn file(&self, chan: Option<&str>, name: &str) -> PathBuf {
        let server = self.dir.path().join(&self.host);
        match chan {
            Some(c) => server.join(c).join(name),
            None => server.join(name),
        }
    }

    /// Writes one line to an `in` FIFO. ii closes and reopens a FIFO when its
    /// last writer goes, so a write that raced that close fails with EPIPE
    /// having written nothing (a line is under PIPE_BUF, so all or nothing):
    /// it is written again once ii has the FIFO open (the open waits for it).
    fn write(&self, chan: Option<&str>, line: &str) {
        let path = self.file(chan, "in");
        wait_for(&format!("{}", path.display()), || path.exists());
        let line = format!("{line}\n");
        for _ in 0..100 {
            let written = fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(line.as_bytes()));
            match written {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => continue,
                other => return other.expect("write ii's in file"),
            }
        }
        panic!("ii's {} kept closing before a line got in", path.display());
    }
}

impl Drop for Ii {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver for Ii {
    fn name(&self) -> &'static str {
        "ii"
    }
    fn prefix(&self) -> String {
        format!("{}!{}@127.0.0.1", self.nick, self.user)
    }
    fn join(&mut self, chan: &str) {
        self.write(None, &format!("/j {chan}"));
        let path = self.file(Some(chan), "in");
        wait_for(&format!("ii in {chan}"), || path.exists());
    }
    fn say(&mut self, chan: &str, text: &str) {
        self.write(Some(chan), text);
    }
    fn nick(&mut self, new: &str) {
        self.write(None, &format!("/n {new}"));
        self.nick = new.into();
    }
    fn topic(&mut self, chan: &str, text: &str) {
        self.write(Some(chan), &format!("/t {text}"));
    }
    fn part(&mut self, chan: &str, reason: &str) {
        self.write(Some(chan), &format!("/l {reason}"));
    }
    fn quit(&mut self, reason: &str) {
        self.write(None, &format!("/q {reason}"));
    }
    fn wait_message(&self, chan: &str, from: &str, text: &str) {
        wait_file(&self.file(Some(chan), "out"), &format!("<{from}> {text}"));
    }
    fn wait_exit(&mut self) {
        wait_child("ii", &mut self.child);
    }
}

/// Waits for the peer to see `line`, and MONITOR's `also` (which comes
/// from another core, so in either order).
fn expect_both(peer: &mut Client, line: &str, also: &str) {
    let got = peer.expect(|l| l == line);
    if !got.iter().any(|l| l == also) {
        peer.expect(|l| l == also);
    }
}

/// The scenario each client plays with a plain TCP peer: join, messages
/// both ways, a nick change, a topic, part and quit; the peer sees each
/// step, the quit through MONITOR.
pub fn solo(c: &mut dyn Driver, addr: SocketAddr, new_nick: &str) {
    let chan = "#e2e";
    let mut peer = Client::register(addr, "peer");
    peer.send(&format!("MONITOR + {new_nick}"));
    peer.expect(|l| code(l) == "731");
    peer.send(&format!("JOIN {chan}"));
    peer.expect(|l| code(l) == "366");
    // Anyone may set the topic, so the client need not be an operator.
    peer.send(&format!("MODE {chan} -t"));
    peer.expect(|l| l.ends_with(&format!("MODE {chan} -t")));

    let me = c.prefix();
    c.join(chan);
    peer.expect(|l| l == format!(":{me} JOIN {chan}"));
    c.say(chan, &format!("hello from {}", c.name()));
    peer.expect(|l| l == format!(":{me} PRIVMSG {chan} :hello from {}", c.name()));
    peer.send(&format!("PRIVMSG {chan} :hello {}", c.name()));
    c.wait_message(chan, "peer", &format!("hello {}", c.name()));

    c.nick(new_nick);
    let online = format!(":irc.test 730 peer :{new_nick}");
    expect_both(&mut peer, &format!(":{me} NICK :{new_nick}"), &online);
    let me = c.prefix();
    c.topic(chan, "a topic");
    peer.expect(|l| l == format!(":{me} TOPIC {chan} :a topic"));
    c.part(chan, "gone");
    peer.expect(|l| l == format!(":{me} PART {chan} :gone"));
    c.quit("see you");
    peer.expect(|l| l == format!(":irc.test 731 peer :{new_nick}"));
    c.wait_exit();
}
