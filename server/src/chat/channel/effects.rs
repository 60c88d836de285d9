//! What a channel operation did, for its owner to carry out: lines to fan
//! out to member cores (each with the membership change it brings), replies
//! to the requester, and nicks whose existence only their owner knows.

use bytes::Bytes;

use crate::chat::caps::Cap;
use crate::chat::msg::{Change, ClientRef};
use crate::chat::tags::Meta;

/// One line for the members on `cores`.
#[derive(Debug, PartialEq, Eq)]
pub struct Delivery {
    pub cores: Vec<usize>,
    pub line: Bytes,
    /// A member who does not get the line (the sender of a PRIVMSG).
    pub except: Option<ClientRef>,
    pub change: Change,
    /// Event id for a line a member must see once though it comes through
    /// several channels (NICK, QUIT).
    pub dedup: Option<u64>,
    /// Tags (the owner stamps the time on every delivery).
    pub meta: Meta,
    /// What members with the cap get instead of `line`.
    pub alt: Option<(Cap, Bytes)>,
    pub ops_only: bool,
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

    pub fn deliver(&mut self, cores: Vec<usize>, line: Bytes, change: Change) -> &mut Delivery {
        self.deliveries.push(Delivery {
            cores,
            line,
            except: None,
            change,
            dedup: None,
            meta: Meta::default(),
            alt: None,
            ops_only: false,
        });
        self.deliveries.last_mut().expect("just pushed")
    }
}
