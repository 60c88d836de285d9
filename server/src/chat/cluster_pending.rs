//! Clustered (`--cluster`): the PART, QUIT and NICK of local members that
//! went to Redis and are not yet in the view, so the next change from the
//! same client is built on what Redis will have then, not on the view.
//!
//! A client's next command runs once Redis answered its PART, but the view
//! follows the channel's topic, which may bring the PART later: a JOIN
//! then found the client still a member and was dropped. A NICK's rename
//! is not waited for at all, so a QUIT, PART or NICK right behind it named
//! the old nick, which Redis no longer had. The bridge runs a core's calls
//! in order, so what was sent is what Redis will have applied first.
//!
//! An entry lives while a call is unanswered or the view has not caught up
//! with it; it is at most one per local member of a channel.

use std::collections::HashMap;

use super::casemap::fold;
use super::msg::ClientRef;

/// What Redis will hold for one local member once its calls are applied.
struct Expect {
    /// Its nick then (as spelled); `None`: it will have left.
    nick: Option<String>,
    /// Calls sent and not answered yet.
    calls: u32,
}

/// Per channel (folded name), per local member.
#[derive(Default)]
pub struct InFlight {
    chans: HashMap<String, HashMap<ClientRef, Expect>>,
}

/// What a local member is once its calls in flight are applied.
pub enum Ahead<'a> {
    /// Nothing in flight: what the view says.
    AsViewed,
    Named(&'a str),
    Gone,
}

impl InFlight {
    pub fn ahead(&self, chan: &str, who: ClientRef) -> Ahead<'_> {
        match self.chans.get(chan).and_then(|c| c.get(&who)) {
            None => Ahead::AsViewed,
            Some(Expect { nick: Some(n), .. }) => Ahead::Named(n),
            Some(Expect { nick: None, .. }) => Ahead::Gone,
        }
    }

    /// A call went to Redis after which `who` is `nick` (`None`: gone).
    pub fn sent(&mut self, chan: &str, who: ClientRef, nick: Option<String>) {
        let c = self.chans.entry(chan.to_string()).or_default();
        let e = c.entry(who).or_insert(Expect {
            nick: None,
            calls: 0,
        });
        e.nick = nick;
        e.calls += 1;
    }

    /// Redis answered one of `who`'s calls.
    pub fn answered(&mut self, chan: &str, who: ClientRef) {
        let e = self.chans.get_mut(chan).and_then(|c| c.get_mut(&who));
        if let Some(e) = e {
            e.calls = e.calls.saturating_sub(1);
        }
    }

    /// `who` joins again: what it left before no longer matters here.
    pub fn rejoin(&mut self, chan: &str, who: ClientRef) {
        if let Some(c) = self.chans.get_mut(chan) {
            c.remove(&who);
            if c.is_empty() {
                self.chans.remove(chan);
            }
        }
    }

    /// Drops the entries of `chan` that are answered and that the view
    /// (`viewed`: a local member's nick there, if it is one) caught up with.
    pub fn settle<'v>(&mut self, chan: &str, viewed: impl Fn(ClientRef) -> Option<&'v str>) {
        let Some(c) = self.chans.get_mut(chan) else {
            return;
        };
        c.retain(|who, e| {
            let caught_up = match (viewed(*who), &e.nick) {
                (None, _) => true,
                (Some(v), Some(n)) => fold(v) == fold(n),
                (Some(_), None) => false,
            };
            e.calls > 0 || !caught_up
        });
        if c.is_empty() {
            self.chans.remove(chan);
        }
    }

    /// The view of `chan` is gone or read again from Redis.
    pub fn forget(&mut self, chan: &str) {
        self.chans.remove(chan);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: ClientRef = ClientRef { core: 0, id: 1 };

    #[test]
    fn an_entry_lasts_until_answered_and_seen() {
        let mut f = InFlight::default();
        f.sent("#c", A, Some("b".into()));
        f.sent("#c", A, None);
        assert!(matches!(f.ahead("#c", A), Ahead::Gone));
        f.answered("#c", A);
        f.settle("#c", |_| Some("a"));
        assert!(matches!(f.ahead("#c", A), Ahead::Gone));
        f.answered("#c", A);
        f.settle("#c", |_| Some("b"));
        assert!(matches!(f.ahead("#c", A), Ahead::Gone), "PART not seen yet");
        f.settle("#c", |_| None);
        assert!(matches!(f.ahead("#c", A), Ahead::AsViewed));
        assert!(f.chans.is_empty());
    }

    #[test]
    fn a_rename_is_caught_up_by_its_folded_nick() {
        let mut f = InFlight::default();
        f.sent("#c", A, Some("Bob".into()));
        assert!(matches!(f.ahead("#c", A), Ahead::Named("Bob")));
        f.answered("#c", A);
        f.settle("#c", |_| Some("bob"));
        assert!(matches!(f.ahead("#c", A), Ahead::AsViewed));
    }
}
