//! Protocol tests over TCP against `uringo-server chat --cores 2`, with the
//! clients of one channel placed on different cores.

mod chat_support;

use chat_support::{code, codes, Client, Server};

#[test]
fn registration_burst_and_pre_registration_rules() {
    let srv = Server::start(&[]);
    let mut c = Client::connect(srv.addr);
    c.send("CAP LS 302");
    c.send("JOIN :");
    c.send("PING early");
    assert_eq!(
        c.next_line().unwrap(),
        ":irc.test CAP * LS :multi-prefix userhost-in-names cap-notify message-tags \
         server-time echo-message away-notify extended-join invite-notify chghost \
         setname=len=128 batch labeled-response"
    );
    assert_eq!(
        c.next_line().unwrap(),
        ":irc.test 451 * :You have not registered"
    );
    assert_eq!(c.next_line().unwrap(), ":irc.test PONG irc.test :early");
    c.send("NICK first");
    c.send("USER u 0 * :Real");
    c.send("CAP END");
    let lines = c.expect(|l| code(l) == "422");
    assert_eq!(
        codes(&lines),
        [
            "001", "002", "003", "004", "005", "251", "252", "253", "254", "255", "265", "266",
            "422"
        ]
    );
    assert!(lines[4].contains("CASEMAPPING=rfc1459") && lines[4].contains("PREFIX=(ov)@+"));
    c.send("USER again 0 * :x");
    c.send("FROB");
    let lines = c.sync();
    assert_eq!(codes(&lines), ["462", "421"]);
}

#[test]
fn channel_traffic_across_cores() {
    let srv = Server::start(&[]);
    let mut a = Client::on_core(srv.addr, "alice", 0);
    let mut b = Client::on_core(srv.addr, "bob", 1);
    let mut c = Client::on_core(srv.addr, "carol", 1);
    a.send("JOIN #room");
    let lines = a.expect(|l| code(l) == "366");
    assert_eq!(lines[0], ":alice!alice@127.0.0.1 JOIN #room");
    assert_eq!(lines[1], ":irc.test 353 alice = #room :@alice");
    a.send("TOPIC #room :hello topic");
    a.expect(|l| l.contains(" TOPIC #room"));
    b.send("JOIN #ROOM");
    let lines = b.expect(|l| code(l) == "366");
    assert_eq!(codes(&lines), ["JOIN", "332", "333", "353", "366"]);
    assert_eq!(lines[3], ":irc.test 353 bob = #room :@alice bob");
    c.send("JOIN #room");
    c.expect(|l| code(l) == "366");
    a.expect(|l| l.starts_with(":carol!") && l.contains("JOIN"));
    b.expect(|l| l.starts_with(":carol!") && l.contains("JOIN"));

    for i in 0..50 {
        a.send(&format!("PRIVMSG #room :msg {i}"));
    }
    for who in [&mut b, &mut c] {
        for i in 0..50 {
            let l = who.next_line().unwrap();
            assert_eq!(l, format!(":alice!alice@127.0.0.1 PRIVMSG #room :msg {i}"));
        }
    }
    assert!(a.sync().is_empty(), "sender does not get its own message");

    b.send("NOTICE #room :note");
    a.expect(|l| l.ends_with("NOTICE #room :note"));
    c.expect(|l| l.ends_with("NOTICE #room :note"));

    b.send("NICK bobby");
    for who in [&mut a, &mut b, &mut c] {
        assert_eq!(who.next_line().unwrap(), ":bob!bob@127.0.0.1 NICK :bobby");
    }
    a.send("NAMES #room");
    let lines = a.expect(|l| code(l) == "366");
    assert_eq!(lines[0], ":irc.test 353 alice = #room :@alice bobby carol");

    a.send("KICK #room carol :out");
    for who in [&mut a, &mut b, &mut c] {
        assert_eq!(
            who.next_line().unwrap(),
            ":alice!alice@127.0.0.1 KICK #room carol :out"
        );
    }
    c.send("PRIVMSG #room :let me in");
    assert_eq!(codes(&c.sync()), ["404"]);

    b.send("PART #room :later");
    assert_eq!(
        a.next_line().unwrap(),
        ":bobby!bob@127.0.0.1 PART #room :later"
    );
    assert_eq!(
        b.next_line().unwrap(),
        ":bobby!bob@127.0.0.1 PART #room :later"
    );

    b.send("JOIN #room");
    b.expect(|l| code(l) == "366");
    a.expect(|l| l.contains("JOIN"));
    b.send("QUIT :bye all");
    assert_eq!(
        b.next_line().unwrap(),
        "ERROR :Closing Link: 127.0.0.1 (Quit: bye all)"
    );
    assert_eq!(b.next_line(), None, "closed after ERROR");
    assert_eq!(
        a.next_line().unwrap(),
        ":bobby!bob@127.0.0.1 QUIT :Quit: bye all"
    );
}

#[test]
fn queries_and_errors() {
    let srv = Server::start(&[]);
    let mut a = Client::on_core(srv.addr, "alice", 0);
    let mut b = Client::on_core(srv.addr, "bob", 1);
    a.send("JOIN #q");
    a.expect(|l| code(l) == "366");
    b.send("JOIN #q");
    b.expect(|l| code(l) == "366");
    // Bob's JOIN reaches alice's core from the channel's owner, which a PING
    // to alice's own core does not wait for: wait for the line itself.
    a.expect(|l| l == ":bob!bob@127.0.0.1 JOIN #q");

    b.send("PRIVMSG alice :direct");
    assert_eq!(
        a.next_line().unwrap(),
        ":bob!bob@127.0.0.1 PRIVMSG alice :direct"
    );
    a.send("AWAY :out");
    assert_eq!(codes(&a.sync()), ["306"]);
    b.send("PRIVMSG alice :hello?");
    b.send("WHOIS alice");
    let lines = b.expect(|l| code(l) == "318");
    assert_eq!(
        codes(&lines),
        ["301", "311", "319", "312", "301", "317", "318"]
    );
    assert_eq!(lines[2], ":irc.test 319 bob alice :@#q");
    a.send("AWAY");
    a.expect(|l| code(l) == "305");
    b.send("USERHOST alice bob");
    let l = b.expect(|l| code(l) == "302");
    assert!(l[0].contains("alice=+alice@127.0.0.1") && l[0].contains("bob=+bob@127.0.0.1"));

    b.send("WHO #q");
    let lines = b.expect(|l| code(l) == "315");
    assert_eq!(
        lines[0],
        ":irc.test 352 bob #q alice 127.0.0.1 irc.test alice H@ :0 Real alice"
    );
    a.send("MODE alice +i");
    assert_eq!(
        a.next_line().unwrap(),
        ":alice!alice@127.0.0.1 MODE alice :+i"
    );
    a.send("LIST");
    let lines = a.expect(|l| code(l) == "323");
    assert_eq!(codes(&lines), ["321", "322", "323"]);
    assert_eq!(lines[1], ":irc.test 322 alice #q 2 :");
    b.send("WHO *");
    let lines = b.expect(|l| code(l) == "315");
    assert_eq!(
        codes(&lines),
        ["352", "315"],
        "invisible alice hidden from a mask"
    );
    b.send("WHO alice");
    let lines = b.expect(|l| code(l) == "315");
    assert_eq!(codes(&lines), ["352", "315"], "but not from her exact nick");

    a.send("MODE #q");
    assert_eq!(codes(&a.expect(|l| code(l) == "329")), ["324", "329"]);
    a.send("MODE #q b");
    assert_eq!(codes(&a.sync()), ["368"]);
    b.send("MODE #q +t");
    b.send("TOPIC #q :not op");
    b.send("KICK #q alice");
    assert_eq!(codes(&b.sync()), ["482", "482", "482"]);
    a.send("MODE #q +v bob");
    a.expect(|l| l.ends_with("MODE #q +v bob"));
    b.expect(|l| l.ends_with("MODE #q +v bob"));
    b.send("TOPIC #q");
    assert_eq!(codes(&b.sync()), ["331"]);

    for (line, want) in [
        ("PRIVMSG", "411"),
        ("PRIVMSG nobody", "412"),
        ("PRIVMSG nobody :x", "401"),
        ("PRIVMSG #nowhere :x", "403"),
        ("PART #nowhere", "403"),
        ("PART", "461"),
        ("NICK", "431"),
        ("NICK 9lives", "432"),
        ("NICK BOB", "433"),
        ("KICK #q nobody", "441"),
        ("LUSERS", "251"),
        ("PING", "409"),
        ("CAP BOGUS", "410"),
    ] {
        a.send(line);
        let got = a.sync();
        assert_eq!(got.first().map(|l| code(l)), Some(want), "{line}: {got:?}");
    }
    let mut c = Client::register(srv.addr, "carol");
    c.send("PART #q");
    c.send("NOTICE nobody :x");
    c.send("NOTICE #nowhere :x");
    assert_eq!(codes(&c.sync()), ["442"], "NOTICE errors are silent");
    c.send("NICK carol");
    assert!(c.sync().is_empty(), "own nick again does nothing");
    c.send("NICK CAROL");
    assert_eq!(c.sync(), [":carol!carol@127.0.0.1 NICK :CAROL"]);
}

#[test]
fn password_required() {
    let srv = Server::start(&["--password", "sesame"]);
    let mut c = Client::connect(srv.addr);
    c.send("PASS wrong");
    c.send("NICK x");
    c.send("USER x 0 * :x");
    assert_eq!(code(&c.next_line().unwrap()), "464");
    assert!(c.next_line().unwrap().starts_with("ERROR"));
    let mut c = Client::connect(srv.addr);
    c.send("PASS sesame");
    c.send("NICK x");
    c.send("USER x 0 * :x");
    c.expect(|l| code(l) == "001");
}

#[test]
fn motd_file_is_sent() {
    let dir = std::env::temp_dir().join(format!("uringo-motd-{}", std::process::id()));
    std::fs::write(&dir, "line one\nline two\n").unwrap();
    let srv = Server::start(&["--motd", dir.to_str().unwrap()]);
    let mut c = Client::connect(srv.addr);
    c.send("NICK m");
    c.send("USER m 0 * :m");
    let lines = c.expect(|l| code(l) == "376");
    let n = lines.len();
    assert_eq!(codes(&lines[n - 4..]), ["375", "372", "372", "376"]);
    assert_eq!(lines[n - 2], ":irc.test 372 m :- line two");
    let _ = std::fs::remove_file(dir);
}

#[test]
fn idle_client_is_pinged_then_dropped() {
    let srv = Server::start(&["--ping-interval", "1"]);
    let mut a = Client::register(srv.addr, "idler");
    assert_eq!(a.next_line().unwrap(), "PING :irc.test");
    a.send("PONG :irc.test");
    assert_eq!(a.next_line().unwrap(), "PING :irc.test");
    let l = a.next_line().unwrap();
    assert!(
        l.starts_with("ERROR :Closing Link: 127.0.0.1 (Ping timeout"),
        "{l}"
    );
    assert_eq!(a.next_line(), None);
}

#[test]
fn irssi_connect_sequence_gets_replies() {
    let srv = Server::start(&[]);
    let mut c = Client::connect(srv.addr);
    for l in [
        "CAP LS 302",
        "JOIN :",
        "NICK irssi",
        "USER irssi irssi 127.0.0.1 :Irssi",
        "CAP REQ :multi-prefix",
        "CAP END",
    ] {
        c.send(l);
    }
    let lines = c.expect(|l| code(l) == "422");
    assert_eq!(codes(&lines[..3]), ["CAP", "451", "CAP"]);
    assert_eq!(lines[2], ":irc.test CAP irssi ACK :multi-prefix");
    c.send("MODE irssi +i");
    c.send("JOIN #irssi");
    c.send("MODE #irssi");
    c.send("WHO #irssi");
    c.send("MODE #irssi b");
    let lines = c.sync();
    assert_eq!(
        codes(&lines),
        ["MODE", "JOIN", "353", "366", "324", "329", "352", "315", "368"],
        "{lines:?}"
    );
}

#[test]
fn concurrent_senders_one_order_for_every_member() {
    let srv = Server::start(&["--flood-rate", "0"]);
    let mut s0 = Client::on_core(srv.addr, "s0", 0);
    let mut s1 = Client::on_core(srv.addr, "s1", 1);
    let mut r0 = Client::on_core(srv.addr, "r0", 0);
    let mut r1 = Client::on_core(srv.addr, "r1", 1);
    for c in [&mut s0, &mut s1, &mut r0, &mut r1] {
        c.send("JOIN #order");
        c.expect(|l| code(l) == "366");
    }
    r0.sync();
    r1.sync();
    // Both senders write their whole burst before either reads anything.
    let burst = |nick: &str| -> String {
        (0..300)
            .map(|i| format!("PRIVMSG #order :{nick}-{i}\r\n"))
            .collect()
    };
    let (b0, b1) = (burst("s0"), burst("s1"));
    s0.send_raw(b0.as_bytes());
    s1.send_raw(b1.as_bytes());
    let read = |c: &mut Client| -> Vec<String> {
        (0..600)
            .map(|_| {
                c.next_line()
                    .unwrap()
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let (seen0, seen1) = (read(&mut r0), read(&mut r1));
    assert_eq!(
        seen0, seen1,
        "members on different cores saw different orders"
    );
    for nick in ["s0", "s1"] {
        let mine: Vec<&String> = seen0.iter().filter(|m| m.starts_with(nick)).collect();
        let want: Vec<String> = (0..300).map(|i| format!("{nick}-{i}")).collect();
        assert!(mine.iter().zip(&want).all(|(a, b)| *a == b) && mine.len() == 300);
    }
}

#[test]
fn command_flood_is_throttled_not_dropped() {
    let srv = Server::start(&["--flood-burst", "5", "--flood-rate", "20"]);
    let mut c = Client::register(srv.addr, "flooder");
    let started = std::time::Instant::now();
    let pings: String = (0..45).map(|i| format!("PING f{i}\r\n")).collect();
    c.send_raw(pings.as_bytes());
    for i in 0..45 {
        assert_eq!(
            c.next_line().unwrap(),
            format!(":irc.test PONG irc.test :f{i}")
        );
    }
    let took = started.elapsed();
    // 5 at once, then 40 at 20 per second: about 2 s.
    assert!(took >= std::time::Duration::from_millis(1800), "{took:?}");
}

#[test]
fn sigterm_says_goodbye_to_every_client_and_exits_0() {
    let mut srv = Server::start(&[]);
    let mut a = Client::on_core(srv.addr, "a", 0);
    let mut b = Client::on_core(srv.addr, "b", 1);
    srv.signal_term();
    for c in [&mut a, &mut b] {
        let l = c.expect(|l| l.starts_with("ERROR"));
        assert_eq!(
            l.last().unwrap(),
            "ERROR :Closing Link: 127.0.0.1 (Server shutting down)"
        );
    }
    assert_eq!(srv.wait_exit(), Some(0));
}
