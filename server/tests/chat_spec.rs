//! Spec conformance over TCP for the departures issue 11 lists: line
//! injection, USER, NAMES, WHO, MODE +k/+o/+b. The simulator tests
//! (src/chat/sim_tests.rs) cover the same rules in more cases; these check
//! the real server and its framing.

mod chat_support;

use chat_support::{code, codes, Client, Server};

#[test]
fn lone_cr_and_nul_cannot_forge_a_line() {
    let srv = Server::start(&[]);
    let mut a = Client::on_core(srv.addr, "mallory", 0);
    let mut b = Client::on_core(srv.addr, "victim", 1);
    for c in [&mut a, &mut b] {
        c.send("JOIN #x");
        c.expect(|l| code(l) == "366");
    }
    a.sync();
    b.sync();
    a.send_raw(b"PRIVMSG #x :hi\r:server NOTICE victim :forged\0!\r\n");
    a.send_raw(b"PRIVMSG victim :\0\r\n");
    a.send_raw(b"FROB\rQUIT\r\n");
    let got = b.expect(|l| l.contains("NOTICE"));
    assert_eq!(
        got,
        [
            ":mallory!mallory@127.0.0.1 PRIVMSG #x :hi",
            ":mallory!mallory@127.0.0.1 NOTICE victim :forged!",
        ],
        "each piece comes from mallory, as its own line"
    );
    let rest = a.read_to_end();
    let text = String::from_utf8_lossy(&rest);
    assert!(text.contains(" 412 mallory :No text to send\r\n"), "{text}");
    assert!(
        text.contains(" 421 mallory FROB :Unknown command\r\n"),
        "{text}"
    );
    assert!(text.ends_with("(Client Quit)\r\n"), "{text}");
}

#[test]
fn echoed_words_are_truncated_and_lines_stay_within_512() {
    let srv = Server::start(&[]);
    let mut a = Client::register(srv.addr, "echo");
    let verb = "V".repeat(400);
    a.send(&verb);
    a.send(&format!("WHOIS {}", "n".repeat(450)));
    a.send(&format!("PRIVMSG #{} :x", "c".repeat(450)));
    let got = a.sync();
    assert_eq!(codes(&got), ["421", "401", "318", "403"], "{got:?}");
    assert_eq!(
        got[0],
        format!(":irc.test 421 echo {} :Unknown command", "V".repeat(64))
    );
    for l in &got {
        assert!(l.len() + 2 <= 512, "{} bytes: {l}", l.len());
    }
}

#[test]
fn departures_from_the_specs_are_fixed() {
    let srv = Server::start(&[]);
    let mut c = Client::connect(srv.addr);
    c.send("NICK real");
    c.send("USER u 0 * :");
    assert_eq!(
        c.next_line().unwrap(),
        ":irc.test 461 real USER :Not enough parameters"
    );
    c.send("USER u 0 * :Real");
    c.expect(|l| code(l) == "422");
    let mut a = Client::on_core(srv.addr, "alice", 0);
    let mut b = Client::on_core(srv.addr, "bob", 1);
    a.send("JOIN #a");
    a.expect(|l| code(l) == "366");
    b.send("JOIN #a,#b");
    b.expect(|l| l.contains(" 366 bob #b "));
    a.expect(|l| l.starts_with(":bob!") && l.contains(" JOIN #a"));
    b.send("MODE bob +i");
    b.sync();
    a.send("NAMES #a,#b,#nonexistent");
    assert_eq!(
        a.sync(),
        [
            ":irc.test 353 alice = #a :@alice bob",
            ":irc.test 366 alice #a :End of /NAMES list",
            ":irc.test 353 alice = #b :@bob",
            ":irc.test 366 alice #b :End of /NAMES list",
            ":irc.test 366 alice #nonexistent :End of /NAMES list",
        ]
    );
    a.send("WHO #a");
    assert_eq!(codes(&a.sync()), ["352", "352", "315"], "+i bob shares #a");
    a.send("MODE #a +k :");
    a.send("MODE #a +k :has space");
    a.send("MODE #a +o nobody");
    assert_eq!(codes(&a.sync()), ["525", "525", "401"]);
    a.send("MODE #a +b *!*@127.0.0.1");
    a.expect(|l| l.ends_with("MODE #a +b *!*@127.0.0.1"));
    c.send("JOIN #a");
    assert_eq!(
        c.sync(),
        [":irc.test 474 real #a :Cannot join channel (+b)"]
    );
}
