//! A connected client as its home core keeps it: identity, registration
//! progress, the input it has not run yet, and its outbound queue.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, DefaultHasher};
use std::task::Waker;
use std::time::Instant;

use bytes::Bytes;

/// What the client's home core knows about one of its channels (mirrored
/// from the channel owner's events, for WHOIS and QUIT).
pub struct ChanView {
    pub name: String,
    pub op: bool,
    pub voice: bool,
}

/// What to do when every pending remote request of a command has answered.
pub enum Finish {
    Lines(Vec<Bytes>),
    /// USERHOST (302), ISON (303): each target's fragment, in request
    /// order, joined into one line with this numeric.
    Joined(&'static str),
}

/// What a command collects while it waits for other cores or runs under a
/// labeled-response label. Boxed on first use and dropped once empty
/// again: most clients, most of the time, have none.
#[derive(Default)]
pub struct Collected {
    pub finish: Option<Finish>,
    /// USERHOST, ISON: the fragments answered so far.
    pub frags: Vec<(u8, String)>,
    /// labeled-response: the lines the labeled command produced so far
    /// (sent together when it completes).
    pub labeled: Vec<Bytes>,
}

pub struct Client {
    pub host: String,
    pub nick: Option<String>,
    /// `nick!user@host` once registered.
    pub prefix: String,
    pub user: Option<(String, String)>,
    pub pass: Option<Vec<u8>>,
    pub registered: bool,
    pub cap_negotiating: bool,
    pub caps: super::caps::Caps,
    /// Highest `CAP LS` version the client sent (302 gets values).
    pub cap_version: u32,
    /// Set by OPER.
    pub oper: bool,
    /// MONITOR list (folded nick -> nick as given).
    pub monitor: std::collections::BTreeMap<String, String>,
    pub away: Option<Bytes>,
    pub invisible: bool,
    pub signon: u64,
    pub last_message: u64,
    pub ping_outstanding: bool,
    /// Last input, or last PING sent: the idle clock.
    pub last_input: Instant,
    pub closing_since: Option<Instant>,
    /// Hashed with fixed keys: the map is the client's own and holds at
    /// most CHANLIMIT names, and RandomState would cost 16 bytes a client.
    pub channels: HashMap<String, ChanView, BuildHasherDefault<DefaultHasher>>,
    /// Lines received and not yet run: a command runs only after the
    /// previous one's remote requests answered, so replies keep their order.
    pub inq: VecDeque<Bytes>,
    pub inq_bytes: usize,
    pub pending: u32,
    pub collected: Option<Box<Collected>>,
    /// labeled-response: the label of the command running.
    pub label: Option<Bytes>,
    pub out: VecDeque<Bytes>,
    pub out_bytes: usize,
    /// Set once the client is quitting: nothing more is read or queued,
    /// the writer flushes what is queued and closes.
    pub closing: bool,
    pub writer: Option<Waker>,
    pub reader: Option<Waker>,
}

impl Client {
    pub fn new(host: String, now: u64) -> Self {
        Client {
            host,
            nick: None,
            prefix: String::new(),
            user: None,
            pass: None,
            registered: false,
            cap_negotiating: false,
            caps: super::caps::Caps::default(),
            cap_version: 0,
            oper: false,
            monitor: std::collections::BTreeMap::new(),
            away: None,
            invisible: false,
            signon: now,
            last_message: now,
            ping_outstanding: false,
            last_input: Instant::now(),
            closing_since: None,
            channels: HashMap::default(),
            inq: VecDeque::new(),
            inq_bytes: 0,
            pending: 0,
            collected: None,
            label: None,
            out: VecDeque::new(),
            out_bytes: 0,
            closing: false,
            writer: None,
            reader: None,
        }
    }

    pub fn collected(&mut self) -> &mut Collected {
        self.collected.get_or_insert_with(Box::default)
    }

    /// Drops the collected state once nothing is left in it.
    pub fn tidy_collected(&mut self) {
        let empty =
            |x: &Collected| x.finish.is_none() && x.frags.is_empty() && x.labeled.is_empty();
        if self.collected.as_deref().is_some_and(empty) {
            self.collected = None;
        }
    }

    pub fn nick_or_star(&self) -> &str {
        self.nick.as_deref().unwrap_or("*")
    }

    pub fn wake_writer(&mut self) {
        if let Some(w) = self.writer.take() {
            w.wake();
        }
    }

    pub fn wake_reader(&mut self) {
        if let Some(w) = self.reader.take() {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    /// Each idle client keeps one of these (boxed, in its home): rarely
    /// used state belongs behind a pointer, not inline.
    #[test]
    fn client_record_stays_compact() {
        let size = std::mem::size_of::<super::Client>();
        assert!(size <= 456, "Client is {size} bytes");
    }
}
