//! Delivery accounting: per receiver, per (sender, channel), which sequence numbers arrived.
//!
//! A message is *duplicated* if the same receiver already got it, *out of order* if a higher
//! sequence number from the same sender on the same channel arrived before it. *Lost* is what
//! the plan expected minus the distinct messages delivered, computed after the drain.

use super::order::message_id;
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

/// How one delivery compares with what the receiver saw before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// First delivery, and nothing later from this sender/channel came before it.
    InOrder,
    /// First delivery, but a later message of this sender/channel already arrived.
    OutOfOrder,
    /// Already delivered to this receiver.
    Duplicate,
}

/// The sequence numbers one receiver got from one sender on one channel.
#[derive(Debug, Clone, Default)]
pub struct SeqTracker {
    /// Every seq below this arrived.
    next: u64,
    /// Seqs at or above `next` that arrived (only non-empty after a gap).
    ahead: BTreeSet<u64>,
    /// Highest seq seen plus one (0 = none yet).
    high: u64,
}

impl SeqTracker {
    pub fn observe(&mut self, seq: u64) -> Arrival {
        if seq < self.next || self.ahead.contains(&seq) {
            return Arrival::Duplicate;
        }
        let arrival = if seq < self.high {
            Arrival::OutOfOrder
        } else {
            self.high = seq + 1;
            Arrival::InOrder
        };
        if seq == self.next {
            self.next += 1;
            while self.ahead.remove(&self.next) {
                self.next += 1;
            }
        } else {
            self.ahead.insert(seq);
        }
        arrival
    }
}

/// Delivery counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deliveries {
    /// Distinct messages delivered (in order or not).
    pub delivered: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
}

impl Deliveries {
    pub fn add(&mut self, o: &Deliveries) {
        self.delivered += o.delivered;
        self.duplicated += o.duplicated;
        self.out_of_order += o.out_of_order;
    }
}

/// One receiving client's view of every (sender, channel) stream it is in, and the order in
/// which each channel's messages reached it (for [`super::order`]).
#[derive(Debug, Default)]
pub struct Receiver {
    streams: FxHashMap<(u64, u64), SeqTracker>,
    /// Per channel (a client is in few: a list beats a map), the message ids in arrival order.
    order: Vec<(u64, Vec<u64>)>,
}

impl Receiver {
    /// Records a delivery and counts it into `counts`; returns whether it was new.
    pub fn deliver(
        &mut self,
        sender: u64,
        channel: u64,
        seq: u64,
        counts: &mut Deliveries,
    ) -> bool {
        let arrival = self
            .streams
            .entry((sender, channel))
            .or_default()
            .observe(seq);
        if arrival != Arrival::Duplicate {
            let id = message_id(sender, seq);
            match self.order.iter_mut().find(|(c, _)| *c == channel) {
                Some((_, seen)) => seen.push(id),
                None => self.order.push((channel, vec![id])),
            }
        }
        match arrival {
            Arrival::InOrder => {
                counts.delivered += 1;
                true
            }
            Arrival::OutOfOrder => {
                counts.delivered += 1;
                counts.out_of_order += 1;
                true
            }
            Arrival::Duplicate => {
                counts.duplicated += 1;
                false
            }
        }
    }
}

impl Receiver {
    /// The order each channel's messages arrived in, by channel.
    pub fn into_orders(self) -> impl Iterator<Item = (u64, Vec<u64>)> {
        self.order.into_iter()
    }
}

/// Expected deliveries not seen (never negative: extra deliveries are counted as duplicates or
/// show up as delivered > expected in the summary).
pub fn lost(expected: u64, delivered: u64) -> u64 {
    expected.saturating_sub(delivered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_stream() {
        let mut t = SeqTracker::default();
        for s in 0..100 {
            assert_eq!(t.observe(s), Arrival::InOrder);
        }
        assert!(t.ahead.is_empty());
    }

    #[test]
    fn duplicates_are_detected_before_and_after_gaps() {
        let mut t = SeqTracker::default();
        assert_eq!(t.observe(0), Arrival::InOrder);
        assert_eq!(t.observe(0), Arrival::Duplicate);
        assert_eq!(t.observe(5), Arrival::InOrder); // 1..5 missing so far
        assert_eq!(t.observe(5), Arrival::Duplicate);
        assert_eq!(t.observe(3), Arrival::OutOfOrder);
        assert_eq!(t.observe(3), Arrival::Duplicate);
    }

    #[test]
    fn reordered_messages_count_once_and_gaps_close() {
        let mut t = SeqTracker::default();
        let order = [0, 2, 1, 3, 5, 4];
        let got: Vec<Arrival> = order.iter().map(|&s| t.observe(s)).collect();
        use Arrival::*;
        assert_eq!(
            got,
            vec![InOrder, InOrder, OutOfOrder, InOrder, InOrder, OutOfOrder]
        );
        assert_eq!(t.next, 6);
        assert!(t.ahead.is_empty());
    }

    #[test]
    fn a_gap_alone_is_loss_not_reordering() {
        let mut r = Receiver::default();
        let mut c = Deliveries::default();
        for seq in [0, 1, 3, 4] {
            r.deliver(9, 1, seq, &mut c);
        }
        assert_eq!(
            c,
            Deliveries {
                delivered: 4,
                duplicated: 0,
                out_of_order: 0
            }
        );
        assert_eq!(lost(5, c.delivered), 1);
    }

    #[test]
    fn streams_are_separate_per_sender_and_channel() {
        let mut r = Receiver::default();
        let mut c = Deliveries::default();
        assert!(r.deliver(1, 0, 0, &mut c));
        assert!(r.deliver(2, 0, 0, &mut c));
        assert!(r.deliver(1, 1, 0, &mut c));
        assert!(!r.deliver(1, 0, 0, &mut c));
        assert_eq!(
            c,
            Deliveries {
                delivered: 3,
                duplicated: 1,
                out_of_order: 0
            }
        );
    }
}
