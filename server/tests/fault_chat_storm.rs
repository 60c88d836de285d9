//! The chat server under a storm of JOIN, PART, KICK and QUIT from many clients at once on two
//! cores; afterwards NAMES of every channel must list exactly the members the clients
//! themselves believe they are, from the JOIN, PART and KICK lines each one received.

mod chat_support;

use chat_support::{Client, Server, TIMEOUT};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

const CLIENTS: usize = 20;
const CHANNELS: usize = 4;
const OPS: usize = 1_500;

/// A small deterministic generator (the storm is the same every run).
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn channel(i: usize) -> String {
    format!("#storm{i}")
}

/// A storm client and the channels it believes it is in.
struct Member {
    client: Client,
    joined: BTreeSet<String>,
    /// KICKs of this client that took effect.
    kicked: usize,
}

impl Member {
    fn new(server: &Server, nick: String) -> Member {
        Member {
            client: Client::register(server.addr, &nick),
            joined: BTreeSet::new(),
            kicked: 0,
        }
    }

    /// Reads what the server has sent so far and updates the client's own record from it.
    fn catch_up(&mut self) {
        let me = format!(":{}!", self.client.nick);
        for line in self.client.sync() {
            let words: Vec<&str> = line.split(' ').collect();
            let target = |i: usize| words.get(i).map(|w| w.trim_start_matches(':').to_string());
            match words.get(1).copied() {
                Some("JOIN") if line.starts_with(&me) => {
                    self.joined.extend(target(2));
                }
                Some("PART") if line.starts_with(&me) => {
                    if let Some(c) = target(2) {
                        self.joined.remove(&c);
                    }
                }
                Some("KICK") if words.get(3) == Some(&self.client.nick.as_str()) => {
                    if let Some(c) = target(2) {
                        self.joined.remove(&c);
                        self.kicked += 1;
                    }
                }
                _ => {}
            }
        }
    }
}

/// NAMES of `chan` as the server reports it, prefixes (@, +) stripped.
fn names(checker: &mut Client, chan: &str) -> BTreeSet<String> {
    checker.send(&format!("NAMES {chan}"));
    let lines = checker.expect(|l| chat_support::code(l) == "366");
    lines
        .iter()
        .filter(|l| chat_support::code(l) == "353")
        .flat_map(|l| l.rsplit_once(" :").map(|(_, n)| n.to_string()))
        .flat_map(|n| {
            n.split(' ')
                .filter(|s| !s.is_empty())
                .map(|s| s.trim_start_matches(['@', '+']).to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn names_match_the_clients_own_record_after_a_join_part_kick_quit_storm() {
    let server = Server::start(&["--flood-rate", "0"]);
    let mut generation = 0;
    let mut nick = |i: usize| {
        generation += 1;
        format!("s{i}g{generation}")
    };
    // Each channel's operator joins it first (so holds @), stays, and issues its KICKs.
    let mut ops: Vec<Member> = (0..CHANNELS)
        .map(|c| {
            let mut op = Member::new(&server, format!("op{c}"));
            op.client.send(&format!("JOIN {}", channel(c)));
            op.catch_up();
            op
        })
        .collect();
    let mut members: Vec<Member> = (0..CLIENTS)
        .map(|i| Member::new(&server, nick(i)))
        .collect();
    let mut rng = Lcg(0x5eed);
    let (mut quits, mut kicks, mut kicked) = (0, 0, 0);
    for op in 0..OPS {
        let who = rng.below(CLIENTS);
        let c = rng.below(CHANNELS);
        let chan = channel(c);
        match rng.below(10) {
            0..=3 => members[who].client.send(&format!("JOIN {chan}")),
            4..=5 => members[who].client.send(&format!("PART {chan} :storm")),
            6..=7 => {
                // The operator kicks someone (who may not be in the channel: 441).
                let victim = members[who].client.nick.clone();
                ops[c].client.send(&format!("KICK {chan} {victim} :storm"));
                kicks += 1;
            }
            8 => {
                // Not an operator: 482, and nothing changes.
                let victim = members[rng.below(CLIENTS)].client.nick.clone();
                members[who]
                    .client
                    .send(&format!("KICK {chan} {victim} :storm"));
            }
            _ => {
                members[who].client.send("QUIT :storm");
                members[who].client.expect(|l| l.starts_with("ERROR"));
                kicked += members[who].kicked;
                members[who] = Member::new(&server, nick(who));
                quits += 1;
            }
        }
        if op % 100 == 99 {
            // Keep the clients' receive buffers from filling while the storm goes on.
            for m in members.iter_mut().chain(&mut ops) {
                m.catch_up();
            }
        }
    }
    assert!(
        quits > 50 && kicks > 200,
        "storm too mild: {quits} quits, {kicks} kicks"
    );

    // Channel effects cross cores; once the storm is over they settle. Compare until they
    // agree, or fail with the difference after TIMEOUT.
    let mut checker = Client::register(server.addr, "checker");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        for m in members.iter_mut().chain(&mut ops) {
            m.catch_up();
        }
        let mut believed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for m in members.iter().chain(&ops) {
            for c in &m.joined {
                believed
                    .entry(c.clone())
                    .or_default()
                    .insert(m.client.nick.clone());
            }
        }
        let reported: BTreeMap<String, BTreeSet<String>> = (0..CHANNELS)
            .map(channel)
            .map(|c| (c.clone(), names(&mut checker, &c)))
            .filter(|(_, n)| !n.is_empty())
            .collect();
        if reported == believed {
            assert!(!reported.is_empty(), "the storm left every channel empty");
            kicked += members.iter().map(|m| m.kicked).sum::<usize>();
            assert!(kicked > 20, "only {kicked} KICKs took effect");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "NAMES disagree with the clients' record:\nserver:  {reported:?}\nclients: {believed:?}"
        );
    }
}
