//! Bad input over TCP: oversized lines, random bytes, a reader too slow
//! for its traffic. The server must answer, never panic, and keep its
//! memory bounded.

mod chat_support;

use std::io::Write;
use std::time::{Duration, Instant};

use chat_support::{code, Client, Server};

#[test]
fn oversized_lines_get_417_and_connection_goes_on() {
    let srv = Server::start(&["--flood-rate", "0"]);
    let mut a = Client::register(srv.addr, "big");
    let mut line = b"PRIVMSG big :".to_vec();
    line.resize(600, b'x');
    line.extend_from_slice(b"\r\n");
    a.send_raw(&line);
    // 100 KB without a newline, then one: still a single 417.
    a.send_raw(&vec![b'y'; 100_000]);
    a.send_raw(b"\r\n");
    let mut tagged = b"@t=".to_vec();
    tagged.resize(9000, b'v');
    tagged.extend_from_slice(b" PING x\r\n");
    a.send_raw(&tagged);
    // Tags within their own 8191-byte limit are fine.
    let mut ok = b"@t=".to_vec();
    ok.resize(4000, b'v');
    ok.extend_from_slice(b" PING tagged\r\n");
    a.send_raw(&ok);
    let lines = a.sync();
    assert_eq!(
        lines,
        [
            ":irc.test 417 big :Input line was too long",
            ":irc.test 417 big :Input line was too long",
            ":irc.test 417 big :Input line was too long",
            ":irc.test PONG irc.test :tagged"
        ]
    );
}

#[test]
fn non_utf8_passes_through_unchanged() {
    let srv = Server::start(&[]);
    let mut a = Client::on_core(srv.addr, "sender", 0);
    let mut b = Client::on_core(srv.addr, "recver", 1);
    b.send("JOIN #bytes");
    b.expect(|l| code(l) == "366");
    a.send("JOIN #bytes");
    a.expect(|l| code(l) == "366");
    b.expect(|l| l.contains("JOIN"));
    a.send_raw(b"PRIVMSG #bytes :caf\xe9 \xff\xfe\r\n");
    let mut got = Vec::new();
    let want = b":sender!sender@127.0.0.1 PRIVMSG #bytes :caf\xe9 \xff\xfe\r\n";
    while got.len() < want.len() {
        let mut byte = [0u8; 1];
        std::io::Read::read_exact(&mut b.stream(), &mut byte).unwrap();
        got.push(byte[0]);
    }
    assert_eq!(got, want);
}

#[test]
fn random_bytes_never_kill_the_server() {
    let mut srv = Server::start(&["--flood-rate", "0"]);
    let mut seed: u64 = 0x1234_5678_9abc_def1;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let vocab: &[&[u8]] = &[
        b"NICK ",
        b"USER ",
        b"JOIN ",
        b"PRIVMSG ",
        b"MODE ",
        b"#a",
        b" :",
        b"\r\n",
        b"\n",
        b",",
        b"@",
        b"\xff",
        b"\0",
        b" ",
        b"CAP ",
        b"WHO ",
        b"KICK ",
        b"TOPIC ",
        b"+o",
    ];
    for _ in 0..20 {
        let mut s = std::net::TcpStream::connect(srv.addr).unwrap();
        let mut data = Vec::new();
        for _ in 0..2000 {
            if next() % 3 == 0 {
                data.push(next() as u8);
            } else {
                data.extend_from_slice(vocab[(next() % vocab.len() as u64) as usize]);
            }
        }
        // The server may close on QUIT-like input; that is fine.
        let _ = s.write_all(&data);
    }
    assert!(srv.alive(), "server died on random input");
    let mut c = Client::register(srv.addr, "survivor");
    c.send("PING still");
    assert_eq!(c.next_line().unwrap(), ":irc.test PONG irc.test :still");
}

#[test]
fn slow_reader_gets_max_sendq_exceeded_and_rss_stays_bounded() {
    let srv = Server::start(&["--flood-rate", "0", "--sendq", "262144"]);
    let mut slow = Client::on_core(srv.addr, "slow", 1);
    let mut fast = Client::on_core(srv.addr, "fast", 0);
    let mut watch = Client::on_core(srv.addr, "watch", 0);
    for c in [&mut slow, &mut fast, &mut watch] {
        c.send("JOIN #flood");
        c.expect(|l| code(l) == "366");
    }
    // From here on the slow client reads nothing.
    let base_rss = srv.rss_kib();
    let payload = "z".repeat(400);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sent = 0usize;
    let mut peak = base_rss;
    let dropped = loop {
        assert!(Instant::now() < deadline, "slow reader never dropped");
        for _ in 0..100 {
            fast.send(&format!("PRIVMSG #flood :{payload}"));
            sent += 1;
        }
        // `watch` reads everything, so it sees the slow client's QUIT.
        fast.sync();
        let mut quit = None;
        for l in watch.sync() {
            if l.starts_with(":slow!") && l.contains(" QUIT ") {
                quit = Some(l);
            }
        }
        peak = peak.max(srv.rss_kib());
        if let Some(q) = quit {
            break q;
        }
    };
    assert_eq!(dropped, ":slow!slow@127.0.0.1 QUIT :Max SendQ exceeded");
    // The slow client finds the ERROR after whatever was already sent.
    let rest = slow.read_to_end();
    let tail = String::from_utf8_lossy(&rest[rest.len().saturating_sub(200)..]).into_owned();
    assert!(
        tail.ends_with("ERROR :Closing Link: 127.0.0.1 (Max SendQ exceeded)\r\n"),
        "{tail:?}"
    );
    // Keep flooding, 23 MB more: were anything still queued for the
    // dropped client, RSS would grow by about that much.
    for _ in 0..100 {
        for _ in 0..500 {
            fast.send(&format!("PRIVMSG #flood :{payload}"));
        }
        fast.sync();
        assert_eq!(watch.sync().len(), 500);
        peak = peak.max(srv.rss_kib());
    }
    let total_kib = (sent + 50_000) * 460 / 1024;
    eprintln!("rss base {base_rss} KiB, peak {peak} KiB, traffic {total_kib} KiB");
    assert!(
        peak < base_rss + 8 * 1024,
        "server RSS grew from {base_rss} to {peak} KiB"
    );
}
