//! A home core's mirror of channel membership: which of its clients sit in
//! which channel (built from the owners' JOIN/PART/KICK events), so a
//! channel line arriving once per core reaches every local member; and the
//! memory that lets a NICK or QUIT line arriving through several shared
//! channels reach each client once.

use std::collections::{HashMap, HashSet, VecDeque};

use super::msg::ClientId;

/// De-duplication memory: at most this many events, and this many
/// (event, client) pairs in all; the oldest events are forgotten first. An
/// event's copies arrive within one round of cross-core messages, long
/// before it would be forgotten.
const DEDUP_EVENTS: usize = 4096;
const DEDUP_PAIRS: usize = 1 << 20;

#[derive(Default)]
pub struct Mirror {
    /// Local members of each channel (folded name).
    members: HashMap<String, Vec<ClientId>>,
    dedup: HashMap<u64, HashSet<ClientId>>,
    dedup_order: VecDeque<u64>,
    dedup_pairs: usize,
}

impl Mirror {
    pub fn add(&mut self, chan: &str, id: ClientId) {
        let v = self.members.entry(chan.to_string()).or_default();
        if !v.contains(&id) {
            v.push(id);
        }
    }

    pub fn remove(&mut self, chan: &str, id: ClientId) {
        if let Some(v) = self.members.get_mut(chan) {
            v.retain(|&x| x != id);
            if v.is_empty() {
                self.members.remove(chan);
            }
        }
    }

    /// Takes the member list out (to write to it while the home changes);
    /// give it back with `put_back`.
    pub fn take(&mut self, chan: &str) -> Option<Vec<ClientId>> {
        self.members.get_mut(chan).map(std::mem::take)
    }

    /// Returns a list from `take`, minus members that left meanwhile.
    pub fn put_back(&mut self, chan: &str, members: Vec<ClientId>) {
        match self.members.get_mut(chan) {
            Some(_) if members.is_empty() => {
                self.members.remove(chan);
            }
            Some(slot) => *slot = members,
            // A member's `remove` dropped the (then empty) entry.
            None if !members.is_empty() => {
                self.members.insert(chan.to_string(), members);
            }
            None => {}
        }
    }

    /// True the first time `id` is offered event `ev`.
    pub fn first_sight(&mut self, ev: u64, id: ClientId) -> bool {
        let seen = self.dedup.entry(ev).or_insert_with(|| {
            self.dedup_order.push_back(ev);
            HashSet::new()
        });
        if !seen.insert(id) {
            return false;
        }
        self.dedup_pairs += 1;
        while self.dedup_order.len() > DEDUP_EVENTS || self.dedup_pairs > DEDUP_PAIRS {
            let Some(old) = self.dedup_order.pop_front() else {
                break;
            };
            if let Some(set) = self.dedup.remove(&old) {
                self.dedup_pairs -= set.len();
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_come_and_go() {
        let mut m = Mirror::default();
        m.add("#a", 1);
        m.add("#a", 1);
        m.add("#a", 2);
        let v = m.take("#a").unwrap();
        assert_eq!(v, vec![1, 2]);
        m.remove("#a", 2);
        m.put_back("#a", vec![1]);
        assert_eq!(m.take("#a"), Some(vec![1]));
        m.put_back("#a", vec![]);
        assert_eq!(m.take("#a"), None);
    }

    #[test]
    fn an_event_is_seen_once_per_client() {
        let mut m = Mirror::default();
        assert!(m.first_sight(7, 1));
        assert!(!m.first_sight(7, 1));
        assert!(m.first_sight(7, 2));
        for ev in 100..100 + DEDUP_EVENTS as u64 {
            m.first_sight(ev, 1);
        }
        assert!(m.first_sight(7, 1), "old events are forgotten");
    }
}
