//! End to end with a real IRC client: Debian's `ii` (a filesystem-based
//! client) joins a channel, writes to it and reads a reply from a plain
//! TCP client on the other core. Skipped, with a message, if `ii` is absent.

mod chat_support;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chat_support::{code, Client, Server};

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        // ii talks through files; polling them is the only way to watch it.
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_default()
}

#[test]
fn ii_joins_talks_and_reads() {
    let Ok(ii) = which_ii() else {
        println!("SKIPPED chat_ii: `ii` not installed (apt-get install ii)");
        return;
    };
    let srv = Server::start(&[]);
    let dir = std::env::temp_dir().join(format!("uringo-ii-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(ii)
        .args(["-s", "127.0.0.1", "-p", &srv.addr.port().to_string()])
        .args(["-n", "iiuser", "-f", "ii user", "-i", dir.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ii");
    let server_dir = dir.join("127.0.0.1");
    let server_in = server_dir.join("in");
    let server_out = server_dir.join("out");
    wait_for("ii registration", || read(&server_out).contains("Welcome"));

    let mut peer = Client::register(srv.addr, "peer");
    peer.send("JOIN #e2e");
    peer.expect(|l| code(l) == "366");

    fs::OpenOptions::new()
        .append(true)
        .open(&server_in)
        .and_then(|mut f| f.write_all(b"/j #e2e\n"))
        .unwrap();
    let chan_in = server_dir.join("#e2e").join("in");
    wait_for("ii channel", || chan_in.exists());
    peer.expect(|l| l.starts_with(":iiuser!") && l.contains(" JOIN #e2e"));

    fs::OpenOptions::new()
        .append(true)
        .open(&chan_in)
        .and_then(|mut f| f.write_all(b"hello from ii\n"))
        .unwrap();
    let got = peer.expect(|l| l.contains("PRIVMSG"));
    assert_eq!(
        got.last().unwrap(),
        ":iiuser!iiuser@127.0.0.1 PRIVMSG #e2e :hello from ii"
    );

    peer.send("PRIVMSG #e2e :hello back");
    let chan_out = server_dir.join("#e2e").join("out");
    wait_for("ii to log the reply", || {
        read(&chan_out).contains("<peer> hello back")
    });

    let _ = child.kill();
    let _ = child.wait();
    let _ = fs::remove_dir_all(&dir);
}

fn which_ii() -> Result<String, ()> {
    for p in ["/usr/bin/ii", "/usr/local/bin/ii"] {
        if Path::new(p).exists() {
            return Ok(p.to_string());
        }
    }
    Err(())
}
