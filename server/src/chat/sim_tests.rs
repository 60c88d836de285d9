//! Protocol behaviour on a simulated 2-core server: members of one channel
//! on different cores, random message interleavings.

use std::time::{Duration, Instant};

use super::config::Config;
use super::framing::Frame;
use super::msg::ClientRef;
use super::sim::Cluster;

fn has(out: &[String], needle: &str) -> bool {
    out.iter().any(|l| l.contains(needle))
}

fn codes(out: &[String]) -> Vec<String> {
    out.iter()
        .filter_map(|l| l.split(' ').nth(1).map(str::to_string))
        .collect()
}

/// Two clients on different cores, both in #room.
fn pair() -> (Cluster, ClientRef, ClientRef) {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    let b = cl.connect(1, "bob");
    cl.line(a, "JOIN #room");
    cl.line(b, "JOIN #room");
    cl.take(a);
    cl.take(b);
    (cl, a, b)
}

#[test]
fn registration_burst_in_order() {
    let mut cl = Cluster::new(2);
    let c = cl.connect_raw(1);
    cl.line(c, "NICK nick");
    cl.line(c, "USER u 0 * :Real Name");
    let out = cl.take(c);
    let want = [
        "001", "002", "003", "004", "005", "251", "252", "253", "254", "255", "265", "266", "422",
    ];
    assert_eq!(codes(&out), want, "{out:?}");
    assert_eq!(
        out[0],
        ":irc.test 001 nick :Welcome to the uringo IRC Network nick!u@127.0.0.1"
    );
    for t in [
        "CHANTYPES=#",
        "NICKLEN=30",
        "CHANNELLEN=50",
        "CASEMAPPING=rfc1459",
        "PREFIX=(ov)@+",
    ] {
        assert!(out[4].contains(t), "{t} missing in {}", out[4]);
    }
}

#[test]
fn motd_lines_when_configured() {
    let mut cfg = Config::new("irc.test", 2);
    cfg.motd = Some(vec!["hello".into(), "world".into()]);
    let mut cl = Cluster::with_config(cfg);
    let c = cl.connect_raw(0);
    cl.line(c, "USER u 0 * :r");
    cl.line(c, "NICK n");
    let out = cl.take(c);
    let tail: Vec<_> = codes(&out).into_iter().rev().take(4).collect();
    assert_eq!(tail, ["376", "372", "372", "375"]);
    assert!(has(&out, ":irc.test 372 n :- world"));
}

#[test]
fn commands_before_registration_get_451_and_ping_works() {
    let mut cl = Cluster::new(2);
    let c = cl.connect_raw(0);
    cl.line(c, "CAP LS 302");
    cl.line(c, "JOIN :");
    cl.line(c, "PRIVMSG x :y");
    cl.line(c, "PING tok");
    let out = cl.take(c);
    assert_eq!(
        out[0],
        format!(":irc.test CAP * LS :{}", super::caps::ls(302))
    );
    assert_eq!(out[1], ":irc.test 451 * :You have not registered");
    assert_eq!(out[2], ":irc.test 451 * :You have not registered");
    assert_eq!(out[3], ":irc.test PONG irc.test :tok");
}

#[test]
fn cap_negotiation_holds_registration_until_end() {
    let mut cl = Cluster::new(2);
    let c = cl.connect_raw(0);
    cl.line(c, "CAP LS 302");
    cl.line(c, "NICK n");
    cl.line(c, "USER u 0 * :r");
    cl.line(c, "CAP REQ :multi-prefix");
    cl.line(c, "CAP REQ :sasl");
    cl.line(c, "CAP LIST");
    cl.line(c, "CAP FOO");
    let out = cl.take(c);
    assert!(!has(&out, " 001 "), "{out:?}");
    assert_eq!(out[1], ":irc.test CAP n ACK :multi-prefix");
    assert_eq!(out[2], ":irc.test CAP n NAK :sasl");
    assert_eq!(out[3], ":irc.test CAP n LIST :multi-prefix cap-notify");
    assert_eq!(out[4], ":irc.test 410 n FOO :Invalid CAP command");
    cl.line(c, "CAP END");
    assert!(has(&cl.take(c), " 001 n "));
}

#[test]
fn password_checked_at_registration() {
    let mut cfg = Config::new("irc.test", 2);
    cfg.password = Some("sesame".into());
    let mut cl = Cluster::with_config(cfg);
    let bad = cl.connect_raw(0);
    cl.line(bad, "PASS nope");
    cl.line(bad, "NICK a");
    cl.line(bad, "USER a 0 * :a");
    let (out, closing) = cl.bytes_out(bad);
    let text: Vec<String> = out
        .iter()
        .map(|b| String::from_utf8_lossy(b).into())
        .collect();
    assert!(closing);
    assert!(text[0].starts_with(":irc.test 464 a "), "{text:?}");
    assert!(text[1].starts_with("ERROR :"), "{text:?}");
    let good = cl.connect_raw(1);
    cl.line(good, "PASS sesame");
    cl.line(good, "NICK a");
    cl.line(good, "USER a 0 * :a");
    assert!(
        has(&cl.take(good), " 001 a "),
        "nick of the refused client was released"
    );
}

#[test]
fn nick_errors_and_collisions_across_cores() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "Alice");
    let b = cl.connect_raw(1);
    cl.line(b, "NICK");
    cl.line(b, "NICK 1bad");
    cl.line(b, "NICK aLICE");
    cl.line(b, "NICK {alice}");
    let out = cl.take(b);
    assert_eq!(codes(&out)[..3], ["431", "432", "433"], "{out:?}");
    assert_eq!(out[2], ":irc.test 433 * aLICE :Nickname is already in use");
    // a change of case only is allowed and seen; own nick again does nothing
    cl.line(a, "NICK ALICE");
    assert_eq!(cl.take(a), [":Alice!Alice@127.0.0.1 NICK :ALICE"]);
    cl.line(a, "NICK ALICE");
    assert!(cl.take(a).is_empty());
}

#[test]
fn privmsg_to_channel_reaches_other_core_once_not_sender() {
    let (mut cl, a, b) = pair();
    let c = cl.connect(1, "carol");
    cl.line(c, "JOIN #ROOM");
    for w in [a, b, c] {
        cl.take(w);
    }
    cl.line(a, "PRIVMSG #room :hello there");
    let line = ":alice!alice@127.0.0.1 PRIVMSG #room :hello there";
    assert_eq!(cl.take(b), [line]);
    assert_eq!(cl.take(c), [line]);
    assert!(cl.take(a).is_empty());
}

#[test]
fn channel_order_is_one_order_for_all_members() {
    let (mut cl, a, b) = pair();
    let c = cl.connect(0, "carol");
    cl.line(c, "JOIN #room");
    for who in [a, b, c] {
        cl.take(who);
    }
    // Queue input on all three before letting messages flow.
    for i in 0..30 {
        for (n, who) in [a, b, c].iter().enumerate() {
            cl.shards[who.core].input(
                who.id,
                Frame::Line(format!("PRIVMSG #room :{n}-{i}").into()),
            );
        }
    }
    cl.settle_all();
    let seen: Vec<Vec<String>> = [a, b, c].iter().map(|w| cl.take(*w)).collect();
    // Every pair of members agrees on the order of the messages both saw.
    for x in 0..3 {
        for y in 0..3 {
            let common: Vec<&String> = seen[x].iter().filter(|l| seen[y].contains(l)).collect();
            let other: Vec<&String> = seen[y].iter().filter(|l| seen[x].contains(l)).collect();
            assert_eq!(common, other);
        }
        assert_eq!(seen[x].len(), 60, "each member sees the other two");
    }
}

#[test]
fn privmsg_errors() {
    let (mut cl, a, _b) = pair();
    cl.line(a, "PRIVMSG");
    cl.line(a, "PRIVMSG #room");
    cl.line(a, "PRIVMSG #room :");
    cl.line(a, "PRIVMSG nobody :hi");
    cl.line(a, "PRIVMSG #nowhere :hi");
    cl.line(a, "NOTICE nobody :hi");
    cl.line(a, "NOTICE #nowhere :hi");
    cl.line(a, "NOTICE");
    let out = cl.take(a);
    assert_eq!(codes(&out), ["411", "412", "412", "401", "403"], "{out:?}");
    let c = cl.connect(1, "carol");
    cl.line(c, "PRIVMSG #room :outside");
    assert_eq!(codes(&cl.take(c)), ["404"]);
}

#[test]
fn privmsg_to_nick_and_away_reply() {
    let (mut cl, a, b) = pair();
    cl.line(b, "AWAY :lunch");
    assert_eq!(
        cl.take(b),
        [":irc.test 306 bob :You have been marked as being away"]
    );
    cl.line(a, "PRIVMSG BOB :psst");
    assert_eq!(cl.take(b), [":alice!alice@127.0.0.1 PRIVMSG BOB :psst"]);
    assert_eq!(cl.take(a), [":irc.test 301 alice bob :lunch"]);
    cl.line(a, "NOTICE bob :n");
    assert!(cl.take(a).is_empty());
    assert_eq!(cl.take(b).len(), 1);
    cl.line(b, "AWAY");
    assert_eq!(codes(&cl.take(b)), ["305"]);
}

#[test]
fn multiple_targets() {
    let (mut cl, a, b) = pair();
    let c = cl.connect(0, "carol");
    cl.line(a, "PRIVMSG bob,carol,nobody :x");
    assert_eq!(cl.take(b).len(), 1);
    assert_eq!(cl.take(c).len(), 1);
    assert_eq!(codes(&cl.take(a)), ["401"]);
}

#[test]
fn join_replies_and_creator_is_op() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    let b = cl.connect(1, "bob");
    cl.line(a, "JOIN #Chan");
    let out = cl.take(a);
    assert_eq!(out[0], ":alice!alice@127.0.0.1 JOIN #Chan");
    assert_eq!(out[1], ":irc.test 353 alice = #Chan :@alice");
    assert_eq!(out[2], ":irc.test 366 alice #Chan :End of /NAMES list");
    cl.line(a, "TOPIC #chan :the topic");
    cl.take(a);
    cl.line(b, "JOIN #CHAN");
    let out = cl.take(b);
    assert_eq!(out[0], ":bob!bob@127.0.0.1 JOIN #Chan");
    assert_eq!(out[1], ":irc.test 332 bob #Chan :the topic");
    assert!(out[2].starts_with(":irc.test 333 bob #Chan alice!alice@127.0.0.1 "));
    assert_eq!(out[3], ":irc.test 353 bob = #Chan :@alice bob");
    assert_eq!(cl.take(a), [":bob!bob@127.0.0.1 JOIN #Chan"]);
    cl.line(b, "JOIN #chan");
    assert!(cl.take(b).is_empty(), "joining twice does nothing");
}

#[test]
fn join_lists_zero_and_bad_names() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    cl.line(a, "JOIN #a,#b,#c");
    let joins = cl.take(a).iter().filter(|l| l.contains(" JOIN ")).count();
    assert_eq!(joins, 3);
    cl.line(a, "JOIN 0");
    let parts = cl.take(a).iter().filter(|l| l.contains(" PART ")).count();
    assert_eq!(parts, 3);
    cl.line(a, "JOIN nohash");
    cl.line(a, "JOIN");
    assert_eq!(codes(&cl.take(a)), ["403", "461"]);
    cl.line(a, "LIST");
    assert_eq!(codes(&cl.take(a)), ["321", "323"], "channels were removed");
}

#[test]
fn channel_limit() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    for i in 0..super::register::CHANLIMIT {
        cl.line(a, &format!("JOIN #c{i}"));
    }
    cl.take(a);
    cl.line(a, "JOIN #onemore");
    assert_eq!(
        cl.take(a),
        [":irc.test 405 alice #onemore :You have joined too many channels"]
    );
    cl.line(a, "PART #c0");
    cl.line(a, "JOIN #onemore");
    assert!(has(&cl.take(a), " JOIN #onemore"));
}

#[test]
fn part_and_errors() {
    let (mut cl, a, b) = pair();
    cl.line(a, "PART #room :bye now");
    let line = ":alice!alice@127.0.0.1 PART #room :bye now";
    assert_eq!(cl.take(a), [line]);
    assert_eq!(cl.take(b), [line]);
    cl.line(a, "PART #room");
    cl.line(a, "PART #nope");
    cl.line(a, "PART");
    assert_eq!(codes(&cl.take(a)), ["442", "403", "461"]);
}

#[test]
fn quit_sends_error_and_others_see_quit_once() {
    let (mut cl, a, b) = pair();
    cl.line(a, "JOIN #two");
    cl.line(b, "JOIN #two");
    cl.take(a);
    cl.take(b);
    cl.line(a, "QUIT :gone");
    let (out, closing) = cl.bytes_out(a);
    assert!(closing);
    assert_eq!(
        &out[0][..],
        b"ERROR :Closing Link: 127.0.0.1 (Quit: gone)\r\n"
    );
    assert_eq!(cl.take(b), [":alice!alice@127.0.0.1 QUIT :Quit: gone"]);
    let c = cl.connect(1, "alice");
    cl.line(c, "NAMES #room");
    assert_eq!(cl.take(c)[0], ":irc.test 353 alice = #room :bob");
}

#[test]
fn nick_change_seen_once_by_peers() {
    let (mut cl, a, b) = pair();
    cl.line(a, "JOIN #two");
    cl.line(b, "JOIN #two");
    cl.take(a);
    cl.take(b);
    cl.line(a, "NICK alicia");
    let line = ":alice!alice@127.0.0.1 NICK :alicia";
    assert_eq!(cl.take(a), [line]);
    assert_eq!(cl.take(b), [line]);
    cl.line(b, "NAMES #two");
    assert!(has(&cl.take(b), "@alicia bob"));
    let c = cl.connect(0, "alice");
    cl.line(c, "PRIVMSG alicia :hi");
    assert_eq!(cl.take(a), [":alice!alice@127.0.0.1 PRIVMSG alicia :hi"]);
}

#[test]
fn topic_rules() {
    let (mut cl, a, b) = pair();
    cl.line(b, "TOPIC #room");
    assert_eq!(cl.take(b), [":irc.test 331 bob #room :No topic is set"]);
    cl.line(b, "TOPIC #room :mine");
    assert_eq!(codes(&cl.take(b)), ["482"]);
    cl.line(a, "TOPIC #room :ok");
    let line = ":alice!alice@127.0.0.1 TOPIC #room :ok";
    assert_eq!(cl.take(a), [line]);
    assert_eq!(cl.take(b), [line]);
    cl.line(a, "MODE #room -t");
    cl.take(a);
    cl.take(b);
    cl.line(b, "TOPIC #room :bob's");
    assert_eq!(cl.take(a).len(), 1);
    let c = cl.connect(0, "carol");
    cl.line(c, "TOPIC #room :x");
    cl.line(c, "TOPIC #none");
    assert_eq!(codes(&cl.take(c)), ["442", "403"]);
    cl.line(c, "TOPIC #room");
    assert_eq!(codes(&cl.take(c)), ["332", "333"]);
}

#[test]
fn names_list_who() {
    let (mut cl, a, b) = pair();
    cl.line(a, "CAP REQ :multi-prefix");
    cl.line(a, "MODE #room +v alice");
    cl.take(a);
    cl.take(b);
    cl.line(a, "NAMES #room");
    assert_eq!(cl.take(a)[0], ":irc.test 353 alice = #room :@+alice bob");
    cl.line(b, "NAMES #room,#none");
    let out = cl.take(b);
    assert_eq!(out[0], ":irc.test 353 bob = #room :@alice bob");
    assert_eq!(codes(&out), ["353", "366", "366"]);
    cl.line(b, "TOPIC #room");
    cl.take(b);
    cl.line(b, "LIST");
    let out = cl.take(b);
    assert_eq!(out[1], ":irc.test 322 bob #room 2 :");
    assert_eq!(codes(&out), ["321", "322", "323"]);
    cl.line(b, "WHO #room");
    let out = cl.take(b);
    assert_eq!(
        out[0],
        ":irc.test 352 bob #room alice 127.0.0.1 irc.test alice H@ :0 Real alice"
    );
    assert_eq!(out[2], ":irc.test 315 bob #room :End of /WHO list");
}

#[test]
fn who_mask_hides_invisible_but_exact_nick_does_not() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    let b = cl.connect(1, "bob");
    cl.line(b, "MODE bob +i");
    assert_eq!(cl.take(b), [":bob!bob@127.0.0.1 MODE bob :+i"]);
    cl.line(a, "WHO *");
    let out = cl.take(a);
    assert_eq!(codes(&out), ["352", "315"], "{out:?}");
    assert!(has(&out, " alice H :0"));
    cl.line(a, "WHO bob");
    let out = cl.take(a);
    assert_eq!(codes(&out), ["352", "315"]);
    assert!(has(&out, " bob H :0 Real bob"));
    cl.line(b, "MODE bob");
    assert_eq!(cl.take(b), [":irc.test 221 bob +i"]);
    cl.line(b, "MODE alice +i");
    cl.line(b, "MODE bob +x");
    assert_eq!(codes(&cl.take(b)), ["502", "501"]);
}

#[test]
fn whois_and_userhost() {
    let (mut cl, a, b) = pair();
    cl.line(b, "AWAY :afk");
    cl.take(b);
    cl.line(a, "WHOIS bob");
    let out = cl.take(a);
    assert_eq!(
        codes(&out),
        ["311", "319", "312", "301", "317", "318"],
        "{out:?}"
    );
    assert_eq!(out[0], ":irc.test 311 alice bob bob 127.0.0.1 * :Real bob");
    assert_eq!(out[1], ":irc.test 319 alice bob :#room");
    cl.line(a, "WHOIS nobody");
    assert_eq!(codes(&cl.take(a)), ["401", "318"]);
    cl.line(a, "USERHOST bob alice nobody");
    let out = cl.take(a);
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0],
        ":irc.test 302 alice :bob=-bob@127.0.0.1 alice=+alice@127.0.0.1"
    );
    cl.line(a, "USERHOST alice bob");
    assert_eq!(
        cl.take(a),
        [":irc.test 302 alice :alice=+alice@127.0.0.1 bob=-bob@127.0.0.1"]
    );
    cl.line(a, "USERHOST");
    assert_eq!(codes(&cl.take(a)), ["461"]);
}

#[test]
fn kick_rules() {
    let (mut cl, a, b) = pair();
    cl.line(b, "KICK #room alice");
    assert_eq!(codes(&cl.take(b)), ["482"]);
    cl.line(a, "KICK #room nobody");
    cl.line(a, "KICK #room");
    cl.line(a, "KICK #nope bob");
    assert_eq!(codes(&cl.take(a)), ["441", "461", "403"]);
    cl.line(a, "KICK #room BOB :behave");
    let line = ":alice!alice@127.0.0.1 KICK #room bob :behave";
    assert_eq!(cl.take(a), [line]);
    assert_eq!(cl.take(b), [line]);
    cl.line(b, "PRIVMSG #room :back?");
    assert_eq!(codes(&cl.take(b)), ["404"]);
    cl.line(b, "KICK #room alice");
    assert_eq!(codes(&cl.take(b)), ["442"]);
}

#[test]
fn channel_modes() {
    let (mut cl, a, b) = pair();
    cl.line(a, "MODE #room");
    let out = cl.take(a);
    assert_eq!(out[0], ":irc.test 324 alice #room +nt");
    assert_eq!(codes(&out), ["324", "329"]);
    cl.line(a, "MODE #room b");
    assert_eq!(
        cl.take(a),
        [":irc.test 368 alice #room :End of channel ban list"]
    );
    cl.line(b, "MODE #room +s");
    assert_eq!(codes(&cl.take(b)), ["482"]);
    cl.line(a, "MODE #room +ok-t bob secret");
    let line = ":alice!alice@127.0.0.1 MODE #room +ok-t bob secret";
    assert_eq!(cl.take(a), [line]);
    assert_eq!(cl.take(b), [line]);
    cl.line(b, "WHOIS bob");
    assert!(has(&cl.take(b), "319 bob bob :@#room"));
    let c = cl.connect(0, "carol");
    cl.line(c, "JOIN #room");
    cl.line(c, "JOIN #room wrong");
    assert_eq!(codes(&cl.take(c)), ["475", "475"]);
    cl.line(c, "JOIN #other,#room x,secret");
    assert!(
        has(&cl.take(c), " JOIN #room"),
        "second key goes with the second channel"
    );
    cl.take(a);
    cl.line(a, "MODE #room +z");
    cl.line(a, "MODE #room +o nobody");
    assert_eq!(codes(&cl.take(a)), ["472", "401"]);
    cl.line(a, "MODE #nope");
    assert_eq!(codes(&cl.take(a)), ["403"]);
}

#[test]
fn irssi_sequence_gets_replies() {
    let mut cl = Cluster::new(2);
    let c = cl.connect_raw(0);
    for l in [
        "CAP LS 302",
        "JOIN :",
        "NICK irssi",
        "USER irssi irssi localhost :Irssi",
        "CAP END",
    ] {
        cl.line(c, l);
    }
    let out = cl.take(c);
    assert_eq!(codes(&out)[..2], ["CAP", "451"]);
    assert!(has(&out, " 001 irssi "));
    cl.line(c, "MODE irssi +i");
    cl.line(c, "JOIN #irssi");
    cl.line(c, "MODE #irssi");
    cl.line(c, "WHO #irssi");
    cl.line(c, "MODE #irssi b");
    let out = cl.take(c);
    assert_eq!(
        codes(&out),
        ["MODE", "JOIN", "353", "366", "324", "329", "352", "315", "368"],
        "{out:?}"
    );
}

#[test]
fn unregistered_nick_is_no_such_nick() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    let half = cl.connect_raw(1);
    cl.line(half, "NICK halfway");
    cl.line(a, "PRIVMSG halfway :hi");
    cl.line(a, "WHOIS halfway");
    let out = cl.take(a);
    assert_eq!(out[0], ":irc.test 401 alice halfway :No such nick/channel");
    assert_eq!(out[2], ":irc.test 318 alice halfway :End of /WHOIS list");
    assert!(cl.take(half).is_empty());
}

#[test]
fn too_long_reply_keeps_its_place() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    // WHOIS waits for another core; the 417 must still come after it.
    cl.shards[0].input(a.id, Frame::Line("WHOIS alice".into()));
    cl.shards[0].input(a.id, Frame::TooLong);
    cl.settle_all();
    let out = cl.take(a);
    assert_eq!(
        out.last().unwrap(),
        ":irc.test 417 alice :Input line was too long"
    );
    assert!(out[out.len() - 2].contains(" 318 "));
}

#[test]
fn input_queue_accounting_is_exact() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    // Queue behind a pending WHOIS: list splits and 417 markers included.
    cl.shards[0].input(a.id, Frame::Line("WHOIS alice".into()));
    cl.shards[0].input(a.id, Frame::Line("JOIN #a,#b,#c,#d".into()));
    for _ in 0..40 {
        cl.shards[0].input(a.id, Frame::TooLong);
    }
    assert!(
        !cl.shards[0].wants_input(a.id),
        "40 oversized lines fill the queue"
    );
    cl.settle_all();
    assert!(cl.shards[0].wants_input(a.id));
    assert_eq!(cl.shards[0].home().client(a.id).unwrap().inq_bytes, 0);
}

#[test]
fn member_messages_do_not_wait_for_the_owner() {
    let (mut cl, a, b) = pair();
    cl.shards[0].input(a.id, Frame::Line("PRIVMSG #room :one".into()));
    cl.shards[0].input(a.id, Frame::Line("PING now".into()));
    // The PONG is out before any message has reached the channel's owner.
    assert_eq!(cl.take(a), [":irc.test PONG irc.test :now"]);
    cl.settle_all();
    assert_eq!(cl.take(b), [":alice!alice@127.0.0.1 PRIVMSG #room :one"]);
}

#[test]
fn message_racing_a_kick_never_leaves_the_sender_waiting() {
    let mut cl = Cluster::new(2);
    let b = cl.connect(1, "bob");
    let a = cl.connect(0, "alice");
    cl.line(b, "JOIN #race");
    cl.line(a, "JOIN #race");
    cl.take(a);
    cl.take(b);
    // The kick and alice's message are in flight together.
    cl.shards[1].input(b.id, Frame::Line("KICK #race alice".into()));
    cl.shards[0].input(a.id, Frame::Line("PRIVMSG #race :hi".into()));
    cl.settle_all();
    let out = cl.take(a);
    assert!(has(&out, " KICK #race alice"), "{out:?}");
    cl.line(a, "PING still");
    assert_eq!(cl.take(a), [":irc.test PONG irc.test :still"]);
}

#[test]
fn unknown_and_too_long() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    cl.line(a, "FROB x");
    cl.input(a, Frame::TooLong);
    let out = cl.take(a);
    assert_eq!(out[0], ":irc.test 421 alice FROB :Unknown command");
    assert_eq!(out[1], ":irc.test 417 alice :Input line was too long");
}

#[test]
fn non_utf8_text_passes_through() {
    let (mut cl, a, b) = pair();
    cl.input(
        a,
        Frame::Line(bytes::Bytes::from_static(b"PRIVMSG #room :caf\xe9 \xff")),
    );
    let (out, _) = cl.bytes_out(b);
    assert_eq!(
        &out[0][..],
        b":alice!alice@127.0.0.1 PRIVMSG #room :caf\xe9 \xff\r\n"
    );
}

#[test]
fn sendq_overflow_drops_only_the_slow_client() {
    let mut cfg = Config::new("irc.test", 2);
    cfg.sendq = 4096;
    let mut cl = Cluster::with_config(cfg);
    let a = cl.connect(0, "alice");
    let b = cl.connect(1, "bob");
    let c = cl.connect(1, "carol");
    for w in [a, b, c] {
        cl.line(w, "JOIN #room");
    }
    for w in [a, b, c] {
        cl.take(w);
    }
    let text = "x".repeat(300);
    for _ in 0..40 {
        cl.line(a, &format!("PRIVMSG #room :{text}"));
        cl.take(c); // carol reads, bob does not
    }
    let (out, closing) = cl.bytes_out(b);
    assert!(closing);
    assert_eq!(out.len(), 1);
    assert_eq!(
        &out[0][..],
        b"ERROR :Closing Link: 127.0.0.1 (Max SendQ exceeded)\r\n"
    );
    cl.line(a, "PRIVMSG #room :still here");
    assert_eq!(cl.take(c).len(), 1);
    cl.line(a, "NAMES #room");
    assert!(has(&cl.take(a), ":@alice carol"));
}

#[test]
fn idle_client_pinged_then_dropped() {
    let (mut cl, a, b) = pair();
    let iv = Duration::from_secs(5);
    let grace = Duration::from_secs(60);
    let t0 = Instant::now() + iv;
    assert!(cl.shards[0].sweep(t0, iv, grace).is_empty());
    assert_eq!(cl.take(a), ["PING :irc.test"]);
    assert!(cl.take(b).is_empty(), "bob is on core 1, not swept yet");
    cl.line(a, "PONG :irc.test");
    let t1 = Instant::now() + iv;
    cl.shards[0].sweep(t1, iv, grace);
    assert_eq!(cl.take(a), ["PING :irc.test"], "PONG reset the timer");
    cl.shards[0].sweep(t1 + iv / 2, iv, grace);
    assert!(cl.take(a).is_empty(), "not yet");
    cl.shards[0].sweep(t1 + iv, iv, grace);
    cl.settle_all();
    let (out, closing) = cl.bytes_out(a);
    assert!(closing && out[0].starts_with(b"ERROR"));
    assert_eq!(
        cl.take(b),
        [":alice!alice@127.0.0.1 QUIT :Ping timeout: 5 seconds"]
    );
    let later = Instant::now() + grace * 2;
    assert_eq!(
        cl.shards[0].sweep(later, iv, grace),
        [a.id],
        "stuck writer reported"
    );
}

#[test]
fn disconnect_mid_join_leaves_no_ghost() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    let b = cl.connect(1, "bob");
    cl.line(b, "JOIN #g");
    cl.take(b);
    // alice's JOIN is in flight when her connection drops.
    cl.shards[0].input(a.id, Frame::Line("JOIN #g".into()));
    for (to, m) in cl.shards[0].flush() {
        cl.push(0, to, m);
    }
    cl.drop_conn(a);
    cl.line(b, "NAMES #g");
    let out = cl.take(b);
    assert!(has(&out, "353 bob = #g :@bob"), "{out:?}");
    cl.connect(1, "alice");
}

#[test]
fn lusers_counts() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    let _b = cl.connect(1, "bob");
    let _unreg = cl.connect_raw(1);
    cl.line(a, "JOIN #x");
    cl.take(a);
    cl.line(a, "LUSERS");
    let out = cl.take(a);
    assert_eq!(
        out[0],
        ":irc.test 251 alice :There are 2 users and 0 invisible on 1 servers"
    );
    assert_eq!(out[2], ":irc.test 253 alice 1 :unknown connection(s)");
    assert_eq!(out[3], ":irc.test 254 alice 1 :channels formed");
}

#[test]
fn user_with_empty_realname_is_461() {
    let mut cl = Cluster::new(2);
    let c = cl.connect_raw(0);
    cl.line(c, "NICK n");
    cl.line(c, "USER u 0 * :");
    cl.line(c, "USER u 0 *");
    assert_eq!(
        cl.take(c),
        [
            ":irc.test 461 n USER :Not enough parameters",
            ":irc.test 461 n USER :Not enough parameters"
        ]
    );
    cl.line(c, "USER u 0 * :real");
    assert!(has(&cl.take(c), " 001 n "));
}

#[test]
fn names_of_several_and_of_missing_channels() {
    let (mut cl, a, b) = pair();
    cl.line(b, "JOIN #other");
    cl.take(a);
    cl.take(b);
    cl.line(a, "NAMES #room,#other");
    assert_eq!(
        cl.take(a),
        [
            ":irc.test 353 alice = #room :@alice bob",
            ":irc.test 366 alice #room :End of /NAMES list",
            ":irc.test 353 alice = #other :@bob",
            ":irc.test 366 alice #other :End of /NAMES list",
        ]
    );
    cl.line(a, "NAMES #nonexistent");
    cl.line(a, "NAMES nohash");
    assert_eq!(
        cl.take(a),
        [
            ":irc.test 366 alice #nonexistent :End of /NAMES list",
            ":irc.test 366 alice nohash :End of /NAMES list",
        ]
    );
}

#[test]
fn who_shows_invisible_members_to_those_sharing_the_channel() {
    let (mut cl, a, b) = pair();
    cl.line(b, "MODE bob +i");
    cl.take(b);
    cl.line(a, "WHO #room");
    let out = cl.take(a);
    assert_eq!(codes(&out), ["352", "352", "315"], "{out:?}");
    assert_eq!(
        out[1],
        ":irc.test 352 alice #room bob 127.0.0.1 irc.test bob H :0 Real bob"
    );
    let c = cl.connect(0, "carol");
    cl.line(c, "WHO #room");
    let out = cl.take(c);
    assert_eq!(
        codes(&out),
        ["352", "315"],
        "an outsider sees only the visible"
    );
}

#[test]
fn bad_keys_are_refused_with_525_and_set_nothing() {
    let (mut cl, a, b) = pair();
    for bad in [
        "MODE #room +k :",
        "MODE #room +k :   ",
        "MODE #room +k :a b",
    ] {
        cl.line(a, bad);
        assert_eq!(
            cl.take(a),
            [":irc.test 525 alice #room :Key is not well-formed"],
            "{bad}"
        );
    }
    cl.line(a, "MODE #room +k");
    assert_eq!(codes(&cl.take(a)), ["461"]);
    assert!(cl.take(b).is_empty(), "no MODE line went out");
    cl.line(a, "MODE #room");
    assert_eq!(cl.take(a)[0], ":irc.test 324 alice #room +nt");
    let c = cl.connect(1, "carol");
    cl.line(c, "JOIN #room");
    assert!(has(&cl.take(c), " JOIN #room"), "no key was set");
}

#[test]
fn op_of_a_missing_nick_is_401_of_an_outsider_441() {
    let (mut cl, a, _b) = pair();
    let _out = cl.connect(1, "outsider");
    cl.line(a, "MODE #room +oo nobody outsider");
    assert_eq!(
        cl.take(a),
        [
            ":irc.test 401 alice nobody :No such nick/channel",
            ":irc.test 441 alice outsider #room :They aren't on that channel",
        ]
    );
    cl.line(a, "MODE #room +v nobody");
    cl.line(a, "PING after");
    let out = cl.take(a);
    assert_eq!(
        codes(&out),
        ["401", "PONG"],
        "the reply came before the next command's"
    );
}

#[test]
fn ban_list_is_kept_and_checked_on_join_and_privmsg() {
    let (mut cl, a, b) = pair();
    cl.line(a, "MODE #room +b carol");
    let line = ":alice!alice@127.0.0.1 MODE #room +b carol!*@*";
    assert_eq!(cl.take(a), [line]);
    assert_eq!(cl.take(b), [line]);
    cl.line(a, "MODE #room +b carol");
    assert!(
        cl.take(a).is_empty(),
        "a mask already listed changes nothing"
    );
    cl.line(b, "MODE #room b");
    let out = cl.take(b);
    assert_eq!(codes(&out), ["367", "368"]);
    assert!(out[0].starts_with(":irc.test 367 bob #room carol!*@* alice!alice@127.0.0.1 "));
    let c = cl.connect(0, "carol");
    cl.line(c, "JOIN #room");
    assert_eq!(
        cl.take(c),
        [":irc.test 474 carol #room :Cannot join channel (+b)"]
    );
    // A member banned later may stay but not speak; voice lets them.
    cl.line(a, "MODE #room +b *!bob@*");
    cl.take(a);
    cl.take(b);
    cl.line(b, "PRIVMSG #room :hello?");
    assert_eq!(codes(&cl.take(b)), ["404"]);
    assert!(cl.take(a).is_empty());
    cl.line(a, "MODE #room +v bob");
    cl.take(a);
    cl.take(b);
    cl.line(b, "PRIVMSG #room :now?");
    assert_eq!(cl.take(a)[0], ":bob!bob@127.0.0.1 PRIVMSG #room :now?");
    cl.line(a, "MODE #room -b carol!*@*");
    cl.take(a);
    cl.line(c, "JOIN #room");
    assert!(has(&cl.take(c), " JOIN #room"));
}
