//! The payload of every message the cluster publishes: one line of six
//! space-separated fields, the last of which (an IRC line) may hold spaces.
//!
//! `KIND origin subject extra chans line`, `-` for an empty field:
//! - `MSG`: a PRIVMSG/NOTICE to a channel; `subject` is the sender (its own
//!   node does not echo it back to it).
//! - `JOIN` (`extra` = the member's flags), `PART`, `KICK` (`subject` = the
//!   user kicked, `extra` = by whom), `TOPIC`, `MODE`: a channel change.
//! - `QUIT` and `NICK` (`extra` = the new `nick!user@host`) on the network
//!   topic, with `chans` = every channel the user was in.
//! - `DIRECT`: a PRIVMSG/NOTICE to the nick `subject` (`extra` = the
//!   sender), on the inbox of the client holding the nick.
//! - `ONLINE` and `OFFLINE` on the network topic: the folded nick
//!   `subject` (`extra` = as spelled) came or went (MONITOR).

use bytes::{Bytes, BytesMut};

/// What an envelope announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Msg,
    Join,
    Part,
    Kick,
    Topic,
    Mode,
    Quit,
    Nick,
    Direct,
    Online,
    Offline,
}

impl Kind {
    fn name(self) -> &'static [u8] {
        match self {
            Kind::Msg => b"MSG",
            Kind::Join => b"JOIN",
            Kind::Part => b"PART",
            Kind::Kick => b"KICK",
            Kind::Topic => b"TOPIC",
            Kind::Mode => b"MODE",
            Kind::Quit => b"QUIT",
            Kind::Nick => b"NICK",
            Kind::Direct => b"DIRECT",
            Kind::Online => b"ONLINE",
            Kind::Offline => b"OFFLINE",
        }
    }

    fn parse(name: &[u8]) -> Option<Kind> {
        [
            Kind::Msg,
            Kind::Join,
            Kind::Part,
            Kind::Kick,
            Kind::Topic,
            Kind::Mode,
            Kind::Quit,
            Kind::Nick,
            Kind::Direct,
            Kind::Online,
            Kind::Offline,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// One published message (fields are slices of the received payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub kind: Kind,
    /// The owner id of the cluster client that published it.
    pub origin: Bytes,
    /// The nick it is about (sender, joiner, target...).
    pub subject: Bytes,
    /// Kind-specific (see the module docs); empty if none.
    pub extra: Bytes,
    /// The channels it concerns.
    pub chans: Vec<Bytes>,
    /// The IRC line to deliver, without CRLF.
    pub line: Bytes,
}

impl Envelope {
    /// Encodes the envelope; `extra` and `chans` may be empty.
    pub fn encode(
        kind: Kind,
        origin: &[u8],
        subject: &[u8],
        extra: &[u8],
        chans: &[&[u8]],
        line: &[u8],
    ) -> Bytes {
        let mut out = BytesMut::with_capacity(32 + origin.len() + subject.len() + line.len());
        for field in [kind.name(), origin, subject, extra] {
            out.extend_from_slice(if field.is_empty() { b"-" } else { field });
            out.extend_from_slice(b" ");
        }
        if chans.is_empty() {
            out.extend_from_slice(b"-");
        }
        for (i, chan) in chans.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b",");
            }
            out.extend_from_slice(chan);
        }
        out.extend_from_slice(b" ");
        out.extend_from_slice(line);
        out.freeze()
    }

    /// Decodes a payload; `None` if it is not an envelope.
    pub fn decode(payload: &Bytes) -> Option<Envelope> {
        let mut fields = Vec::with_capacity(5);
        let mut rest = 0;
        for _ in 0..5 {
            let end = rest + payload[rest..].iter().position(|&b| b == b' ')?;
            fields.push(payload.slice(rest..end));
            rest = end + 1;
        }
        let field = |i: usize| -> Bytes {
            if &fields[i][..] == b"-" {
                Bytes::new()
            } else {
                fields[i].clone()
            }
        };
        let chans = field(4);
        let chans = if chans.is_empty() {
            Vec::new()
        } else {
            chans
                .split(|&b| b == b',')
                .map(|c| chans.slice_ref(c))
                .collect()
        };
        Some(Envelope {
            kind: Kind::parse(&fields[0])?,
            origin: field(1),
            subject: field(2),
            extra: field(3),
            chans,
            line: payload.slice(rest..),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_spaces_in_the_line() {
        let wire = Envelope::encode(
            Kind::Quit,
            b"a:0:1f",
            b"bob",
            b"",
            &[b"#x", b"#y"],
            b":bob!u@h QUIT :gone for good",
        );
        assert_eq!(
            &wire[..],
            b"QUIT a:0:1f bob - #x,#y :bob!u@h QUIT :gone for good"
        );
        let e = Envelope::decode(&wire).unwrap();
        assert_eq!(e.kind, Kind::Quit);
        assert_eq!(
            (&e.origin[..], &e.subject[..], &e.extra[..]),
            (&b"a:0:1f"[..], &b"bob"[..], &b""[..])
        );
        assert_eq!(e.chans, vec![Bytes::from("#x"), Bytes::from("#y")]);
        assert_eq!(&e.line[..], b":bob!u@h QUIT :gone for good");
    }

    #[test]
    fn what_the_lua_scripts_publish_decodes() {
        let e =
            Envelope::decode(&Bytes::from_static(b"JOIN n:1:2 al @ #c :al!u@h JOIN #c")).unwrap();
        assert_eq!(
            (e.kind, &e.extra[..], e.chans.len()),
            (Kind::Join, &b"@"[..], 1)
        );
    }

    #[test]
    fn junk_is_rejected() {
        for junk in [&b""[..], b"MSG a b c", b"WHAT a b - - line"] {
            assert_eq!(Envelope::decode(&Bytes::copy_from_slice(junk)), None);
        }
    }
}
