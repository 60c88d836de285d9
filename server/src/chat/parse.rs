//! IRC message lines: parsing client input and building server output.
//!
//! Parsing borrows from the line and works on bytes, not `str`: IRC text is
//! not guaranteed to be UTF-8, and a PRIVMSG body is relayed unchanged.
//! Atoms are separated by one or more spaces (RFC 1459), a parameter that
//! starts with `:` (or follows 14 middle parameters) is the trailing one.

use bytes::{BufMut, Bytes, BytesMut};

/// Max line length without tags, CRLF included (RFC 1459).
pub const MAX_LINE: usize = 512;
/// Max length of the tag section (`@...` up to its space), per IRCv3.
pub const MAX_TAGS: usize = 8191;
/// RFC 1459 allows at most 15 parameters.
const MAX_PARAMS: usize = 15;

/// One parsed line; every slice points into the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// Raw tag section without the `@`, escapes still in place.
    pub tags: Option<&'a [u8]>,
    pub source: Option<&'a [u8]>,
    pub verb: &'a [u8],
    pub params: Vec<&'a [u8]>,
}

/// Parses one line (without its line ending). `None` for a line with no verb.
pub fn parse(line: &[u8]) -> Option<Message<'_>> {
    let mut rest = trim_start(line);
    let mut tags = None;
    if let Some(after) = rest.strip_prefix(b"@") {
        let (t, r) = split_word(after);
        tags = Some(t);
        rest = trim_start(r);
    }
    let mut source = None;
    if let Some(after) = rest.strip_prefix(b":") {
        let (s, r) = split_word(after);
        source = Some(s);
        rest = trim_start(r);
    }
    let (verb, mut rest) = split_word(rest);
    if verb.is_empty() {
        return None;
    }
    let mut params = Vec::new();
    loop {
        rest = trim_start(rest);
        if rest.is_empty() {
            break;
        }
        if let Some(trailing) = rest.strip_prefix(b":") {
            params.push(trailing);
            break;
        }
        if params.len() == MAX_PARAMS - 1 {
            params.push(rest);
            break;
        }
        let (p, r) = split_word(rest);
        params.push(p);
        rest = r;
    }
    Some(Message {
        tags,
        source,
        verb,
        params,
    })
}

impl Message<'_> {
    /// Tags as (key, unescaped value) pairs; a repeated key keeps its last value.
    /// The server itself ignores client tags (it offers no message-tags
    /// capability); tests/chat_parser.rs checks them against the vectors.
    #[allow(dead_code)]
    pub fn tag_list(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for item in self.tags.unwrap_or_default().split(|&b| b == b';') {
            if item.is_empty() {
                continue;
            }
            let (k, v) = match item.iter().position(|&b| b == b'=') {
                Some(i) => (&item[..i], unescape_tag(&item[i + 1..])),
                None => (item, Vec::new()),
            };
            match out.iter_mut().find(|(key, _)| key == k) {
                Some(slot) => slot.1 = v,
                None => out.push((k.to_vec(), v)),
            }
        }
        out
    }

    /// Parameter `i` as UTF-8, if present and valid.
    pub fn param_str(&self, i: usize) -> Option<&str> {
        self.params.get(i).and_then(|p| std::str::from_utf8(p).ok())
    }
}

#[allow(dead_code)]
fn unescape_tag(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut it = v.iter();
    while let Some(&b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match it.next() {
            Some(b':') => out.push(b';'),
            Some(b's') => out.push(b' '),
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(&other) => out.push(other),
            None => {}
        }
    }
    out
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| b == b' ').count();
    &s[n..]
}

fn split_word(s: &[u8]) -> (&[u8], &[u8]) {
    match s.iter().position(|&b| b == b' ') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, &[]),
    }
}

/// The longest line a client may send, line ending included: 512, plus the
/// tag section when the line starts with `@`.
pub fn max_len_for(line_start: &[u8]) -> usize {
    if line_start.first() == Some(&b'@') {
        MAX_LINE + MAX_TAGS
    } else {
        MAX_LINE
    }
}

/// Builds one outbound line: `[:source] VERB p1 p2 :last\r\n`.
///
/// Whatever the parameters hold, the line is one line of at most 512
/// bytes: CR, LF and NUL are dropped from every part (nothing a client
/// sent can end a line the server writes), a middle parameter stops at its
/// first space, and the line is cut to 510 bytes before its CRLF (at a
/// UTF-8 character boundary when the text is UTF-8).
pub struct LineBuilder {
    buf: BytesMut,
}

/// Bytes that may never appear inside a line.
fn forbidden(b: u8) -> bool {
    matches!(b, b'\r' | b'\n' | 0)
}

impl LineBuilder {
    pub fn new(source: Option<&[u8]>, verb: &str) -> Self {
        let mut b = LineBuilder {
            buf: BytesMut::with_capacity(64),
        };
        if let Some(s) = source {
            b.buf.put_u8(b':');
            b.put_word(s);
            b.buf.put_u8(b' ');
        }
        b.put_word(verb.as_bytes());
        b
    }

    fn put_word(&mut self, w: &[u8]) {
        let end = w.iter().position(|&b| b == b' ').unwrap_or(w.len());
        self.put_text(&w[..end]);
    }

    fn put_text(&mut self, t: &[u8]) {
        if t.iter().any(|&b| forbidden(b)) {
            self.buf
                .extend(t.iter().copied().filter(|&b| !forbidden(b)));
        } else {
            self.buf.put_slice(t);
        }
    }

    /// A middle parameter (no spaces, not starting with ':'); an empty one
    /// is written as `*` so the parameter count stays right.
    pub fn param(mut self, p: impl AsRef<[u8]>) -> Self {
        let p = p.as_ref();
        self.buf.put_u8(b' ');
        match p.first() {
            None | Some(b' ') => self.buf.put_u8(b'*'),
            Some(b':') => {
                self.buf.put_u8(b'*');
                self.put_word(p);
            }
            Some(_) => self.put_word(p),
        }
        self
    }

    /// The last parameter, always written with a leading ':'.
    pub fn trailing(mut self, p: impl AsRef<[u8]>) -> Bytes {
        self.buf.put_slice(b" :");
        self.put_text(p.as_ref());
        self.finish()
    }

    pub fn finish(mut self) -> Bytes {
        let max = MAX_LINE - 2;
        if self.buf.len() > max {
            let mut cut = max;
            // Back off over UTF-8 continuation bytes (at most 3).
            while cut > max - 3 && self.buf[cut] & 0xc0 == 0x80 {
                cut -= 1;
            }
            self.buf.truncate(cut);
        }
        self.buf.put_slice(b"\r\n");
        self.buf.freeze()
    }
}

/// A client-supplied word echoed back in a numeric (an unknown verb, a
/// missing nick or channel): its first word, at most 64 bytes, so a reply
/// stays well within 512 bytes and keeps its parameter count.
pub fn echo_word(w: &[u8]) -> &[u8] {
    let end = w
        .iter()
        .position(|&b| b == b' ' || forbidden(b))
        .unwrap_or(w.len());
    let mut n = end.min(64);
    while n < end && n > 60 && w[n] & 0xc0 == 0x80 {
        n -= 1;
    }
    &w[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_prefix_verb_params() {
        let m = parse(b":n!u@h PRIVMSG #c :hi there").unwrap();
        assert_eq!(m.source, Some(&b"n!u@h"[..]));
        assert_eq!(m.verb, b"PRIVMSG");
        assert_eq!(m.params, vec![&b"#c"[..], b"hi there"]);
    }

    #[test]
    fn blank_and_source_only_lines_have_no_verb() {
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"   "), None);
        assert_eq!(parse(b":src"), None);
        assert_eq!(parse(b"@a=b"), None);
    }

    #[test]
    fn non_utf8_params_survive() {
        let m = parse(b"PRIVMSG x :\xff\xfe ok").unwrap();
        assert_eq!(m.params[1], b"\xff\xfe ok");
        assert_eq!(m.param_str(1), None);
    }

    #[test]
    fn fifteenth_param_takes_the_rest() {
        let line = b"V 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16";
        let m = parse(line).unwrap();
        assert_eq!(m.params.len(), 15);
        assert_eq!(m.params[14], b"15 16");
    }

    #[test]
    fn builder_writes_crlf_and_colon() {
        let l = LineBuilder::new(Some(b"srv"), "001")
            .param("nick")
            .trailing("Welcome");
        assert_eq!(&l[..], b":srv 001 nick :Welcome\r\n");
        assert_eq!(&LineBuilder::new(None, "PING").finish()[..], b"PING\r\n");
    }

    #[test]
    fn builder_never_writes_a_line_break_or_an_overlong_line() {
        let l = LineBuilder::new(Some(b"a\rb"), "PRIVMSG")
            .param("#c\r\nx y")
            .trailing("hi\r:x!y@z PRIVMSG #c :forged\0\n");
        assert_eq!(&l[..], b":ab PRIVMSG #cx :hi:x!y@z PRIVMSG #c :forged\r\n");
        let long = LineBuilder::new(Some(b"srv"), "NOTICE")
            .param("x")
            .trailing("é".repeat(400));
        assert_eq!(&long[long.len() - 2..], b"\r\n");
        assert!(long.len() <= MAX_LINE, "{}", long.len());
        assert!(std::str::from_utf8(&long).is_ok(), "cut at a char boundary");
        assert_eq!(
            &LineBuilder::new(None, "X").param("").param(":a").finish()[..],
            b"X * *:a\r\n"
        );
    }

    #[test]
    fn echoed_words_are_short_and_single() {
        assert_eq!(echo_word(b"FOO bar"), b"FOO");
        assert_eq!(echo_word(b"a\rb"), b"a");
        assert_eq!(echo_word(&[b'x'; 300]).len(), 64);
    }

    #[test]
    fn tag_limits() {
        assert_eq!(max_len_for(b"@a=b PRIVMSG"), MAX_LINE + MAX_TAGS);
        assert_eq!(max_len_for(b"PRIVMSG"), MAX_LINE);
    }
}
