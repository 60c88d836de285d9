//! A connected client as its home core keeps it: identity, registration
//! progress, the input it has not run yet, and its outbound queue.

use std::collections::{BTreeMap, HashMap, VecDeque};
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
    /// labeled-response: the label of the command running.
    pub label: Option<Bytes>,
    /// labeled-response: the lines the labeled command produced so far
    /// (sent together when it completes).
    pub labeled: Vec<Bytes>,
}

/// What few clients keep for long: boxed on first use, dropped once
/// empty again, so an idle client without any pays one pointer.
#[derive(Default)]
struct Extra {
    /// PASS, until registration.
    pass: Option<Vec<u8>>,
    /// MONITOR list (folded nick -> nick as given).
    monitor: BTreeMap<String, String>,
    away: Option<Bytes>,
    closing_since: Option<Instant>,
}

impl Extra {
    fn is_empty(&self) -> bool {
        self.pass.is_none()
            && self.monitor.is_empty()
            && self.away.is_none()
            && self.closing_since.is_none()
    }
}

static NO_MONITOR: BTreeMap<String, String> = BTreeMap::new();

/// One of these per connected client, boxed in its home's table: every
/// byte is paid per idle client (README "Memory"), so strings are boxed
/// `str`s and what few clients use sits behind `Collected` or `Extra`.
pub struct Client {
    pub host: Box<str>,
    pub nick: Option<Box<str>>,
    /// `nick!user@host` once registered.
    pub prefix: Box<str>,
    /// USER's user name and realname.
    pub user: Option<(Box<str>, Box<str>)>,
    pub caps: super::caps::Caps,
    pub pending: u32,
    /// Bytes of `inq` and `out` (each at most a few MiB: INQ_LIMIT, sendq).
    pub inq_bytes: u32,
    pub out_bytes: u32,
    pub registered: bool,
    pub cap_negotiating: bool,
    /// Set by OPER.
    pub oper: bool,
    pub invisible: bool,
    pub ping_outstanding: bool,
    /// Set once the client is quitting: nothing more is read or queued,
    /// the writer flushes what is queued and closes.
    pub closing: bool,
    /// Which halves of the connection's task wait for `waker`.
    reader_waits: bool,
    writer_waits: bool,
    pub signon: u64,
    pub last_message: u64,
    /// Last input, or last PING sent: the idle clock.
    pub last_input: Instant,
    /// Hashed with fixed keys: the map is the client's own and holds at
    /// most CHANLIMIT names, and RandomState would cost 16 bytes a client.
    pub channels: HashMap<String, ChanView, BuildHasherDefault<DefaultHasher>>,
    /// Lines received and not yet run: a command runs only after the
    /// previous one's remote requests answered, so replies keep their order.
    pub inq: VecDeque<Bytes>,
    /// Whole lines waiting for the writer, back to back (see `outbuf`).
    pub out: Vec<u8>,
    pub collected: Option<Box<Collected>>,
    extra: Option<Box<Extra>>,
    /// The connection's one task (its reader and writer halves).
    waker: Option<Waker>,
}

impl Client {
    pub fn new(host: String, now: u64) -> Self {
        Client {
            host: host.into(),
            nick: None,
            prefix: Box::default(),
            user: None,
            caps: super::caps::Caps::default(),
            pending: 0,
            inq_bytes: 0,
            out_bytes: 0,
            registered: false,
            cap_negotiating: false,
            oper: false,
            invisible: false,
            ping_outstanding: false,
            closing: false,
            reader_waits: false,
            writer_waits: false,
            signon: now,
            last_message: now,
            last_input: Instant::now(),
            channels: HashMap::default(),
            inq: VecDeque::new(),
            out: Vec::new(),
            collected: None,
            extra: None,
            waker: None,
        }
    }

    pub fn collected(&mut self) -> &mut Collected {
        self.collected.get_or_insert_with(Box::default)
    }

    /// Drops the collected state once nothing is left in it.
    pub fn tidy_collected(&mut self) {
        let empty = |x: &Collected| {
            x.finish.is_none() && x.frags.is_empty() && x.labeled.is_empty() && x.label.is_none()
        };
        if self.collected.as_deref().is_some_and(empty) {
            self.collected = None;
        }
    }

    /// labeled-response: the label of the command running.
    pub fn label(&self) -> Option<&Bytes> {
        self.collected.as_ref()?.label.as_ref()
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    fn tidy_extra(&mut self) {
        if self.extra.as_deref().is_some_and(Extra::is_empty) {
            self.extra = None;
        }
    }

    pub fn pass(&self) -> Option<&[u8]> {
        self.extra.as_ref()?.pass.as_deref()
    }

    /// `None` forgets it (once registered, it is no longer needed).
    pub fn set_pass(&mut self, pass: Option<Vec<u8>>) {
        self.extra().pass = pass;
        self.tidy_extra();
    }

    pub fn away(&self) -> Option<&Bytes> {
        self.extra.as_ref()?.away.as_ref()
    }

    pub fn set_away(&mut self, away: Option<Bytes>) {
        self.extra().away = away;
        self.tidy_extra();
    }

    /// Since when the client is closing (set by `mark_closing`).
    pub fn closing_since(&self) -> Option<Instant> {
        self.extra.as_ref()?.closing_since
    }

    pub fn mark_closing(&mut self, now: Instant) {
        self.closing = true;
        self.extra().closing_since = Some(now);
    }

    pub fn monitor(&self) -> &BTreeMap<String, String> {
        self.extra.as_ref().map_or(&NO_MONITOR, |x| &x.monitor)
    }

    pub fn monitor_insert(&mut self, folded: String, nick: String) {
        self.extra().monitor.insert(folded, nick);
    }

    pub fn monitor_remove(&mut self, folded: &str) -> Option<String> {
        let nick = self.extra.as_mut()?.monitor.remove(folded);
        self.tidy_extra();
        nick
    }

    /// Empties the MONITOR list; returns the nicks it had.
    pub fn take_monitor(&mut self) -> Vec<String> {
        let Some(x) = self.extra.as_mut() else {
            return Vec::new();
        };
        let nicks = std::mem::take(&mut x.monitor).into_values().collect();
        self.tidy_extra();
        nicks
    }

    /// USER's user name and realname ("" before USER).
    pub fn user_real(&self) -> (&str, &str) {
        self.user.as_ref().map_or(("", ""), |(u, r)| (u, r))
    }

    pub fn nick_or_star(&self) -> &str {
        self.nick.as_deref().unwrap_or("*")
    }

    /// The reader half waits for the shard to take more input.
    pub fn reader_wait(&mut self, w: &Waker) {
        self.reader_waits = true;
        self.set_waker(w);
    }

    /// The writer half waits for output.
    pub fn writer_wait(&mut self, w: &Waker) {
        self.writer_waits = true;
        self.set_waker(w);
    }

    fn set_waker(&mut self, w: &Waker) {
        if !self.waker.as_ref().is_some_and(|old| old.will_wake(w)) {
            self.waker = Some(w.clone());
        }
    }

    pub fn wake_writer(&mut self) {
        if self.writer_waits {
            self.wake();
        }
    }

    pub fn wake_reader(&mut self) {
        if self.reader_waits {
            self.wake();
        }
    }

    /// Wakes the task; both halves look again, and wait again if need be.
    /// The waker stays: the task is woken through it also when neither
    /// half waits here (`wake_task`).
    fn wake(&mut self) {
        self.reader_waits = false;
        self.writer_waits = false;
        self.wake_task();
    }

    /// Wakes the connection's task whatever it waits for (a socket to
    /// shut down). Its writer waits here first thing, so the waker is set.
    pub fn wake_task(&self) {
        if let Some(w) = &self.waker {
            w.wake_by_ref();
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
        assert!(size <= 256, "Client is {size} bytes");
    }

    /// The record's rare parts cost nothing once they are empty again.
    #[test]
    fn rare_parts_are_let_go() {
        let mut c = super::Client::new("127.0.0.1".into(), 0);
        c.set_pass(Some(b"secret".to_vec()));
        c.set_away(Some(bytes::Bytes::from_static(b"lunch")));
        c.monitor_insert("bob".into(), "Bob".into());
        assert_eq!(c.take_monitor(), ["Bob"]);
        c.set_away(None);
        assert!(c.extra.is_some(), "the password is still kept");
        c.set_pass(None);
        assert!(c.extra.is_none());
        c.collected().label = Some(bytes::Bytes::from_static(b"L1"));
        c.collected.as_mut().and_then(|x| x.label.take());
        c.tidy_collected();
        assert!(c.collected.is_none());
    }

    /// Both halves of the connection share the task's one waker, and each
    /// wakes it only when that half waits.
    #[test]
    fn each_half_wakes_the_task_only_when_it_waits() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        struct Count(AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(count.clone());
        let mut c = super::Client::new("127.0.0.1".into(), 0);
        c.writer_wait(&waker);
        c.wake_reader();
        assert_eq!(
            count.0.load(Ordering::Relaxed),
            0,
            "the reader did not wait"
        );
        c.wake_writer();
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        c.wake_writer();
        assert_eq!(count.0.load(Ordering::Relaxed), 1, "woken once per wait");
        c.reader_wait(&waker);
        c.writer_wait(&waker);
        c.wake_reader();
        c.wake_writer();
        assert_eq!(count.0.load(Ordering::Relaxed), 2, "one wake serves both");
    }
}
