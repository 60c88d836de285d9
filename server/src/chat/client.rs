//! A connected client as its home core keeps it: identity, registration
//! progress, the input it has not run yet, and its outbound queue.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, DefaultHasher, Hash};
use std::task::Waker;
use std::time::Instant;

use bytes::Bytes;

use super::ident::Ident;

/// What the client's home core knows about one of its channels (mirrored
/// from the channel owner's events, for WHOIS and QUIT).
pub struct ChanView {
    pub name: String,
    pub op: bool,
    pub voice: bool,
}

type ChanMap = HashMap<String, ChanView, BuildHasherDefault<DefaultHasher>>;

/// The client's channels (folded name -> view), as a map's methods. Boxed
/// while there are any and dropped when the last is left, so a client in
/// none pays one pointer. Hashed with fixed keys: the map is the client's
/// own and holds at most CHANLIMIT names.
#[derive(Default)]
pub struct Channels(Option<Box<ChanMap>>);

impl Channels {
    pub fn contains_key<Q>(&self, folded: &Q) -> bool
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.as_ref().is_some_and(|m| m.contains_key(folded))
    }

    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |m| m.len())
    }

    pub fn get<Q>(&self, folded: &Q) -> Option<&ChanView>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.as_ref()?.get(folded)
    }

    pub fn get_mut<Q>(&mut self, folded: &Q) -> Option<&mut ChanView>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.as_mut()?.get_mut(folded)
    }

    pub fn insert(&mut self, folded: String, view: ChanView) -> Option<ChanView> {
        self.0.get_or_insert_with(Box::default).insert(folded, view)
    }

    pub fn remove<Q>(&mut self, folded: &Q) -> Option<ChanView>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let view = self.0.as_mut()?.remove(folded);
        if self.0.as_ref().is_some_and(|m| m.is_empty()) {
            self.0 = None;
        }
        view
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().flat_map(|m| m.keys())
    }

    pub fn values(&self) -> impl Iterator<Item = &ChanView> {
        self.0.iter().flat_map(|m| m.values())
    }

    /// Empties the list, returning what it had.
    pub fn drain(&mut self) -> impl Iterator<Item = (String, ChanView)> {
        self.0.take().into_iter().flat_map(|m| m.into_iter())
    }
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
    /// Nick, user name, host and realname, and the prefix they make.
    ident: Ident,
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
    /// Wall-clock seconds (u32 lasts until 2106; a u64 pair would cost 8
    /// bytes a client).
    signon: u32,
    last_message: u32,
    /// Last input, or last PING sent: the idle clock.
    pub last_input: Instant,
    pub channels: Channels,
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
            ident: Ident::new(&host),
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
            signon: secs32(now),
            last_message: secs32(now),
            last_input: Instant::now(),
            channels: Channels::default(),
            inq: VecDeque::new(),
            out: Vec::new(),
            collected: None,
            extra: None,
            waker: None,
        }
    }

    /// When the client connected, in wall-clock seconds.
    pub fn signon(&self) -> u64 {
        self.signon.into()
    }

    /// When the client last sent a message, in wall-clock seconds.
    pub fn last_message(&self) -> u64 {
        self.last_message.into()
    }

    /// The client sent a message (PRIVMSG, NOTICE) at `now`.
    pub fn messaged(&mut self, now: u64) {
        self.last_message = secs32(now);
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
        self.ident.user().unwrap_or(("", ""))
    }

    pub fn has_user(&self) -> bool {
        self.ident.user().is_some()
    }

    pub fn set_user(&mut self, user: &str, realname: &str) {
        self.ident.set_user(user, realname);
    }

    /// SETNAME (once USER gave a realname).
    pub fn set_realname(&mut self, realname: &str) {
        self.ident.set_realname(realname);
    }

    pub fn host(&self) -> &str {
        self.ident.host()
    }

    pub fn nick(&self) -> Option<&str> {
        self.ident.nick()
    }

    pub fn nick_or_star(&self) -> &str {
        self.nick().unwrap_or("*")
    }

    /// Sets the nick; returns the one it replaces.
    pub fn set_nick(&mut self, nick: &str) -> Option<String> {
        self.ident.set_nick(nick)
    }

    /// A quit releases the nick; the prefix stays for its lines.
    pub fn take_nick(&mut self) -> Option<String> {
        self.ident.take_nick()
    }

    /// `nick!user@host` once NICK and USER came ("" before).
    pub fn prefix(&self) -> &str {
        self.ident.prefix()
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

    /// Output came: true if the writer waited for it (once per wait); the
    /// caller then wakes the task (`wake`), now or with others (`due`).
    pub fn writer_due(&mut self) -> bool {
        std::mem::take(&mut self.writer_waits)
    }

    pub fn wake_reader(&mut self) {
        if self.reader_waits {
            self.wake();
        }
    }

    /// Wakes the task; both halves look again, and wait again if need be.
    /// The waker stays: the task is woken through it also when neither
    /// half waits here (`wake_task`).
    pub fn wake(&mut self) {
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

fn secs32(secs: u64) -> u32 {
    u32::try_from(secs).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    /// Each idle client keeps one of these (boxed, in its home): rarely
    /// used state belongs behind a pointer, not inline.
    #[test]
    fn client_record_stays_compact() {
        let size = std::mem::size_of::<super::Client>();
        // 256 before the names shared one allocation (Ident), the channel
        // map was boxed and the wall-clock times became u32: 168 + malloc's
        // 8-byte header is its 176-byte class.
        assert!(size <= 168, "Client is {size} bytes");
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

    /// A client's channel map exists while it is in a channel.
    #[test]
    fn channel_map_goes_with_the_last_channel() {
        let mut c = super::Client::new("127.0.0.1".into(), 0);
        let view = |name: &str| super::ChanView {
            name: name.into(),
            op: false,
            voice: false,
        };
        c.channels.insert("#a".into(), view("#A"));
        c.channels.insert("#b".into(), view("#b"));
        assert!(c.channels.contains_key("#a") && c.channels.len() == 2);
        assert_eq!(
            c.channels.remove("#a").map(|v| v.name).as_deref(),
            Some("#A")
        );
        assert!(c.channels.0.is_some());
        assert_eq!(
            c.channels.remove("#b").map(|v| v.name).as_deref(),
            Some("#b")
        );
        assert!(c.channels.0.is_none() && c.channels.keys().next().is_none());
        c.channels.insert("#c".into(), view("#c"));
        let drained: Vec<String> = c.channels.drain().map(|(k, _)| k).collect();
        assert_eq!(
            (drained, c.channels.0.is_none()),
            (vec!["#c".to_string()], true)
        );
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
