//! What a channel operation did, for its owner to carry out: lines to fan
//! out to member cores (each with the membership change it brings), replies
//! to the requester, and nicks whose existence only their owner knows.

use bytes::Bytes;

use crate::chat::msg::{Change, Event};
use crate::chat::tags::Meta;

/// One event for the members on `cores`.
#[derive(Debug, PartialEq, Eq)]
pub struct Delivery {
    pub cores: Vec<usize>,
    pub event: Event,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    pub deliveries: Vec<Delivery>,
    pub replies: Vec<Bytes>,
    /// MODE +o/+v targets not in the channel: 441 if the nick exists,
    /// else 401; the nick owners add the line before the answer goes.
    pub absent: Vec<String>,
    /// The requester expects no answer (QUIT, nick change, away update).
    pub unanswered: bool,
    /// INVITE: (target nick, INVITE line, channel name) to pass on to the
    /// target through the nick registry, which answers instead.
    pub forward: Option<(String, Bytes, String)>,
}

impl Effects {
    pub fn reply(line: Bytes) -> Effects {
        Effects {
            replies: vec![line],
            ..Effects::default()
        }
    }

    pub fn replies(lines: Vec<Bytes>) -> Effects {
        Effects {
            replies: lines,
            ..Effects::default()
        }
    }

    /// Nothing to send, nothing to answer.
    pub fn unanswered() -> Effects {
        Effects {
            unanswered: true,
            ..Effects::default()
        }
    }

    /// Adds `line` for the members on `cores`; the caller may set the
    /// rest of the event through the returned reference.
    pub fn deliver(&mut self, cores: Vec<usize>, line: Bytes, change: Change) -> &mut Event {
        let event = Event {
            line,
            except: None,
            change,
            dedup: None,
            meta: Meta::default(),
            alt: None,
            ops_only: false,
            only: Vec::new(),
        };
        self.deliveries.push(Delivery { cores, event });
        &mut self.deliveries.last_mut().expect("just pushed").event
    }
}
