//! Operator and user commands on a simulated 2-core server: ISON, WHOWAS,
//! OPER/KILL, MONITOR, LIST filters.

use super::config::Config;
use super::sim::Cluster;

fn codes(out: &[String]) -> Vec<String> {
    out.iter()
        .filter_map(|l| l.split(' ').nth(1).map(str::to_string))
        .collect()
}

#[test]
fn ison_names_who_is_online_in_their_case() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    let _b = cl.connect(1, "Bob");
    cl.line(a, "ISON bob nobody ALICE");
    assert_eq!(cl.take(a), [":irc.test 303 alice :Bob alice"]);
    cl.line(a, "ISON nobody");
    assert_eq!(cl.take(a), [":irc.test 303 alice :"]);
    cl.line(a, "ISON");
    assert_eq!(codes(&cl.take(a)), ["461"]);
}

#[test]
fn whowas_remembers_quits_and_nick_changes() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    let b = cl.connect(1, "bob");
    cl.line(b, "NICK robert");
    cl.line(b, "QUIT");
    cl.line(a, "WHOWAS bob");
    assert_eq!(
        cl.take(a),
        [
            ":irc.test 314 alice bob bob 127.0.0.1 * :Real bob",
            ":irc.test 369 alice bob :End of WHOWAS"
        ]
    );
    cl.line(a, "WHOWAS robert 1");
    assert_eq!(codes(&cl.take(a)), ["314", "369"]);
    cl.line(a, "WHOWAS nobody");
    assert_eq!(
        cl.take(a),
        [
            ":irc.test 406 alice nobody :There was no such nickname",
            ":irc.test 369 alice nobody :End of WHOWAS"
        ]
    );
}

#[test]
fn oper_with_the_configured_password_may_kill() {
    let mut cfg = Config::new("irc.test", 2);
    cfg.opers = vec![("admin".into(), "s3cret".into())];
    let mut cl = Cluster::with_config(cfg);
    let a = cl.connect(0, "alice");
    let b = cl.connect(1, "bob");
    cl.line(a, "KILL bob :spam");
    assert_eq!(
        cl.take(a),
        [":irc.test 481 alice :Permission Denied- You're not an IRC operator"]
    );
    cl.line(a, "OPER admin wrong");
    cl.line(a, "OPER");
    assert_eq!(codes(&cl.take(a)), ["464", "461"]);
    cl.line(a, "OPER admin s3cret");
    assert_eq!(
        cl.take(a),
        [
            ":alice!alice@127.0.0.1 MODE alice :+o",
            ":irc.test 381 alice :You are now an IRC operator"
        ]
    );
    cl.line(b, "WHOIS alice");
    assert!(cl.take(b).iter().any(|l| l.contains(" 313 bob alice ")));
    cl.line(a, "KILL nobody :x");
    assert_eq!(codes(&cl.take(a)), ["401"]);
    cl.line(a, "KILL bob :spam");
    let (out, closing) = cl.bytes_out(b);
    assert!(closing);
    assert_eq!(
        &out[0][..],
        b"ERROR :Closing Link: 127.0.0.1 (Killed (alice (spam)))\r\n"
    );
    cl.line(a, "LUSERS");
    assert!(cl
        .take(a)
        .iter()
        .any(|l| l == ":irc.test 252 alice 1 :operator(s) online"));
}

#[test]
fn oper_without_configured_operators_is_491() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    cl.line(a, "OPER admin x");
    assert_eq!(
        cl.take(a),
        [":irc.test 491 alice :No O-lines for your host"]
    );
}

#[test]
fn monitor_tells_of_comings_and_goings() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    let _b = cl.connect(1, "bob");
    cl.line(a, "MONITOR + bob,carol");
    assert_eq!(
        cl.take(a),
        [":irc.test 730 alice :bob", ":irc.test 731 alice :carol"]
    );
    let c = cl.connect(1, "carol");
    assert_eq!(cl.take(a), [":irc.test 730 alice :carol"]);
    cl.line(c, "NICK caroline");
    assert_eq!(cl.take(a), [":irc.test 731 alice :carol"]);
    cl.line(a, "MONITOR L");
    assert_eq!(
        cl.take(a),
        [
            ":irc.test 732 alice :bob,carol",
            ":irc.test 733 alice :End of MONITOR list"
        ]
    );
    cl.line(a, "MONITOR - bob");
    cl.line(a, "MONITOR S");
    assert_eq!(cl.take(a), [":irc.test 731 alice :carol"]);
    cl.line(a, "MONITOR C");
    cl.line(c, "NICK carol");
    assert!(cl.take(a).is_empty(), "cleared");
    let many: Vec<String> = (0..super::monitor::LIMIT + 1)
        .map(|i| format!("n{i}"))
        .collect();
    cl.line(a, &format!("MONITOR + {}", many.join(",")));
    let out = cl.take(a);
    assert_eq!(
        out.last().unwrap(),
        ":irc.test 734 alice 100 n100 :Monitor list is full"
    );
}

#[test]
fn list_filters_by_size_and_mask() {
    let mut cl = Cluster::new(2);
    let a = cl.connect(0, "alice");
    let b = cl.connect(1, "bob");
    for ch in ["#big", "#small", "#other"] {
        cl.line(a, &format!("JOIN {ch}"));
    }
    cl.line(b, "JOIN #big");
    cl.take(a);
    cl.take(b);
    let names = |out: Vec<String>| -> Vec<String> {
        out.iter()
            .filter(|l| l.contains(" 322 "))
            .map(|l| l.split(' ').nth(3).unwrap().to_string())
            .collect()
    };
    cl.line(a, "LIST >1");
    assert_eq!(names(cl.take(a)), ["#big"]);
    cl.line(a, "LIST <2");
    let mut v = names(cl.take(a));
    v.sort();
    assert_eq!(v, ["#other", "#small"]);
    cl.line(a, "LIST #s*");
    assert_eq!(names(cl.take(a)), ["#small"]);
    cl.line(a, "LIST #big,#small");
    assert_eq!(names(cl.take(a)), ["#big", "#small"]);
    cl.line(a, "LIST >x");
    assert_eq!(codes(&cl.take(a)), ["321", "323"]);
}
