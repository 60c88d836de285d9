//! Who a client is: nick, user name, host and realname, kept in one
//! allocation as `nick!user@host` followed by the realname, so the prefix
//! every message carries is a slice of it. Paid per idle client: four
//! small strings and a prefix would be five allocations (at least 32
//! bytes each in malloc), this is one.

/// The parts present (bits of `Ident::has`).
const NICK: u8 = 1;
const USER: u8 = 2;
/// `nick!user@host` is set: both were there once (the nick may since have
/// been taken away by a quit, whose lines still carry the prefix).
const PREFIX: u8 = 4;

pub struct Ident {
    /// `nick!user@host` then the realname; a missing part is empty.
    text: Box<str>,
    nick_len: u16,
    user_len: u16,
    host_len: u16,
    has: u8,
}

impl Ident {
    /// A client connected from `host`, before NICK and USER.
    pub fn new(host: &str) -> Ident {
        let mut ident = Ident {
            text: Box::default(),
            nick_len: 0,
            user_len: 0,
            host_len: 0,
            has: 0,
        };
        ident.rebuild("", "", host, "");
        ident
    }

    fn rebuild(&mut self, nick: &str, user: &str, host: &str, real: &str) {
        // Each part is cut to what its length field holds (a nick is at
        // most NICKLEN, a user name 10, a host an address's text).
        let (nick, user, host) = (cut(nick), cut(user), cut(host));
        self.text = [nick, "!", user, "@", host, real].concat().into();
        self.nick_len = len16(nick);
        self.user_len = len16(user);
        self.host_len = len16(host);
    }

    fn nick_part(&self) -> &str {
        &self.text[..usize::from(self.nick_len)]
    }

    fn user_start(&self) -> usize {
        usize::from(self.nick_len) + 1
    }

    fn host_start(&self) -> usize {
        self.user_start() + usize::from(self.user_len) + 1
    }

    fn prefix_end(&self) -> usize {
        self.host_start() + usize::from(self.host_len)
    }

    fn user_part(&self) -> &str {
        &self.text[self.user_start()..self.user_start() + usize::from(self.user_len)]
    }

    fn real_part(&self) -> &str {
        &self.text[self.prefix_end()..]
    }

    pub fn host(&self) -> &str {
        &self.text[self.host_start()..self.prefix_end()]
    }

    pub fn nick(&self) -> Option<&str> {
        (self.has & NICK != 0).then(|| self.nick_part())
    }

    /// USER's user name and realname.
    pub fn user(&self) -> Option<(&str, &str)> {
        (self.has & USER != 0).then(|| (self.user_part(), self.real_part()))
    }

    /// `nick!user@host` once both NICK and USER came, "" before.
    pub fn prefix(&self) -> &str {
        if self.has & PREFIX != 0 {
            &self.text[..self.prefix_end()]
        } else {
            ""
        }
    }

    /// Sets the nick; returns the one it replaces.
    pub fn set_nick(&mut self, nick: &str) -> Option<String> {
        let old = self.nick().map(str::to_string);
        let (user, host, real) = (self.user_part(), self.host(), self.real_part());
        let (user, host, real) = (user.to_string(), host.to_string(), real.to_string());
        self.rebuild(nick, &user, &host, &real);
        self.has |= NICK;
        self.set_prefix_if_whole();
        old
    }

    /// Forgets the nick (a quit releases it); the prefix stays for the
    /// lines that announce the quit.
    pub fn take_nick(&mut self) -> Option<String> {
        let nick = self.nick().map(str::to_string);
        self.has &= !NICK;
        nick
    }

    pub fn set_user(&mut self, user: &str, real: &str) {
        let (nick, host) = (self.nick_part().to_string(), self.host().to_string());
        self.rebuild(&nick, user, &host, real);
        self.has |= USER;
        self.set_prefix_if_whole();
    }

    /// SETNAME: a new realname, once USER gave one.
    pub fn set_realname(&mut self, real: &str) {
        if let Some((user, _)) = self.user() {
            let (nick, user, host) = (self.nick_part(), user, self.host());
            let (nick, user, host) = (nick.to_string(), user.to_string(), host.to_string());
            self.rebuild(&nick, &user, &host, real);
        }
    }

    fn set_prefix_if_whole(&mut self) {
        if self.has & (NICK | USER) == NICK | USER {
            self.has |= PREFIX;
        }
    }
}

/// At most `u16::MAX` bytes, on a char boundary.
fn cut(s: &str) -> &str {
    let mut end = s.len().min(usize::from(u16::MAX));
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn len16(s: &str) -> u16 {
    u16::try_from(s.len()).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::Ident;

    #[test]
    fn parts_and_prefix_come_from_one_string() {
        let mut i = Ident::new("127.0.0.1");
        assert_eq!(
            (i.host(), i.nick(), i.user(), i.prefix()),
            ("127.0.0.1", None, None, "")
        );
        assert_eq!(i.set_nick("alice"), None);
        assert_eq!(i.prefix(), "", "no USER yet");
        i.set_user("al", "Alice Liddell");
        assert_eq!(i.prefix(), "alice!al@127.0.0.1");
        assert_eq!(i.user(), Some(("al", "Alice Liddell")));
        assert_eq!(i.set_nick("Bob").as_deref(), Some("alice"));
        assert_eq!(i.prefix(), "Bob!al@127.0.0.1");
        i.set_realname("B. Ob");
        assert_eq!(i.user(), Some(("al", "B. Ob")));
        assert_eq!((i.nick(), i.host()), (Some("Bob"), "127.0.0.1"));
    }

    #[test]
    fn a_quit_takes_the_nick_and_keeps_the_prefix() {
        let mut i = Ident::new("::1");
        i.set_user("u", "");
        i.set_nick("n");
        assert_eq!(i.take_nick().as_deref(), Some("n"));
        assert_eq!((i.nick(), i.prefix()), (None, "n!u@::1"));
    }

    /// What USER brings that a prefix cannot hold ('!', '@') lives in the
    /// realname, after the prefix: parts never bleed into each other.
    #[test]
    fn a_realname_with_separators_stays_apart() {
        let mut i = Ident::new("h");
        i.set_nick("n");
        i.set_user("u", "a!b@c d");
        assert_eq!((i.prefix(), i.user()), ("n!u@h", Some(("u", "a!b@c d"))));
    }

    /// One of these in every client record (README "Memory").
    #[test]
    fn ident_stays_small() {
        assert!(std::mem::size_of::<Ident>() <= 24);
    }
}
