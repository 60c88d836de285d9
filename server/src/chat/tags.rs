//! IRCv3 message tags on what the server sends: `time` (server-time),
//! `msgid` and the client-only `+tags` a sender attached (message-tags),
//! and `label` / `batch` (labeled-response). Tags are added per recipient to a line
//! built once: `Meta::render` gives each combination of caps its bytes,
//! and a fan-out builds each combination at most once per core.

use bytes::{BufMut, Bytes, BytesMut};

use super::caps::{Cap, Caps};
use super::parse::{LineBuilder, MAX_TAGS};

/// Tags that travel with an event line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// `2026-12-01T22:43:26.123Z`, or empty for none.
    pub time: Bytes,
    /// `msgid`: unique network-wide, or empty for none.
    pub id: Bytes,
    /// `+a=b;+c`, the sender's client-only tags, or empty.
    pub client: Bytes,
}

impl Meta {
    /// Stamped now with a fresh msgid, with the sender's client-only tags
    /// (if any).
    pub fn now(client: Bytes) -> Meta {
        Meta {
            time: iso8601_now(),
            id: next_msgid(),
            client,
        }
    }

    /// Server-time now, for an event without a msgid (JOIN, PART...).
    pub fn time_now() -> Bytes {
        iso8601_now()
    }

    /// Which of the four renderings a client with `caps` gets (0: none).
    pub fn variant(&self, caps: Caps) -> usize {
        let time = !self.time.is_empty() && caps.has(Cap::ServerTime);
        let tagged = !self.client.is_empty() || !self.id.is_empty();
        let client = tagged && caps.has(Cap::MessageTags);
        usize::from(time) | usize::from(client) << 1
    }

    /// `line` as a client with `caps` receives it.
    pub fn render(&self, line: &Bytes, caps: Caps) -> Bytes {
        let v = self.variant(caps);
        if v == 0 || line.is_empty() {
            return line.clone();
        }
        let mut tags = Vec::with_capacity(2);
        if v & 1 != 0 {
            tags.push([&b"time="[..], &self.time].concat());
        }
        if v & 2 != 0 && !self.id.is_empty() {
            tags.push([&b"msgid="[..], &self.id].concat());
        }
        if v & 2 != 0 && !self.client.is_empty() {
            tags.push(self.client.to_vec());
        }
        with_tags(line, &tags.join(&b';'))
    }

    /// `line` carrying these tags, as it travels between cluster nodes
    /// (`@time=..;msgid=..;+a=b line`, or `line` if there are none).
    pub fn to_wire(&self, line: &[u8]) -> Bytes {
        let mut tags: Vec<Vec<u8>> = Vec::with_capacity(3);
        if !self.time.is_empty() {
            tags.push([&b"time="[..], &self.time].concat());
        }
        if !self.id.is_empty() {
            tags.push([&b"msgid="[..], &self.id].concat());
        }
        if !self.client.is_empty() {
            tags.push(self.client.to_vec());
        }
        let line = Bytes::copy_from_slice(line);
        match tags.is_empty() {
            true => line,
            false => with_tags(&line, &tags.join(&b';')),
        }
    }

    /// The tags and the bare line of what [`Meta::to_wire`] made (a line
    /// without a tag section has none; unknown tags are dropped).
    pub fn from_wire(line: &Bytes) -> (Meta, Bytes) {
        let Some(rest) = line.strip_prefix(b"@") else {
            return (Meta::default(), line.clone());
        };
        let Some(space) = rest.iter().position(|&b| b == b' ') else {
            return (Meta::default(), line.clone());
        };
        let raw = &rest[..space];
        let value = |key: &[u8]| tag_value(Some(raw), key).map(Bytes::copy_from_slice);
        let meta = Meta {
            time: value(b"time").unwrap_or_default(),
            id: value(b"msgid").unwrap_or_default(),
            client: client_only(Some(raw)),
        };
        (meta, line.slice(1 + space + 1..))
    }
}

/// A msgid unique network-wide: this thread's random start (process id,
/// thread, clock) and a count.
fn next_msgid() -> Bytes {
    use std::cell::Cell;
    thread_local! {
        static NEXT: Cell<(u64, u64)> = Cell::new((msgid_seed(), 0));
    }
    let (seed, n) = NEXT.with(|c| {
        let (seed, n) = c.get();
        c.set((seed, n.wrapping_add(1)));
        (seed, n)
    });
    formatted(format_args!("{seed:016x}{n:x}"))
}

fn msgid_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    h.finish()
}

/// The client-only tags (`+name[=value]`) of a client's raw tag section,
/// re-joined; at most 4094 bytes of them, as the message-tags spec allows.
pub fn client_only(raw: Option<&[u8]>) -> Bytes {
    let Some(raw) = raw else {
        return Bytes::new();
    };
    let mut out = BytesMut::new();
    for t in raw.split(|&b| b == b';').filter(|t| t.starts_with(b"+")) {
        if out.len() + t.len() + 1 > 4094 {
            break;
        }
        if !out.is_empty() {
            out.put_u8(b';');
        }
        out.put_slice(t);
    }
    out.freeze()
}

/// `line` with `tags` (`a=b;c`) added to its tag section.
pub fn with_tags(line: &Bytes, tags: &[u8]) -> Bytes {
    let tags = &tags[..tags.len().min(MAX_TAGS - 2)];
    let mut b = BytesMut::with_capacity(line.len() + tags.len() + 2);
    b.put_u8(b'@');
    b.put_slice(tags);
    match line.strip_prefix(b"@") {
        Some(rest) => {
            b.put_u8(b';');
            b.put_slice(rest);
        }
        None => {
            b.put_u8(b' ');
            b.put_slice(line);
        }
    }
    b.freeze()
}

/// The tag value of `key` in a client's raw tag section (escapes kept).
pub fn tag_value<'a>(raw: Option<&'a [u8]>, key: &[u8]) -> Option<&'a [u8]> {
    raw?.split(|&b| b == b';').find_map(|t| {
        let (k, v) = match t.iter().position(|&b| b == b'=') {
            Some(i) => (&t[..i], &t[i + 1..]),
            None => (t, &b""[..]),
        };
        (k == key).then_some(v)
    })
}

/// The output of a labeled command (labeled-response): one line carries
/// the label, several go in a `labeled-response` batch, none is an ACK.
pub fn labeled(server: &str, label: &[u8], lines: Vec<Bytes>, batch: u64) -> Vec<Bytes> {
    let tag = [&b"label="[..], label].concat();
    let src = Some(server.as_bytes());
    match lines.len() {
        0 => vec![with_tags(&LineBuilder::new(src, "ACK").finish(), &tag)],
        1 => vec![with_tags(&lines[0], &tag)],
        _ => {
            let id = format!("L{batch}");
            let start = LineBuilder::new(src, "BATCH")
                .param(format!("+{id}"))
                .param("labeled-response")
                .finish();
            let mut out = vec![with_tags(&start, &tag)];
            let inner = format!("batch={id}");
            out.extend(lines.iter().map(|l| with_tags(l, inner.as_bytes())));
            out.push(
                LineBuilder::new(src, "BATCH")
                    .param(format!("-{id}"))
                    .finish(),
            );
            out
        }
    }
}

/// `args` as bytes in one allocation of their exact length (a `format!`
/// grows its String, and `Bytes::from` of a String with spare capacity
/// allocates again): these are made for every message.
fn formatted(args: std::fmt::Arguments) -> Bytes {
    use std::io::Write;
    let mut buf = [0u8; 40];
    let mut rest = &mut buf[..];
    match rest.write_fmt(args) {
        Ok(()) => {
            let len = 40 - rest.len();
            Bytes::copy_from_slice(&buf[..len])
        }
        Err(_) => Bytes::from(args.to_string()),
    }
}

fn iso8601_now() -> Bytes {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    iso8601(d.as_secs(), d.subsec_millis())
}

/// UTC `YYYY-MM-DDThh:mm:ss.mmmZ` of a Unix time (days to civil date as
/// in H. Hinnant's `civil_from_days`).
fn iso8601(secs: u64, millis: u32) -> Bytes {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    formatted(format_args!(
        "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_format_as_utc() {
        assert_eq!(iso8601(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(iso8601(1_796_165_006, 123), "2026-12-01T22:43:26.123Z");
    }

    #[test]
    fn tags_render_per_caps() {
        let meta = Meta {
            time: Bytes::from("T"),
            id: Bytes::new(),
            client: Bytes::from("+typing=active"),
        };
        let line = Bytes::from(":a PRIVMSG #c :x\r\n");
        let mut caps = Caps::default();
        assert_eq!(meta.render(&line, caps), line);
        caps.set(Cap::ServerTime, true);
        assert_eq!(
            &meta.render(&line, caps)[..],
            b"@time=T :a PRIVMSG #c :x\r\n"
        );
        caps.set(Cap::MessageTags, true);
        assert_eq!(
            &meta.render(&line, caps)[..],
            b"@time=T;+typing=active :a PRIVMSG #c :x\r\n"
        );
        let labeled = with_tags(&meta.render(&line, caps), b"label=1");
        assert!(labeled.starts_with(b"@label=1;time=T;+typing"));
    }

    #[test]
    fn labeled_output_is_a_line_a_batch_or_an_ack() {
        let text = |v: Vec<Bytes>| -> Vec<String> {
            v.iter()
                .map(|l| String::from_utf8_lossy(l).trim_end().to_string())
                .collect()
        };
        assert_eq!(text(labeled("s", b"x", vec![], 1)), ["@label=x :s ACK"]);
        let one = vec![Bytes::from(":s PONG s :t\r\n")];
        assert_eq!(text(labeled("s", b"x", one, 1)), ["@label=x :s PONG s :t"]);
        let two = vec![Bytes::from(":s 1 a\r\n"), Bytes::from("@time=T :s 2 a\r\n")];
        assert_eq!(
            text(labeled("s", b"x", two, 7)),
            [
                "@label=x :s BATCH +L7 labeled-response",
                "@batch=L7 :s 1 a",
                "@batch=L7;time=T :s 2 a",
                ":s BATCH -L7"
            ]
        );
    }

    #[test]
    fn tags_cross_the_wire_and_msgids_differ() {
        let meta = Meta::now(Bytes::from("+a=1"));
        let wire = meta.to_wire(b":a PRIVMSG #c :x y");
        assert!(wire.starts_with(b"@time="), "{wire:?}");
        assert_eq!(
            Meta::from_wire(&wire),
            (meta.clone(), Bytes::from(":a PRIVMSG #c :x y"))
        );
        let bare = Bytes::from(":a JOIN #c");
        assert_eq!(Meta::from_wire(&bare), (Meta::default(), bare.clone()));
        assert_eq!(Meta::default().to_wire(&bare), bare);
        assert_ne!(Meta::now(Bytes::new()).id, meta.id);
        let mut caps = Caps::default();
        caps.set(Cap::MessageTags, true);
        let shown = meta.render(&Bytes::from(":a PRIVMSG #c :x\r\n"), caps);
        let want = format!("@msgid={};+a=1 :a", String::from_utf8_lossy(&meta.id));
        assert!(shown.starts_with(want.as_bytes()), "{shown:?}");
    }

    #[test]
    fn only_client_tags_are_relayed() {
        let raw = Some(&b"+a=1;label=x;+b;time=bad"[..]);
        assert_eq!(&client_only(raw)[..], b"+a=1;+b");
        assert_eq!(tag_value(raw, b"label"), Some(&b"x"[..]));
        assert_eq!(tag_value(raw, b"+b"), Some(&b""[..]));
        assert_eq!(tag_value(None, b"label"), None);
    }
}
