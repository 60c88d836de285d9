//! The little IRC loadgen speaks: splitting the byte stream into lines, recognising the few
//! messages it acts on, and the PRIVMSG text that carries sender, sequence number and send time.

use std::fmt::Write as _;

/// Longest line accepted from the server (IRC allows 512 bytes, 8191 more with message tags).
pub const MAX_LINE: usize = 16 * 1024;

/// The nick of client `id`.
pub fn nick(id: u64) -> String {
    format!("lg{id}")
}

/// The name of channel `index`.
pub fn channel(index: u64) -> String {
    format!("#lg{index}")
}

/// The registration lines of client `id`.
pub fn register(id: u64) -> String {
    let n = nick(id);
    format!("NICK {n}\r\nUSER {n} 0 * :uringo loadgen {id}\r\n")
}

/// Builds `PRIVMSG <channel> :<sender> <seq> <sent_ns> xxx...` with the text padded to `size`
/// bytes (or longer, if the three numbers need more room).
pub fn privmsg(
    out: &mut String,
    channel_index: u64,
    sender: u64,
    seq: u64,
    sent_ns: u64,
    size: usize,
) {
    out.clear();
    let _ = write!(out, "PRIVMSG #lg{channel_index} :");
    let text_start = out.len();
    let _ = write!(out, "{sender} {seq} {sent_ns} ");
    let have = out.len() - text_start;
    out.extend(std::iter::repeat_n('x', size.saturating_sub(have)));
    out.push_str("\r\n");
}

/// What a PRIVMSG sent by loadgen carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub sender: u64,
    pub seq: u64,
    pub sent_ns: u64,
}

/// Reads the stamp back out of PRIVMSG text; `None` if the text is not loadgen's.
pub fn parse_stamp(text: &[u8]) -> Option<Stamp> {
    let mut rest = text;
    Some(Stamp {
        sender: take_number(&mut rest)?,
        seq: take_number(&mut rest)?,
        sent_ns: take_number(&mut rest)?,
    })
}

/// A delivery of one of loadgen's own PRIVMSGs, `:<prefix> PRIVMSG #lg<n> :<stamp>...`,
/// parsed in one pass: the channel index, the stamp and the text's length. `None` for any
/// other line, or the same with tags or unusual spacing: those go through [`parse_line`],
/// which reads every line this accepts the same way (a test checks), only slower.
pub fn parse_delivery(line: &[u8]) -> Option<(u64, Stamp, usize)> {
    let rest = line.strip_prefix(b":")?;
    let space = memchr::memchr(b' ', rest)?;
    let mut rest = rest[space + 1..].strip_prefix(b"PRIVMSG #lg")?;
    let channel = take_number(&mut rest)?;
    let text = rest.strip_prefix(b":")?;
    Some((channel, parse_stamp(text)?, text.len()))
}

/// The decimal at the start of `rest`, ended by a space or the end of `rest`, which then
/// moves past that space; `None` if there are no digits, a non-digit or overflow. One pass
/// (at millions of deliveries per second a memchr per number cost more than the digits).
fn take_number(rest: &mut &[u8]) -> Option<u64> {
    let mut n: u64 = 0;
    let mut digits = 0;
    for &b in rest.iter() {
        if b == b' ' {
            break;
        }
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        digits += 1;
    }
    if digits == 0 {
        return None;
    }
    *rest = rest.get(digits + 1..).unwrap_or_default();
    Some(n)
}

/// The channel index of `#lg<index>`.
pub fn parse_channel(target: &[u8]) -> Option<u64> {
    parse_decimal(target.strip_prefix(b"#lg")?)
}

/// A non-empty run of ASCII digits as a u64 (`None` on anything else or overflow); the hot
/// path of every delivery, so without a detour through `str`.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
            .flatten()
    })
}

/// A server line, as far as loadgen cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// 001 RPL_WELCOME: registration done.
    Welcome,
    /// PING with its token; answer with PONG.
    Ping(&'a [u8]),
    /// Someone (maybe us) joined a channel.
    Join {
        nick: &'a [u8],
        channel: &'a [u8],
    },
    Privmsg {
        target: &'a [u8],
        text: &'a [u8],
    },
    /// A numeric reply 400–599 that means the server refused something (422 ERR_NOMOTD, sent
    /// to every client of a server without a MOTD, is not one of them).
    ErrorReply(u16),
    /// ERROR: the server is closing the connection.
    Error(&'a [u8]),
    Other,
}

fn split_word(s: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b' ', s) {
        Some(i) => (&s[..i], trim_spaces(&s[i + 1..])),
        None => (s, &[]),
    }
}

fn trim_spaces(mut s: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = s {
        s = rest;
    }
    s
}

/// The first parameter and, if present, the trailing one (after " :" or the second word).
fn first_and_trailing(params: &[u8]) -> (&[u8], &[u8]) {
    if let Some(t) = params.strip_prefix(b":") {
        return (t, &[]);
    }
    let (first, rest) = split_word(params);
    let trailing = rest.strip_prefix(b":").unwrap_or(rest);
    (first, trailing)
}

/// The nick of a `nick!user@host` prefix.
fn nick_of(prefix: &[u8]) -> &[u8] {
    let end = prefix
        .iter()
        .position(|&b| b == b'!' || b == b'@')
        .unwrap_or(prefix.len());
    &prefix[..end]
}

/// Classifies one line (without its CRLF).
pub fn parse_line(line: &[u8]) -> Event<'_> {
    let mut rest = trim_spaces(line);
    if rest.starts_with(b"@") {
        rest = split_word(rest).1;
    }
    let mut prefix: &[u8] = &[];
    if let Some(p) = rest.strip_prefix(b":") {
        (prefix, rest) = split_word(p);
    }
    let (command, params) = split_word(rest);
    match command {
        b"001" => Event::Welcome,
        b"PING" => Event::Ping(first_and_trailing(params).0),
        b"JOIN" => Event::Join {
            nick: nick_of(prefix),
            channel: first_and_trailing(params).0,
        },
        b"PRIVMSG" => {
            let (target, text) = first_and_trailing(params);
            Event::Privmsg { target, text }
        }
        b"ERROR" => Event::Error(first_and_trailing(params).0),
        c if c.len() == 3 && c.iter().all(u8::is_ascii_digit) => {
            let n =
                u16::from(c[0] - b'0') * 100 + u16::from(c[1] - b'0') * 10 + u16::from(c[2] - b'0');
            if (400..600).contains(&n) && n != 422 {
                Event::ErrorReply(n)
            } else {
                Event::Other
            }
        }
        _ => Event::Other,
    }
}

/// Splits a byte stream into lines, keeping a partial line between reads.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

/// The server sent a line longer than [`MAX_LINE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTooLong;

impl LineSplitter {
    /// Calls `each` with every complete line in `partial + data` (CR/LF stripped) and keeps the
    /// unterminated rest for the next call.
    pub fn feed(&mut self, data: &[u8], mut each: impl FnMut(&[u8])) -> Result<(), LineTooLong> {
        let mut data = data;
        if !self.partial.is_empty() {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    self.partial.extend_from_slice(&data[..i]);
                    let line = std::mem::take(&mut self.partial);
                    emit(&line, &mut each);
                    self.partial = line;
                    self.partial.clear();
                    data = &data[i + 1..];
                }
                None => {
                    self.partial.extend_from_slice(data);
                    return self.check();
                }
            }
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', data) {
            emit(&data[start..end], &mut each);
            start = end + 1;
        }
        let data = &data[start..];
        self.partial.extend_from_slice(data);
        self.check()
    }

    fn check(&self) -> Result<(), LineTooLong> {
        if self.partial.len() > MAX_LINE {
            Err(LineTooLong)
        } else {
            Ok(())
        }
    }
}

fn emit(line: &[u8], each: &mut impl FnMut(&[u8])) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if !line.is_empty() {
        each(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_strictly() {
        assert_eq!(parse_decimal(b"0"), Some(0));
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal(b"18446744073709551616"), None);
        assert_eq!(parse_decimal(b""), None);
        assert_eq!(parse_decimal(b"12a"), None);
        assert_eq!(parse_decimal(b"-1"), None);
        assert_eq!(parse_channel(b"#lg42"), Some(42));
        assert_eq!(parse_channel(b"#other"), None);
    }

    #[test]
    fn privmsg_is_padded_to_size_and_parses_back() {
        let mut s = String::new();
        privmsg(&mut s, 3, 17, 42, 123_456_789, 64);
        assert!(s.starts_with("PRIVMSG #lg3 :17 42 123456789 x"));
        assert!(s.ends_with("x\r\n"));
        let text = &s["PRIVMSG #lg3 :".len()..s.len() - 2];
        assert_eq!(text.len(), 64);
        let stamp = parse_stamp(text.as_bytes()).unwrap();
        assert_eq!(
            stamp,
            Stamp {
                sender: 17,
                seq: 42,
                sent_ns: 123_456_789
            }
        );
    }

    #[test]
    fn tiny_size_still_carries_the_stamp() {
        let mut s = String::new();
        privmsg(&mut s, 0, 1, 2, 3, 1);
        assert_eq!(s, "PRIVMSG #lg0 :1 2 3 \r\n");
        assert!(parse_stamp(b"1 2 3 ").is_some());
    }

    #[test]
    fn foreign_text_has_no_stamp() {
        assert_eq!(parse_stamp(b"hello world"), None);
        assert_eq!(parse_stamp(b"1 2"), None);
        assert_eq!(parse_stamp(b""), None);
        assert_eq!(parse_stamp(b"1  2 3"), None);
        assert_eq!(parse_stamp(b"1 2 3").map(|s| s.sent_ns), Some(3));
    }

    #[test]
    fn parses_the_lines_loadgen_acts_on() {
        assert_eq!(parse_line(b":irc.local 001 lg1 :Welcome"), Event::Welcome);
        assert_eq!(parse_line(b"PING :irc.local"), Event::Ping(b"irc.local"));
        assert_eq!(parse_line(b"PING tok"), Event::Ping(b"tok"));
        assert_eq!(
            parse_line(b":lg1!lg1@127.0.0.1 JOIN #lg4"),
            Event::Join {
                nick: b"lg1",
                channel: b"#lg4"
            }
        );
        assert_eq!(
            parse_line(b":lg1!u@h JOIN :#lg4"),
            Event::Join {
                nick: b"lg1",
                channel: b"#lg4"
            }
        );
        assert_eq!(
            parse_line(b"@time=x :lg2!u@h PRIVMSG #lg0 :2 5 99 xx"),
            Event::Privmsg {
                target: b"#lg0",
                text: b"2 5 99 xx"
            }
        );
        assert_eq!(
            parse_line(b":irc.local 433 * lg1 :Nickname is already in use"),
            Event::ErrorReply(433)
        );
        assert_eq!(parse_line(b":irc.local 372 lg1 :- motd"), Event::Other);
        assert_eq!(
            parse_line(b":irc.local 422 lg1 :MOTD File is missing"),
            Event::Other
        );
        assert_eq!(
            parse_line(b"ERROR :Closing link"),
            Event::Error(b"Closing link")
        );
        assert_eq!(parse_line(b""), Event::Other);
        assert_eq!(parse_line(b":onlyprefix"), Event::Other);
    }

    /// What the general path makes of a line, as `parse_delivery` reports it.
    fn slow_delivery(line: &[u8]) -> Option<(u64, Stamp, usize)> {
        match parse_line(line) {
            Event::Privmsg { target, text } => {
                Some((parse_channel(target)?, parse_stamp(text)?, text.len()))
            }
            _ => None,
        }
    }

    #[test]
    fn the_one_pass_delivery_parser_agrees_with_the_general_one() {
        let mut sent = String::new();
        privmsg(&mut sent, 7, 12, 34, 56, 64);
        let own = format!(":lg12!lg12@127.0.0.1 {}", sent.trim_end());
        let lines: Vec<String> = vec![
            own.clone(),
            ":lg1!u@h PRIVMSG #lg0 :1 2 3".into(),
            ":lg1!u@h PRIVMSG #lg0 :1 2 3 ".into(),
            ": PRIVMSG #lg3 :1 2 3".into(),
            ":lg1!u@h  PRIVMSG #lg0 :1 2 3".into(),
            ":lg1!u@h PRIVMSG  #lg0 :1 2 3".into(),
            ":lg1!u@h PRIVMSG #lg0  :1 2 3".into(),
            ":lg1!u@h PRIVMSG #lg0 1 2 3".into(),
            ":lg1!u@h PRIVMSG #lg :1 2 3".into(),
            ":lg1!u@h PRIVMSG #lg0x :1 2 3".into(),
            ":lg1!u@h PRIVMSG #lg0 :1 2".into(),
            ":lg1!u@h PRIVMSG #lg0 :1 2 99999999999999999999".into(),
            ":lg1!u@h PRIVMSG #other :1 2 3".into(),
            ":lg1!u@h NOTICE #lg0 :1 2 3".into(),
            "@time=x :lg1!u@h PRIVMSG #lg0 :1 2 3".into(),
            "PRIVMSG #lg0 :1 2 3".into(),
            ":lg1!u@h PRIVMSG #lg0".into(),
            ":irc.local 001 lg1 :Welcome".into(),
            ":onlyprefix".into(),
        ];
        assert_eq!(
            parse_delivery(own.as_bytes()).map(|(c, s, _)| (c, s.sender, s.seq, s.sent_ns)),
            Some((7, 12, 34, 56))
        );
        for line in &lines {
            let fast = parse_delivery(line.as_bytes());
            if fast.is_some() {
                assert_eq!(fast, slow_delivery(line.as_bytes()), "{line}");
            }
        }
        // Every cut of the own line: the fast parser never accepts what the slow one reads
        // differently.
        for cut in 0..own.len() {
            let line = &own.as_bytes()[..cut];
            if let Some(fast) = parse_delivery(line) {
                assert_eq!(Some(fast), slow_delivery(line), "cut {cut}");
            }
        }
    }

    #[test]
    fn channel_names_round_trip() {
        assert_eq!(parse_channel(channel(12).as_bytes()), Some(12));
        assert_eq!(parse_channel(b"#other"), None);
        assert_eq!(
            register(5),
            "NICK lg5\r\nUSER lg5 0 * :uringo loadgen 5\r\n"
        );
    }

    #[test]
    fn splitter_handles_lines_split_anywhere() {
        let stream = b"PING :a\r\n:s 001 x :hi\r\nPRIVMSG #lg0 :1 2 3\nlast\r\n";
        for cut in 0..stream.len() {
            let mut s = LineSplitter::default();
            let mut lines = Vec::new();
            s.feed(&stream[..cut], |l| lines.push(l.to_vec())).unwrap();
            s.feed(&stream[cut..], |l| lines.push(l.to_vec())).unwrap();
            let want: Vec<&[u8]> =
                vec![b"PING :a", b":s 001 x :hi", b"PRIVMSG #lg0 :1 2 3", b"last"];
            assert_eq!(lines, want, "cut at {cut}");
        }
    }

    #[test]
    fn splitter_rejects_endless_lines() {
        let mut s = LineSplitter::default();
        let chunk = vec![b'a'; 4096];
        let mut result = Ok(());
        for _ in 0..5 {
            result = s.feed(&chunk, |_| panic!("no line expected"));
        }
        assert_eq!(result, Err(LineTooLong));
    }
}
