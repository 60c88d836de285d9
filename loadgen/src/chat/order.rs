//! One order per channel: every receiver of a channel must see its messages in the same order,
//! whichever server (or cluster node) it is connected to.
//!
//! Receivers do not see the same set (IRC does not echo a sender its own message, and losses
//! differ), so sequences are not compared directly. Each receiver's sequence is a chain of
//! "before" edges between message ids; a channel has one order exactly when the union of its
//! receivers' chains has no cycle, checked by Kahn's topological sort. Any pair of messages two
//! receivers saw in opposite orders makes such a cycle.
//!
//! Cost: 8 bytes per delivery while running, one hash lookup per delivery at the end.

use std::collections::HashMap;

/// A message, network-wide: its sender and its per-(sender, channel) sequence number.
pub fn message_id(sender: u64, seq: u64) -> u64 {
    (sender << 32) | (seq & 0xffff_ffff)
}

/// The sequences of message ids each receiver saw, per channel.
#[derive(Debug, Default)]
pub struct ChannelOrders {
    by_channel: HashMap<u64, Vec<Vec<u64>>>,
}

/// What the check found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderReport {
    /// Channels with at least two receivers' sequences to compare.
    pub channels_checked: u64,
    /// Channels whose receivers disagree on the order of some messages.
    pub conflicts: u64,
}

impl ChannelOrders {
    /// Adds one receiver's sequence for `channel`.
    pub fn add(&mut self, channel: u64, seen: Vec<u64>) {
        if !seen.is_empty() {
            self.by_channel.entry(channel).or_default().push(seen);
        }
    }

    pub fn merge(&mut self, other: ChannelOrders) {
        for (channel, seqs) in other.by_channel {
            self.by_channel.entry(channel).or_default().extend(seqs);
        }
    }

    pub fn check(&self) -> OrderReport {
        let mut report = OrderReport::default();
        for seqs in self.by_channel.values().filter(|s| s.len() > 1) {
            report.channels_checked += 1;
            if !one_order(seqs) {
                report.conflicts += 1;
            }
        }
        report
    }
}

/// Whether one total order is consistent with every sequence in `seqs`.
fn one_order(seqs: &[Vec<u64>]) -> bool {
    let mut index: HashMap<u64, u32> = HashMap::new();
    let mut edges: Vec<(u32, u32)> = Vec::new();
    for seq in seqs {
        let mut prev = None;
        for &id in seq {
            let next = index.len() as u32;
            let n = *index.entry(id).or_insert(next);
            if let Some(p) = prev {
                edges.push((p, n));
            }
            prev = Some(n);
        }
    }
    let nodes = index.len();
    let mut indegree = vec![0u32; nodes];
    let mut start = vec![0usize; nodes + 1];
    for &(from, to) in &edges {
        indegree[to as usize] += 1;
        start[from as usize + 1] += 1;
    }
    for i in 0..nodes {
        start[i + 1] += start[i];
    }
    // Adjacency in one array (compressed rows), filled per source node.
    let mut fill = start.clone();
    let mut targets = vec![0u32; edges.len()];
    for &(from, to) in &edges {
        targets[fill[from as usize]] = to;
        fill[from as usize] += 1;
    }
    let mut ready: Vec<u32> = (0..nodes as u32)
        .filter(|&n| indegree[n as usize] == 0)
        .collect();
    let mut sorted = 0;
    while let Some(n) = ready.pop() {
        sorted += 1;
        for &t in &targets[start[n as usize]..start[n as usize + 1]] {
            indegree[t as usize] -= 1;
            if indegree[t as usize] == 0 {
                ready.push(t);
            }
        }
    }
    sorted == nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orders(seqs: &[&[u64]]) -> OrderReport {
        let mut o = ChannelOrders::default();
        for s in seqs {
            o.add(3, s.to_vec());
        }
        o.check()
    }

    #[test]
    fn receivers_missing_their_own_messages_still_agree() {
        // One order 1 2 3 4 5; each receiver misses its own message and one lost one.
        let r = orders(&[&[2, 3, 4, 5], &[1, 3, 5], &[1, 2, 4, 5], &[1, 2, 3]]);
        assert_eq!(
            r,
            OrderReport {
                channels_checked: 1,
                conflicts: 0
            }
        );
    }

    #[test]
    fn two_receivers_in_opposite_orders_conflict() {
        assert_eq!(orders(&[&[1, 2, 3], &[1, 3, 2]]).conflicts, 1);
    }

    #[test]
    fn a_conflict_through_a_third_receiver_is_found() {
        // Pairwise each pair is seen by one receiver only, but no single order fits all three.
        assert_eq!(orders(&[&[1, 2], &[2, 3], &[3, 1]]).conflicts, 1);
    }

    #[test]
    fn channels_are_checked_separately_and_merged_across_cores() {
        let mut a = ChannelOrders::default();
        a.add(1, vec![10, 11]);
        a.add(2, vec![20, 21]);
        let mut b = ChannelOrders::default();
        b.add(1, vec![10, 11]);
        b.add(2, vec![21, 20]);
        b.add(9, vec![90]);
        a.merge(b);
        assert_eq!(
            a.check(),
            OrderReport {
                channels_checked: 2,
                conflicts: 1
            }
        );
    }

    #[test]
    fn ids_keep_sender_and_sequence_apart() {
        assert_ne!(message_id(1, 0), message_id(0, 1));
        assert_eq!(message_id(2, 5) >> 32, 2);
    }
}
