//! A whole multi-core server in one thread, for tests: shards exchange
//! messages through per-pair FIFO queues, delivered in a seeded random
//! interleaving, so tests see the same orderings real cores can produce.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use super::config::Config;
use super::counters::Counters;
use super::framing::Frame;
use super::msg::{ClientRef, Msg};
use super::shard::Shard;

pub struct Cluster {
    pub shards: Vec<Shard>,
    /// queues[from][to]
    queues: Vec<Vec<VecDeque<Msg>>>,
    rng: u64,
}

impl Cluster {
    pub fn new(cores: usize) -> Self {
        Self::with_config(Config::new("irc.test", cores))
    }

    pub fn with_config(cfg: Config) -> Self {
        let cores = cfg.cores;
        let cfg = Arc::new(cfg);
        let counters = Arc::new(Counters::default());
        Cluster {
            shards: (0..cores)
                .map(|c| Shard::new(c, cfg.clone(), counters.clone()))
                .collect(),
            queues: (0..cores)
                .map(|_| (0..cores).map(|_| VecDeque::new()).collect())
                .collect(),
            rng: 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn rand(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn flush(&mut self, core: usize) {
        for (to, msg) in self.shards[core].flush() {
            self.queues[core][to].push_back(msg);
        }
    }

    pub fn push(&mut self, from: usize, to: usize, msg: Msg) {
        self.queues[from][to].push_back(msg);
    }

    /// Runs every shard's own outbox, then delivers everything.
    pub fn settle_all(&mut self) {
        for core in 0..self.shards.len() {
            self.flush(core);
        }
        self.settle();
    }

    /// Delivers queued messages until every queue is empty.
    pub fn settle(&mut self) {
        let n = self.shards.len();
        loop {
            let busy: Vec<(usize, usize)> = (0..n)
                .flat_map(|f| (0..n).map(move |t| (f, t)))
                .filter(|&(f, t)| !self.queues[f][t].is_empty())
                .collect();
            if busy.is_empty() {
                return;
            }
            let (f, t) = busy[(self.rand() % busy.len() as u64) as usize];
            if let Some(msg) = self.queues[f][t].pop_front() {
                self.shards[t].handle(msg);
                self.flush(t);
            }
        }
    }

    pub fn connect_raw(&mut self, core: usize) -> ClientRef {
        let id = self.shards[core].connect("127.0.0.1".into());
        ClientRef { core, id }
    }

    /// Connects and registers `nick` on `core`, discarding the welcome burst.
    pub fn connect(&mut self, core: usize, nick: &str) -> ClientRef {
        let c = self.connect_raw(core);
        self.line(c, &format!("NICK {nick}"));
        self.line(c, &format!("USER {nick} 0 * :Real {nick}"));
        let out = self.take(c);
        assert!(out.iter().any(|l| l.contains(" 001 ")), "{out:?}");
        c
    }

    pub fn input(&mut self, c: ClientRef, frame: Frame) {
        self.shards[c.core].input(c.id, frame);
        self.flush(c.core);
        self.settle();
    }

    /// Sends one line from the client and lets the server settle.
    pub fn line(&mut self, c: ClientRef, line: &str) {
        self.input(c, Frame::Line(Bytes::copy_from_slice(line.as_bytes())));
    }

    /// The lines queued for the client (CRLF included), and whether it is closing.
    pub fn bytes_out(&mut self, c: ClientRef) -> (Vec<Bytes>, bool) {
        let (out, closing) = self.shards[c.core].take_output(c.id);
        (super::outbuf::lines(&out), closing)
    }

    /// Lines queued for the client, CRLF stripped; each is checked to be
    /// one line of at most 512 bytes with no CR, LF or NUL inside.
    pub fn take(&mut self, c: ClientRef) -> Vec<String> {
        let (lines, _) = self.bytes_out(c);
        lines
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| {
                assert!(l.ends_with(b"\r\n"), "no CRLF: {l:?}");
                // The 512-byte limit counts the line without its tags.
                let untagged = match l.strip_prefix(b"@") {
                    Some(rest) => rest.splitn(2, |&b| b == b' ').nth(1).unwrap_or_default(),
                    None => &l[..],
                };
                assert!(untagged.len() <= super::parse::MAX_LINE, "over 512: {l:?}");
                let inner = &l[..l.len() - 2];
                assert!(
                    !inner.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)),
                    "CR, LF or NUL inside a line: {l:?}"
                );
                String::from_utf8_lossy(&l[..l.len() - 2]).into_owned()
            })
            .collect()
    }

    pub fn drop_conn(&mut self, c: ClientRef) {
        self.shards[c.core].close(c.id, "Connection reset");
        self.shards[c.core].remove(c.id);
        self.flush(c.core);
        self.settle();
    }
}
