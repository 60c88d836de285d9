//! Property test: random bytes and random mixes of valid-looking commands
//! from several clients on 2 cores never panic the server, and afterwards
//! the server still answers a fresh client.

use super::framing::LineReader;
use super::msg::ClientRef;
use super::sim::Cluster;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const VERBS: &[&str] = &[
    "NICK",
    "USER",
    "PASS",
    "CAP",
    "JOIN",
    "PART",
    "PRIVMSG",
    "NOTICE",
    "QUIT",
    "NAMES",
    "LIST",
    "TOPIC",
    "WHO",
    "WHOIS",
    "AWAY",
    "USERHOST",
    "KICK",
    "MODE",
    "PING",
    "PONG",
    "LUSERS",
    "X",
    "INVITE",
    "SETNAME",
    "TAGMSG",
    "ISON",
    "WHOWAS",
    "MONITOR",
    "OPER",
    "KILL",
    "MOTD",
    "@label=l1 PING",
    "@+a=b;label=x PRIVMSG",
];
const WORDS: &[&str] = &[
    "#a",
    "#B",
    "#a,#b",
    "a",
    "B",
    "c",
    "*",
    "0",
    ":",
    ":hi there",
    "+o",
    "-o",
    "+ovk",
    "+i",
    "LS",
    "REQ",
    "END",
    ":multi-prefix",
    "b",
    "#",
    "",
    "a,b,c",
    "+k",
    "key",
    "-t+s",
    "\u{ff}",
    "a\rPRIVMSG #a :forged",
    "x\0y",
    "+imlb",
    "5",
    "*!*@*",
    "+",
    "-",
    "L",
    "S",
    ">1",
    ":labeled-response batch echo-message server-time message-tags",
    ":\r\n",
];

fn random_line(r: &mut Rng) -> Vec<u8> {
    if r.below(10) == 0 {
        // Long lines around the limits, and far past them.
        let n = [0, 509, 510, 511, 512, 8191, 8192, 100_000][r.below(8)];
        let mut l = b"PRIVMSG a :".to_vec();
        l.resize(n.max(l.len()), b'x');
        l.extend_from_slice(b"\r\n");
        return l;
    }
    if r.below(5) == 0 {
        let n = r.below(600);
        return (0..n).map(|_| r.next() as u8).collect();
    }
    let mut l = VERBS[r.below(VERBS.len())].as_bytes().to_vec();
    for _ in 0..r.below(5) {
        l.push(b' ');
        l.extend_from_slice(WORDS[r.below(WORDS.len())].as_bytes());
    }
    l.extend_from_slice(b"\r\n");
    l
}

#[test]
fn random_input_never_panics() {
    for seed in 1..=20u64 {
        let mut r = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut cl = Cluster::new(2);
        let mut clients: Vec<(ClientRef, LineReader)> = Vec::new();
        for step in 0..1500 {
            if clients.len() < 6 && r.below(10) == 0 {
                let c = cl.connect_raw(r.below(2));
                clients.push((c, LineReader::new()));
            }
            if clients.is_empty() {
                continue;
            }
            let i = r.below(clients.len());
            let c = clients[i].0;
            let bytes = random_line(&mut r);
            clients[i].1.push(&bytes);
            while let Some(f) = clients[i].1.next_frame() {
                cl.input(c, f);
            }
            if step % 7 == 0 {
                for &(c, _) in &clients {
                    cl.take(c);
                }
            }
            if r.below(40) == 0 {
                cl.drop_conn(c);
                clients.swap_remove(i);
            }
        }
        let fresh = cl.connect(0, "fresh");
        cl.line(fresh, "PING ok");
        assert_eq!(
            cl.take(fresh),
            [":irc.test PONG irc.test :ok"],
            "seed {seed}"
        );
    }
}
