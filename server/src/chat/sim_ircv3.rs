//! IRCv3 on a simulated 2-core server: CAP 302 values, and what each
//! capability changes in what a client sees.

use super::msg::ClientRef;
use super::sim::Cluster;

/// `nick` on `core`, registered with `caps` enabled.
fn with_caps(cl: &mut Cluster, core: usize, nick: &str, caps: &str) -> ClientRef {
    let c = cl.connect_raw(core);
    cl.line(c, "CAP LS 302");
    cl.line(c, &format!("NICK {nick}"));
    cl.line(c, &format!("USER {nick} 0 * :Real {nick}"));
    cl.line(c, &format!("CAP REQ :{caps}"));
    cl.line(c, "CAP END");
    let out = cl.take(c);
    assert!(out.iter().any(|l| l.contains(" ACK ")), "{out:?}");
    assert!(out.iter().any(|l| l.contains(" 001 ")), "{out:?}");
    c
}

/// Drops the `@time=...` tag, checking it looks like server-time.
fn untimed(l: &str) -> String {
    match l.strip_prefix("@time=") {
        Some(rest) => {
            let (t, line) = rest.split_once(' ').unwrap();
            assert!(
                t.len() == 24 && t.ends_with('Z') && t.as_bytes()[10] == b'T',
                "{t}"
            );
            line.to_string()
        }
        None => l.to_string(),
    }
}

/// Drops the leading `msgid=...` tag of each line, checking there is one.
fn no_msgid(lines: Vec<String>) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let rest = l.strip_prefix("@msgid=").expect(l);
            let (id, rest) = rest.split_once([';', ' ']).unwrap();
            assert!(id.len() >= 17, "{id}");
            match l.as_bytes()[7 + id.len()] {
                b';' => format!("@{rest}"),
                _ => rest.to_string(),
            }
        })
        .collect()
}

#[test]
fn cap_ls_302_has_values_and_req_is_all_or_nothing() {
    let mut cl = Cluster::new(2);
    let c = cl.connect_raw(0);
    cl.line(c, "CAP LS");
    cl.line(c, "CAP LS 302");
    cl.line(c, "CAP REQ :multi-prefix bogus");
    cl.line(c, "CAP LIST");
    cl.line(c, "CAP REQ :multi-prefix -userhost-in-names");
    cl.line(c, "CAP LIST");
    let out = cl.take(c);
    assert!(
        out[0].ends_with(" setname batch labeled-response"),
        "{}",
        out[0]
    );
    assert!(out[1].contains(" setname=len=128 "), "{}", out[1]);
    assert_eq!(out[2], ":irc.test CAP * NAK :multi-prefix bogus");
    assert_eq!(
        out[3], ":irc.test CAP * LIST :cap-notify",
        "302 implies cap-notify"
    );
    assert_eq!(
        out[4],
        ":irc.test CAP * ACK :multi-prefix -userhost-in-names"
    );
    assert_eq!(out[5], ":irc.test CAP * LIST :multi-prefix cap-notify");
}

#[test]
fn userhost_in_names_and_extended_join() {
    let mut cl = Cluster::new(2);
    let a = with_caps(&mut cl, 0, "alice", "userhost-in-names extended-join");
    let b = cl.connect(1, "bob");
    cl.line(a, "JOIN #x");
    let out = cl.take(a);
    assert_eq!(out[0], ":alice!alice@127.0.0.1 JOIN #x * :Real alice");
    assert_eq!(out[1], ":irc.test 353 alice = #x :@alice!alice@127.0.0.1");
    cl.line(b, "JOIN #x");
    assert_eq!(
        cl.take(b)[0],
        ":bob!bob@127.0.0.1 JOIN #x",
        "bob has no caps"
    );
    assert_eq!(cl.take(a), [":bob!bob@127.0.0.1 JOIN #x * :Real bob"]);
}

#[test]
fn server_time_and_echo_message() {
    let mut cl = Cluster::new(2);
    let a = with_caps(&mut cl, 0, "alice", "server-time echo-message");
    let b = cl.connect(1, "bob");
    for c in [a, b] {
        cl.line(c, "JOIN #x");
    }
    cl.take(a);
    cl.take(b);
    cl.line(a, "PRIVMSG #x :hi");
    let mine = cl.take(a);
    assert_eq!(mine.len(), 1, "alice gets her own message back");
    assert!(mine[0].starts_with("@time="), "{}", mine[0]);
    assert_eq!(untimed(&mine[0]), ":alice!alice@127.0.0.1 PRIVMSG #x :hi");
    assert_eq!(
        cl.take(b),
        [":alice!alice@127.0.0.1 PRIVMSG #x :hi"],
        "no tags for bob"
    );
    cl.line(a, "PRIVMSG bob :psst");
    assert_eq!(
        untimed(&cl.take(a)[0]),
        ":alice!alice@127.0.0.1 PRIVMSG bob :psst"
    );
    assert_eq!(cl.take(b), [":alice!alice@127.0.0.1 PRIVMSG bob :psst"]);
    cl.line(b, "PART #x");
    assert_eq!(untimed(&cl.take(a)[0]), ":bob!bob@127.0.0.1 PART #x");
}

#[test]
fn message_tags_relay_client_tags_and_tagmsg() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    let b = with_caps(&mut cl, 1, "bob", "message-tags");
    let c = cl.connect(1, "carol");
    for who in [a, b, c] {
        cl.line(who, "JOIN #x");
    }
    for who in [a, b, c] {
        cl.take(who);
    }
    cl.line(a, "@+draft/reply=1;label=x;+typing=active TAGMSG #x");
    assert_eq!(
        no_msgid(cl.take(b)),
        ["@+draft/reply=1;+typing=active :alice!alice@127.0.0.1 TAGMSG #x"]
    );
    assert!(
        cl.take(c).is_empty(),
        "TAGMSG only for message-tags clients"
    );
    cl.line(a, "@+x=y PRIVMSG #x :tagged");
    assert_eq!(
        no_msgid(cl.take(b)),
        ["@+x=y :alice!alice@127.0.0.1 PRIVMSG #x :tagged"]
    );
    assert_eq!(cl.take(c), [":alice!alice@127.0.0.1 PRIVMSG #x :tagged"]);
}

#[test]
fn away_notify_setname_and_invite_notify() {
    let mut cl = Cluster::new(2);
    let a = with_caps(&mut cl, 0, "alice", "away-notify setname invite-notify");
    let b = cl.connect(1, "bob");
    let d = cl.connect(1, "dave");
    cl.line(a, "JOIN #x");
    cl.line(b, "JOIN #x");
    cl.take(a);
    cl.take(b);
    cl.line(b, "AWAY :lunch");
    assert_eq!(cl.take(a), [":bob!bob@127.0.0.1 AWAY :lunch"]);
    cl.line(b, "AWAY");
    assert_eq!(cl.take(a), [":bob!bob@127.0.0.1 AWAY"]);
    cl.line(b, "SETNAME :Robert");
    assert_eq!(cl.take(a), [":bob!bob@127.0.0.1 SETNAME :Robert"]);
    cl.line(a, "WHO #x");
    assert!(cl.take(a)[1].ends_with(":0 Robert"));
    cl.line(a, "SETNAME :Alice B");
    assert_eq!(cl.take(a), [":alice!alice@127.0.0.1 SETNAME :Alice B"]);
    cl.line(a, "MODE #x +i");
    cl.take(a);
    cl.take(b);
    cl.line(b, "INVITE dave #x");
    assert_eq!(
        cl.take(b),
        [":irc.test 482 bob #x :You're not channel operator"]
    );
    cl.line(a, "MODE #x +o bob");
    cl.take(a);
    cl.take(b);
    cl.line(b, "INVITE dave #x");
    assert_eq!(cl.take(b), [":irc.test 341 bob dave #x"]);
    assert_eq!(cl.take(d), [":bob!bob@127.0.0.1 INVITE dave :#x"]);
    assert_eq!(
        cl.take(a),
        [":bob!bob@127.0.0.1 INVITE dave :#x"],
        "ops with invite-notify"
    );
    cl.line(d, "JOIN #x");
    assert!(cl.take(d)[0].ends_with(" JOIN #x"));
    cl.take(b);
    cl.line(b, "INVITE nobody #x");
    cl.line(b, "INVITE dave #x");
    assert_eq!(
        cl.take(b),
        [
            ":irc.test 401 bob nobody :No such nick/channel",
            ":irc.test 443 bob dave #x :is already on channel"
        ]
    );
}

#[test]
fn labeled_response_tags_one_line_batches_several_acks_none() {
    let mut cl = Cluster::new(2);
    let a = with_caps(&mut cl, 0, "alice", "labeled-response batch");
    cl.line(a, "@label=p1 PING x");
    assert_eq!(cl.take(a), ["@label=p1 :irc.test PONG irc.test :x"]);
    cl.line(a, "@label=w1 WHOIS alice");
    let out = cl.take(a);
    let id = out[0]
        .strip_prefix("@label=w1 :irc.test BATCH +")
        .and_then(|r| r.strip_suffix(" labeled-response"))
        .expect("a labeled-response batch");
    assert!(out[1].starts_with(&format!("@batch={id} :irc.test 311 alice alice ")));
    assert_eq!(out.last().unwrap(), &format!(":irc.test BATCH -{id}"));
    cl.line(a, "@label=n1 PONG x");
    assert_eq!(cl.take(a), ["@label=n1 :irc.test ACK"]);
}
