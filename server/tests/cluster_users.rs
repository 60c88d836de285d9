//! Three `uringo-server chat --cluster` nodes on one real `redis-server`,
//! seen from the users: every member of a channel, on every node, sees its
//! JOIN/PART lines and messages in one order; echo-message and IRCv3 tags
//! cross nodes; WHOIS, ISON, USERHOST and MONITOR answer for users held on
//! another node; a nick lost in a Redis split is renamed to a guest nick.
//! redis-server missing: the test is skipped, except under `CI`, where it
//! fails.

mod chat_support;
mod cluster_support;
#[path = "../src/cluster/tests/redis.rs"]
mod redis;

use std::net::SocketAddr;

use chat_support::{code, Client};
use cluster_support::{join, serial, signal, three_nodes, Expiries};

/// Registers `nick` with the IRCv3 capabilities `caps` enabled.
fn with_caps(addr: SocketAddr, nick: &str, caps: &str) -> Client {
    let mut c = Client::connect(addr);
    c.send("CAP LS 302");
    c.send(&format!("NICK {nick}"));
    c.send(&format!("USER {nick} 0 * :Real {nick}"));
    c.send(&format!("CAP REQ :{caps}"));
    c.send("CAP END");
    c.expect(|l| code(l) == "376" || code(l) == "422");
    c.nick = nick.into();
    c
}

/// `line` without its tag section.
fn untagged(line: &str) -> &str {
    match line.strip_prefix('@') {
        Some(rest) => rest.split_once(' ').map_or("", |(_, l)| l),
        None => line,
    }
}

/// The value of tag `key` on `line`.
fn tag<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let tags = line.strip_prefix('@')?.split(' ').next()?;
    tags.split(';').find_map(|t| match t.split_once('=') {
        Some((k, v)) if k == key => Some(v),
        None if t == key => Some(""),
        _ => None,
    })
}

/// The first `n` #ord lines `c` receives of the movers' JOIN and PART and
/// the talkers' PRIVMSG (a setup JOIN may reach Redis after `start`).
fn channel_events(c: &mut Client, n: usize) -> Vec<String> {
    let mut events = Vec::new();
    while events.len() < n {
        let line = c.next_line().expect("line");
        let l = untagged(&line);
        let cmd = l.split(' ').nth(1).unwrap_or("");
        let mover = l.starts_with(":move") && matches!(cmd, "JOIN" | "PART");
        if (mover || cmd == "PRIVMSG") && l.contains(" #ord") {
            events.push(l.to_string());
        }
    }
    events
}

#[test]
fn every_node_shows_joins_parts_and_messages_in_one_order() {
    let _serial = serial();
    let Some((_redis, nodes)) = three_nodes() else {
        return;
    };
    let mut watchers: Vec<Client> = (0..3)
        .map(|i| Client::register(nodes[i].addr, &format!("watch{i}")))
        .collect();
    let mut talkers: Vec<Client> = (0..3)
        .map(|i| Client::register(nodes[i].addr, &format!("talk{i}")))
        .collect();
    let mut movers: Vec<Client> = (0..3)
        .map(|i| Client::register(nodes[i].addr, &format!("move{i}")))
        .collect();
    for c in watchers.iter_mut().chain(talkers.iter_mut()) {
        join(c, "#ord");
    }
    // From here on every watcher is in: compare what comes after `start`.
    talkers[0].send("PRIVMSG #ord :start");
    for w in &mut watchers {
        w.expect(|l| l.ends_with(" PRIVMSG #ord :start"));
    }
    let mut mover_log: Vec<Vec<String>> = vec![Vec::new(); 3];
    // Each round: every talker sends a burst, and while those are in
    // flight the movers on the other nodes join or part.
    for round in 0..8 {
        for (i, t) in talkers.iter_mut().enumerate() {
            for k in 0..3 {
                t.send(&format!("PRIVMSG #ord :t{i} r{round} m{k}"));
            }
            // Each mover waits for its JOIN or PART to be done: one sent
            // right behind the other may be decided before it in Redis.
            let k = (i + 1) % 3;
            let m = &mut movers[k];
            let own = format!(":{}!", m.nick);
            let done = match round % 2 {
                0 => "366",
                _ => "PART",
            };
            m.send(if done == "366" {
                "JOIN #ord"
            } else {
                "PART #ord"
            });
            let lines = m.expect(|l| code(l) == done && (done == "366" || l.starts_with(&own)));
            mover_log[k].extend(lines);
        }
    }
    // 4 rounds of 3 JOINs, as many PARTs, 8 rounds of 9 messages.
    let n = 12 + 12 + 8 * 9;
    let seen: Vec<Vec<String>> = watchers.iter_mut().map(|w| channel_events(w, n)).collect();
    let joins = seen[0].iter().filter(|l| l.contains(" JOIN ")).count();
    assert_eq!(joins, 12, "every mover's JOINs: {:?}", seen[0]);
    for w in &mut watchers {
        let late = w.sync();
        assert!(
            !late.iter().any(|l| l.contains(" #ord")),
            "more than sent: {late:?}"
        );
    }
    // A mover gets only the messages the watchers saw between one of its
    // JOINs and the PART after it: none from before its JOIN reached the
    // others (its own JOIN and PART, immediate, show where it did them).
    for (k, m) in movers.iter_mut().enumerate() {
        let (join, part) = (
            format!(":move{k}!move{k}@127.0.0.1 JOIN #ord"),
            format!(":move{k}!move{k}@127.0.0.1 PART #ord"),
        );
        let mut inside = std::collections::HashSet::new();
        let mut member = false;
        for l in &seen[0] {
            member = (member || *l == join) && *l != part;
            if member && l.contains(" PRIVMSG ") {
                inside.insert(l.clone());
            }
        }
        let mut log = std::mem::take(&mut mover_log[k]).into_iter();
        let mut parts = 0;
        while parts < 4 {
            let line = log.next().unwrap_or_else(|| m.next_line().expect("line"));
            let l = untagged(&line);
            parts += usize::from(l == part);
            if l.contains(" PRIVMSG #ord ") {
                assert!(
                    inside.contains(l),
                    "move{k} got {l:?} while not in #ord for the others"
                );
            }
        }
    }
    for (i, s) in seen.iter().enumerate().skip(1) {
        assert_eq!(
            &seen[0], s,
            "watch0 and watch{i} saw #ord in different orders"
        );
    }
}

#[test]
fn echo_and_tags_cross_nodes() {
    let _serial = serial();
    let Some((_redis, nodes)) = three_nodes() else {
        return;
    };
    let all = "echo-message message-tags server-time labeled-response batch";
    let mut a = with_caps(nodes[0].addr, "alice", all);
    let mut b = with_caps(nodes[1].addr, "bob", "message-tags server-time");
    let mut c = Client::register(nodes[2].addr, "carol");
    for cl in [&mut a, &mut b, &mut c] {
        join(cl, "#t");
    }
    // alice's JOIN came before bob's and carol's: skip what she sees of them.
    a.expect(|l| l.contains(":carol!") && l.contains(" JOIN "));

    a.send("@+x=y PRIVMSG #t :hi");
    let echo = a.expect(|l| l.ends_with(" PRIVMSG #t :hi")).pop().unwrap();
    let got = b.expect(|l| l.ends_with(" PRIVMSG #t :hi")).pop().unwrap();
    let plain = c.expect(|l| l.ends_with(" PRIVMSG #t :hi")).pop().unwrap();
    assert_eq!(plain, ":alice!alice@127.0.0.1 PRIVMSG #t :hi");
    assert!(
        tag(&echo, "msgid").is_some_and(|id| id.len() >= 17),
        "{echo}"
    );
    for key in ["msgid", "time", "+x"] {
        assert_eq!(tag(&echo, key), tag(&got, key), "{key}: {echo} / {got}");
    }
    assert_eq!(tag(&got, "+x"), Some("y"));

    // A labeled message's echo comes inside its label.
    a.send("@label=L1 PRIVMSG #t :labeled");
    let echo = a
        .expect(|l| l.ends_with(" PRIVMSG #t :labeled"))
        .pop()
        .unwrap();
    assert_eq!(tag(&echo, "label"), Some("L1"), "{echo}");
    let got = b
        .expect(|l| l.ends_with(" PRIVMSG #t :labeled"))
        .pop()
        .unwrap();
    assert_eq!(tag(&echo, "msgid"), tag(&got, "msgid"));

    // TAGMSG reaches only the message-tags client on the other node.
    a.send("@+typing=active TAGMSG #t");
    let got = b.expect(|l| l.ends_with(" TAGMSG #t")).pop().unwrap();
    assert_eq!(tag(&got, "+typing"), Some("active"));
    a.send("PRIVMSG #t :after");
    let lines = c.expect(|l| l.ends_with(" PRIVMSG #t :after"));
    assert!(!lines.iter().any(|l| l.contains("TAGMSG")), "{lines:?}");

    // A direct message to another node carries its tags too.
    a.send("@+z=1 PRIVMSG bob :direct");
    let echo = a
        .expect(|l| l.ends_with(" PRIVMSG bob :direct"))
        .pop()
        .unwrap();
    let got = b
        .expect(|l| l.ends_with(" PRIVMSG bob :direct"))
        .pop()
        .unwrap();
    assert_eq!(tag(&got, "+z"), Some("1"), "{got}");
    assert_eq!(tag(&echo, "msgid"), tag(&got, "msgid"));
    assert_eq!(tag(&echo, "time"), tag(&got, "time"));
}

#[test]
fn whois_ison_userhost_monitor_and_whowas_see_other_nodes() {
    let _serial = serial();
    let Some((_redis, nodes)) = three_nodes() else {
        return;
    };
    let mut a = Client::register(nodes[0].addr, "alice");
    a.send("AWAY :out to lunch");
    a.expect(|l| code(l) == "306");
    let mut b = Client::register(nodes[1].addr, "bob");

    // alice's profile reaches Redis a moment after her AWAY's 306, and
    // nothing tells bob when: ask until the answer has it.
    let mut lines = Vec::new();
    for _ in 0..200 {
        b.send("WHOIS alice");
        lines = b.expect(|l| code(l) == "318");
        if lines.iter().any(|l| code(l) == "301") {
            break;
        }
    }
    let find = |c: &str| lines.iter().find(|l| code(l) == c).cloned();
    let user = find("311").expect("311");
    assert!(
        user.ends_with(" 311 bob alice alice 127.0.0.1 * :Real alice"),
        "{user}"
    );
    assert!(
        find("312").expect("312").contains(" 312 bob alice n1 :"),
        "{lines:?}"
    );
    assert!(
        find("301").expect("301").ends_with(" :out to lunch"),
        "{lines:?}"
    );
    b.send("WHOIS nobody");
    b.expect(|l| code(l) == "401");

    b.send("ISON nobody alice bob");
    let ison = b.expect(|l| code(l) == "303").pop().unwrap();
    assert!(ison.ends_with(" 303 bob :alice bob"), "{ison}");
    b.send("USERHOST alice");
    let uh = b.expect(|l| code(l) == "302").pop().unwrap();
    assert!(uh.ends_with(" 302 bob :alice=-alice@127.0.0.1"), "{uh}");

    // MONITOR: the state now, then carol coming and going on a third node.
    b.send("MONITOR + alice,carol");
    let mut online = false;
    let mut offline = false;
    while !(online && offline) {
        let l = b.next_line().expect("line");
        online |= code(&l) == "730" && l.ends_with(":alice");
        offline |= code(&l) == "731" && l.ends_with(":carol");
    }
    let mut c = Client::register(nodes[2].addr, "carol");
    b.expect(|l| code(l) == "730" && l.ends_with(":carol"));
    c.send("QUIT :bye");
    b.expect(|l| code(l) == "731" && l.ends_with(":carol"));

    // WHOWAS remembers carol network-wide.
    a.send("WHOWAS carol");
    let lines = a.expect(|l| code(l) == "369");
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(" 314 alice carol carol 127.0.0.1 * :Real carol")),
        "{lines:?}"
    );
}

/// Sends `signal` (`STOP`, `CONT`) to the node's process.
/// A node frozen past its lease (as if cut off from Redis) loses its
/// user's nick to another node; when it comes back, that user is renamed
/// to a guest nick, which it and its channels see.
#[test]
fn a_nick_lost_in_a_split_becomes_a_guest() {
    let _serial = serial();
    let Some((redis, nodes)) = three_nodes() else {
        return;
    };
    let mut a = Client::register(nodes[0].addr, "alice");
    let mut c = Client::register(nodes[2].addr, "carol");
    join(&mut a, "#s");
    join(&mut c, "#s");
    a.expect(|l| l.starts_with(":carol!") && code(l) == "JOIN");

    let mut expiries = Expiries::watch(&redis);
    signal(&nodes[0], "STOP");
    expiries.wait_nick("alice", std::time::Duration::from_secs(10));
    let mut thief = Client::connect(nodes[1].addr);
    thief.send("USER t 0 * :t");
    thief.send("NICK alice");
    let lines = thief.expect(|l| code(l) == "433" || code(l) == "001");
    assert_eq!(code(lines.last().unwrap()), "001", "{lines:?}");
    signal(&nodes[0], "CONT");

    let lines = a.expect(|l| l.starts_with(":alice!") && code(l) == "NICK");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("NOTICE") && l.contains("split")),
        "{lines:?}"
    );
    let guest = lines
        .last()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    assert!(guest.starts_with("Guest") && guest.len() == 13, "{guest}");
    // The guest is known network-wide under its new nick.
    let mut found = false;
    for _ in 0..200 {
        c.send(&format!("WHOIS {guest}"));
        let lines = c.expect(|l| code(l) == "318");
        found = lines
            .iter()
            .any(|l| code(l) == "312" && l.contains(" n1 :"));
        if found {
            break;
        }
    }
    assert!(found, "{guest} not found from carol's node");
}

/// A user in several channels (owned by different cores) renames and
/// quits: every member sharing them, on its node and on others, sees each
/// line once.
#[test]
fn nick_and_quit_reach_each_member_once_across_channels() {
    let _serial = serial();
    let Some((_redis, nodes)) = three_nodes() else {
        return;
    };
    let chans = ["#a", "#b", "#c", "#d", "#e", "#f"];
    let mut bob = Client::register(nodes[1].addr, "bob");
    let mut watchers = [
        Client::register(nodes[0].addr, "alice"),
        Client::register(nodes[1].addr, "dave"),
    ];
    let mut carol = Client::register(nodes[2].addr, "carol");
    for c in watchers.iter_mut().chain([&mut bob, &mut carol]) {
        for chan in chans {
            join(c, chan);
        }
    }
    for w in &mut watchers {
        w.expect(|l| l.starts_with(":carol!") && l.ends_with(" JOIN #f"));
    }
    // The QUIT right behind the NICK (tests/cluster_seq.rs).
    bob.send("NICK robert");
    bob.send("QUIT :bye");
    let mut seen: Vec<Vec<String>> = watchers
        .iter_mut()
        .map(|w| w.expect(|l| l.starts_with(":bob!") && code(l) == "NICK"))
        .collect();
    for (w, lines) in watchers.iter_mut().zip(&mut seen) {
        lines.extend(w.expect(|l| l.starts_with(":robert!") && code(l) == "QUIT"));
    }
    // Each channel's copies come before carol's mark in that channel.
    for chan in chans {
        carol.send(&format!("PRIVMSG {chan} :mark"));
    }
    for (w, lines) in watchers.iter_mut().zip(&mut seen) {
        let mut marks = 0;
        while marks < chans.len() {
            let l = w.next_line().expect("line");
            marks += usize::from(l.ends_with(" :mark"));
            lines.push(l);
        }
        let count = |cmd: &str| lines.iter().filter(|l| code(l) == cmd).count();
        assert_eq!(
            (count("NICK"), count("QUIT")),
            (1, 1),
            "{}: {lines:?}",
            w.nick
        );
    }
}
