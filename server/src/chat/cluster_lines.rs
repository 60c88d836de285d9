//! Clustered (`--cluster`): the lines a channel's view decides here
//! (PRIVMSG, NOTICE, TAGMSG, and the AWAY/SETNAME notifications) go
//! through the channel's Redis topic, and every node (the sender's own
//! included) writes them to its members from there, in the one order in
//! which Redis also publishes the JOIN, PART, KICK, TOPIC and MODE its
//! scripts decide (`channels_cluster`).
//!
//! What stays immediate on the sender's node is what answers the sender:
//! a labeled PRIVMSG's echo, inside its label (and, where a line of the
//! view names the requester or a KICK victim, that line). An unlabeled
//! echo (echo-message) comes back through the topic like everyone's
//! copy, with the same tags.
//!
//! On the wire the line carries its tags (`time`, `msgid`, client-only
//! `+tags`) and two of this server's own: `uringo/except=CORE.ID` (the
//! member of the publishing node that got it already) and
//! `uringo/alt=CAP` with a second line after a `\n` (what members with
//! that cap get instead: extended-join, away-notify, TAGMSG).

use bytes::{Bytes, BytesMut};

use super::bridge::{with_crlf, ClusterReq};
use super::caps::Cap;
use super::casemap::fold;
use super::channel::{Channel, Effects};
use super::mail::Mail;
use super::msg::{Change, ClientRef, Event, Req};
use super::tags::{tag_value, with_tags, Meta};
use crate::cluster::Envelope;

const EXCEPT: &[u8] = b"uringo/except";
const ALT: &[u8] = b"uringo/alt";

/// Publishes `fx`'s member lines on `key`'s topic and keeps, for the
/// members here, only what the requester (and a KICK victim) must see at
/// once. `is_msg`: a PRIVMSG/NOTICE/TAGMSG; `labeled`: the sender waits
/// for its answer (the echo then stays in it).
pub fn publish(
    key: &str,
    req: &Req,
    fx: &mut Effects,
    is_msg: bool,
    labeled: bool,
    mail: &mut Mail,
) {
    let sender = fold(&req.nick);
    let actor = req.from;
    let mut now: Option<Bytes> = None;
    for d in &mut fx.deliveries {
        let e = &mut d.event;
        if e.ops_only || e.line.is_empty() && e.alt.is_none() {
            continue;
        }
        if e.meta.time.is_empty() {
            e.meta.time = now.get_or_insert_with(Meta::time_now).clone();
        }
        let mut at_once = Vec::new();
        if e.except != Some(actor) && (!is_msg || labeled) {
            at_once.push(actor);
        }
        if let Change::Leave { who } = e.change {
            if who != actor {
                at_once.push(who);
            }
        }
        // An unlabeled echo comes back through the topic to the sender too.
        let echo_later = is_msg && !labeled && e.except.is_none();
        let except = (!echo_later).then_some(actor);
        let line = to_wire(e, except);
        let (chan, sender) = (key.to_string(), sender.clone());
        mail.send_cluster(ClusterReq::Publish { chan, sender, line });
        if at_once.is_empty() {
            e.line = Bytes::new();
            e.alt = None;
        }
        e.only = at_once;
    }
    fx.deliveries.retain(|d| {
        !d.event.line.is_empty() || d.event.alt.is_some() || d.event.change != Change::None
    });
}

/// The effects of a line from `ch`'s topic for the members here. `own`:
/// this node published it (its `uringo/except` member got it already).
pub fn relay(ch: &Channel, env: &Envelope, own: bool, dedup: Option<u64>) -> Effects {
    let wire = from_wire(&env.line);
    let sender = String::from_utf8_lossy(&env.subject);
    let mut fx = ch.relay(wire.line, &sender, dedup);
    if let Some(d) = fx.deliveries.first_mut() {
        if own {
            d.event.except = wire.except;
        }
        d.event.meta = wire.meta;
        d.event.alt = wire.alt;
    }
    fx
}

/// A line from a channel's topic, taken apart.
#[derive(Debug, PartialEq, Eq)]
struct Wire {
    meta: Meta,
    /// With its CRLF; empty if only `alt`'s members get anything.
    line: Bytes,
    alt: Option<(Cap, Bytes)>,
    except: Option<ClientRef>,
}

fn from_wire(wire: &Bytes) -> Wire {
    let (meta, line) = Meta::from_wire(wire);
    let raw = tags_of(wire);
    let (line, alt) = match line.iter().position(|&b| b == b'\n') {
        Some(i) => (line.slice(..i), Some(line.slice(i + 1..))),
        None => (line, None),
    };
    let alt_cap = tag_value(raw, ALT).and_then(|c| Cap::from_name(&String::from_utf8_lossy(c)));
    Wire {
        meta,
        line: if line.is_empty() {
            line
        } else {
            with_crlf(&line)
        },
        alt: alt_cap.zip(alt).map(|(cap, l)| (cap, with_crlf(&l))),
        except: tag_value(raw, EXCEPT).and_then(parse_ref),
    }
}

/// `e`'s line and alternative as they travel (see the module docs).
pub fn to_wire(e: &Event, except: Option<ClientRef>) -> Bytes {
    let trim = |l: &Bytes| -> Bytes {
        let n = l.len() - usize::from(l.ends_with(b"\r\n")) * 2;
        l.slice(..n)
    };
    let mut own: Vec<u8> = Vec::new();
    if let Some(who) = except {
        own.extend_from_slice(format!("uringo/except={}.{}", who.core, who.id).as_bytes());
    }
    let mut out = BytesMut::from(&e.meta.to_wire(&trim(&e.line))[..]);
    if let Some((cap, alt)) = &e.alt {
        if !own.is_empty() {
            own.push(b';');
        }
        own.extend_from_slice(format!("uringo/alt={}", cap.name()).as_bytes());
        out.extend_from_slice(b"\n");
        out.extend_from_slice(&trim(alt));
    }
    match own.is_empty() {
        true => out.freeze(),
        false => with_tags(&out.freeze(), &own),
    }
}

/// The raw tag section of a wire line, if any.
fn tags_of(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"@")?;
    Some(&rest[..rest.iter().position(|&b| b == b' ')?])
}

/// `CORE.ID` as a client of this node.
fn parse_ref(v: &[u8]) -> Option<ClientRef> {
    let (core, id) = std::str::from_utf8(v).ok()?.split_once('.')?;
    Some(ClientRef {
        core: core.parse().ok()?,
        id: id.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_cross_the_wire_with_tags_alternative_and_exception() {
        let who = ClientRef { core: 1, id: 42 };
        let mut fx = Effects::default();
        let e = fx.deliver(vec![0], Bytes::from(":a!u@h JOIN #c\r\n"), Change::None);
        e.meta = Meta::now(Bytes::from("+x=1"));
        e.alt = Some((Cap::ExtendedJoin, Bytes::from(":a!u@h JOIN #c * :A\r\n")));
        let e = &fx.deliveries[0].event;
        let wire = to_wire(e, Some(who));
        assert!(wire.starts_with(b"@uringo/except=1.42;uringo/alt=extended-join;time="));
        let back = from_wire(&wire);
        assert_eq!(
            back,
            Wire {
                meta: e.meta.clone(),
                line: e.line.clone(),
                alt: e.alt.clone(),
                except: Some(who),
            }
        );
        // TAGMSG: only the alternative, no exception; a bare line is itself.
        let mut fx = Effects::default();
        let e = fx.deliver(vec![0], Bytes::new(), Change::None);
        e.alt = Some((Cap::MessageTags, Bytes::from(":a!u@h TAGMSG #c\r\n")));
        let back = from_wire(&to_wire(&fx.deliveries[0].event, None));
        assert_eq!((back.line, back.except), (Bytes::new(), None));
        assert_eq!(back.alt.map(|a| a.0), Some(Cap::MessageTags));
        let bare = from_wire(&Bytes::from(":a!u@h PART #c"));
        assert_eq!(
            (&bare.line[..], bare.alt),
            (&b":a!u@h PART #c\r\n"[..], None)
        );
    }

    #[test]
    fn junk_from_redis_is_not_trusted() {
        for junk in [
            "@uringo/except=x.1 :a PART #c",
            "@uringo/alt=nope :a\n:b",
            "@",
            "\n",
        ] {
            let w = from_wire(&Bytes::from(junk));
            assert_eq!((w.except, w.alt), (None, None), "{junk}");
        }
    }
}
