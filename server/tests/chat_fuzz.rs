//! Protocol fuzzing over TCP: many connections send seeded random bytes,
//! lone CRs, LFs and NULs, invalid UTF-8, lines of 0 to 100,000 bytes, and
//! every command with 0-20 random parameters, before and after
//! registration. Throughout, a well-behaved pair of clients keeps talking;
//! every line any client receives is one line (no CR, LF or NUL inside) of
//! at most 512 bytes without its tags; the server's memory stays bounded
//! and it never goes down.

mod chat_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chat_support::{code, Client, Server};

const CONNS: usize = 24;
const ROUNDS: usize = 6;
const LINES_PER_ROUND: usize = 60;

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
    "NICK", "USER", "PASS", "CAP", "JOIN", "PART", "PRIVMSG", "NOTICE", "TAGMSG", "NAMES", "LIST",
    "TOPIC", "WHO", "WHOIS", "WHOWAS", "AWAY", "USERHOST", "ISON", "KICK", "MODE", "INVITE",
    "SETNAME", "MONITOR", "OPER", "KILL", "PING", "PONG", "LUSERS", "MOTD", "QUIT", "FROB",
];
const WORDS: &[&str] = &[
    "#fuzz",
    "#a",
    "#a,#b",
    "good1",
    "good2",
    "*",
    "0",
    ":",
    ":hi there",
    "+o",
    "-o",
    "+ovk",
    "+b",
    "+imlk",
    "5",
    "LS",
    "302",
    "REQ",
    "END",
    ":multi-prefix echo-message",
    "+",
    "-",
    "L",
    "a,b,c",
    ">1",
    "*!*@*",
    "\u{ff}",
    "",
];

/// One line (or junk) a fuzzer sends.
fn random_input(r: &mut Rng) -> Vec<u8> {
    match r.below(8) {
        0 => (0..r.below(600)).map(|_| r.next() as u8).collect(),
        1 => {
            let n = [0, 511, 512, 513, 8191, 8192, 100_000][r.below(7)];
            let mut l = b"PRIVMSG #fuzz :".to_vec();
            l.resize(n.max(l.len()), b'x');
            l.extend_from_slice(b"\r\n");
            l
        }
        2 => b"PRIVMSG #fuzz :a\rPRIVMSG good2 :b\0c\n\xff\xfe\r\n".to_vec(),
        _ => {
            let mut l = VERBS[r.below(VERBS.len())].as_bytes().to_vec();
            for _ in 0..r.below(21) {
                l.extend_from_slice(b" ");
                if r.below(6) == 0 {
                    l.extend((0..r.below(12)).map(|_| r.next() as u8));
                } else {
                    l.extend_from_slice(WORDS[r.below(WORDS.len())].as_bytes());
                }
            }
            l.extend_from_slice(if r.below(4) == 0 { b"\n" } else { b"\r\n" });
            l
        }
    }
}

/// Checks everything a connection received: whole lines, each ending in
/// CRLF with no CR, LF or NUL inside, at most 512 bytes without tags.
fn check_stream(data: &[u8], who: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.iter().position(|&b| b == b'\n') {
        let line = &rest[..=i];
        rest = &rest[i + 1..];
        let body = &line[..line.len() - 1];
        let untagged = match body.strip_prefix(b"@") {
            Some(t) => t.splitn(2, |&b| b == b' ').nth(1).unwrap_or_default(),
            None => body,
        };
        let ok = body.ends_with(b"\r")
            && !body[..body.len() - 1].iter().any(|&b| b == b'\r' || b == 0)
            // With the LF counted, at most 512.
            && untagged.len() < 512;
        if !ok {
            bad.push(format!("{who}: {:?}", String::from_utf8_lossy(line)));
        }
    }
    bad
}

fn fuzzer(addr: SocketAddr, n: usize, bad: Arc<Mutex<Vec<String>>>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let Ok(mut s) = TcpStream::connect(addr) else {
            return;
        };
        s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut reader = s.try_clone().unwrap();
        let who = format!("fuzzer {n}");
        let read = thread::spawn(move || {
            let mut all = Vec::new();
            let _ = reader.read_to_end(&mut all);
            check_stream(&all, &who)
        });
        let mut r = Rng(0x9e37_79b9_7f4a_7c15 ^ (n as u64 + 1).wrapping_mul(0x2545_f491));
        if n % 2 == 0 {
            let _ = s.write_all(format!("NICK fz{n}\r\nUSER fz 0 * :fuzz\r\n").as_bytes());
        }
        for _ in 0..ROUNDS * LINES_PER_ROUND {
            if s.write_all(&random_input(&mut r)).is_err() {
                break;
            }
        }
        let _ = s.write_all(b"QUIT :done\r\n");
        let _ = s.shutdown(std::net::Shutdown::Write);
        let found = read.join().unwrap_or_default();
        bad.lock().unwrap().extend(found);
    })
}

#[test]
fn random_input_from_many_connections_breaks_nothing() {
    let mut srv = Server::start(&["--flood-rate", "0"]);
    let mut good1 = Client::on_core(srv.addr, "good1", 0);
    let mut good2 = Client::on_core(srv.addr, "good2", 1);
    for c in [&mut good1, &mut good2] {
        c.send("JOIN #fuzz");
        c.expect(|l| code(l) == "366");
    }
    good1.sync();
    let rss_before = srv.rss_kib();
    let bad = Arc::new(Mutex::new(Vec::new()));
    let fuzzers: Vec<_> = (0..CONNS)
        .map(|n| fuzzer(srv.addr, n, bad.clone()))
        .collect();
    for round in 0..ROUNDS * 4 {
        let probe = format!("probe {round}");
        good1.send(&format!("PRIVMSG #fuzz :{probe}"));
        good2.expect(|l| l.starts_with(":good1!") && l.ends_with(&probe));
        good2.send(&format!("PRIVMSG good1 :{probe}"));
        good1.expect(|l| l.starts_with(":good2!") && l.ends_with(&probe));
        assert!(srv.alive(), "server died in round {round}");
    }
    for f in fuzzers {
        f.join().expect("fuzzer thread");
    }
    good1.send("PING after");
    good1.expect(|l| l.ends_with("PONG irc.test :after"));
    assert!(srv.alive());
    let bad = bad.lock().unwrap();
    assert!(
        bad.is_empty(),
        "{} malformed lines, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
    let grown = srv.rss_kib().saturating_sub(rss_before);
    assert!(grown < 64 * 1024, "RSS grew by {grown} KiB");
}

#[test]
fn the_line_check_catches_what_it_must() {
    assert!(check_stream(b":a PRIVMSG b :ok\r\n@t=1 :a X\r\n", "t").is_empty());
    assert_eq!(check_stream(b":a PRIVMSG b :x\ry\r\n", "t").len(), 1);
    assert_eq!(check_stream(b":a PRIVMSG b :x\0\r\n", "t").len(), 1);
    assert_eq!(check_stream(b"no cr\n", "t").len(), 1);
    let long = [vec![b'x'; 511], b"\r\n".to_vec()].concat();
    assert_eq!(check_stream(&long, "t").len(), 1);
}
