//! Delivery accounting: per receiver, per (sender, channel), which sequence numbers arrived.
//!
//! A message is *duplicated* if the same receiver already got it, *out of order* if a higher
//! sequence number from the same sender on the same channel arrived before it. *Lost* is what
//! the plan expected minus the distinct messages delivered, computed after the drain.

use super::order::message_id;
use super::plan::Plan;
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::sync::Arc;

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
    /// Counts one arrival; returns whether it was a new message.
    fn count(&mut self, arrival: Arrival) -> bool {
        match arrival {
            Arrival::InOrder => self.delivered += 1,
            Arrival::OutOfOrder => {
                self.delivered += 1;
                self.out_of_order += 1;
            }
            Arrival::Duplicate => self.duplicated += 1,
        }
        arrival != Arrival::Duplicate
    }

    pub fn add(&mut self, o: &Deliveries) {
        self.delivered += o.delivered;
        self.duplicated += o.duplicated;
        self.out_of_order += o.out_of_order;
    }
}

/// The sequence numbers of one plan member's (sender, channel) stream in 8 bytes, while they
/// are contiguous and below 2³² − 1: every seq below `next` arrived and nothing above. A
/// stream with a gap (or larger numbers) has `next != high` and keeps its full
/// [`SeqTracker`] in [`Receiver::gaps`] until the gap closes.
#[derive(Debug, Clone, Copy, Default)]
struct Lane {
    next: u32,
    high: u32,
}

/// Most lanes per (receiver, channel), 32 KiB: lanes cost their channel's size for every
/// member, so a plan with bigger channels (5,000 clients in one) tracks only the streams
/// that speak, in a map, as all streams used to be.
const MAX_LANES: usize = 4096;

/// One channel a receiver got deliveries on: a lane per member slot (allocated with the first
/// delivery), and the message ids in arrival order.
#[derive(Debug)]
struct ChannelView {
    channel: u64,
    lanes: Vec<Lane>,
    order: Vec<u64>,
}

/// One receiving client's view of every (sender, channel) stream it is in, and the order in
/// which each channel's messages reached it (for [`super::order`]).
///
/// The hot path (a member's next message) touches one 8-byte lane found by the sender's slot
/// in the [`Plan`], no hashing: at millions of deliveries per second a hash map of every
/// stream was the loadgen's largest cost (its cache misses). Streams outside the plan (a
/// server inventing senders or channels), and every stream of a plan whose channels are too
/// big for lanes, are tracked in `strangers`.
#[derive(Debug)]
pub struct Receiver {
    plan: Arc<Plan>,
    /// Whether the plan's channels are small enough for lanes ([`MAX_LANES`]).
    lanes: bool,
    /// Per channel (a client is in few: a list beats a map).
    channels: Vec<ChannelView>,
    /// Streams of lanes with `next != high`, keyed by (position in `channels`, slot).
    gaps: FxHashMap<(usize, usize), SeqTracker>,
    strangers: FxHashMap<(u64, u64), SeqTracker>,
}

impl Receiver {
    pub fn new(plan: Arc<Plan>) -> Self {
        Receiver {
            lanes: plan.member_slots() <= MAX_LANES,
            plan,
            channels: Vec::new(),
            gaps: FxHashMap::default(),
            strangers: FxHashMap::default(),
        }
    }

    /// Records a delivery and counts it into `counts`; returns whether it was new.
    pub fn deliver(
        &mut self,
        sender: u64,
        channel: u64,
        seq: u64,
        counts: &mut Deliveries,
    ) -> bool {
        let pos = match self.channels.iter().position(|v| v.channel == channel) {
            Some(pos) => pos,
            None => {
                self.channels.push(ChannelView {
                    channel,
                    lanes: Vec::new(),
                    order: Vec::new(),
                });
                self.channels.len() - 1
            }
        };
        let slot = self.lanes.then(|| self.plan.member_slot(channel, sender));
        let arrival = match slot.flatten() {
            Some(slot) => self.observe_lane(pos, slot, seq),
            None => self
                .strangers
                .entry((sender, channel))
                .or_default()
                .observe(seq),
        };
        if arrival != Arrival::Duplicate {
            self.channels[pos].order.push(message_id(sender, seq));
        }
        counts.count(arrival)
    }

    fn observe_lane(&mut self, pos: usize, slot: usize, seq: u64) -> Arrival {
        let view = &mut self.channels[pos];
        if view.lanes.is_empty() {
            view.lanes = vec![Lane::default(); self.plan.member_slots()];
        }
        let lane = &mut view.lanes[slot];
        if lane.next == lane.high {
            if seq < u64::from(lane.next) {
                return Arrival::Duplicate;
            }
            if seq == u64::from(lane.next) && lane.high < u32::MAX {
                lane.next += 1;
                lane.high += 1;
                return Arrival::InOrder;
            }
        }
        let tracker = self.gaps.entry((pos, slot)).or_insert_with(|| SeqTracker {
            next: u64::from(lane.next),
            ahead: BTreeSet::new(),
            high: u64::from(lane.high),
        });
        let arrival = tracker.observe(seq);
        let fits = |n: u64| u32::try_from(n).ok().filter(|&n| n < u32::MAX);
        match (
            tracker.ahead.is_empty(),
            fits(tracker.next),
            fits(tracker.high),
        ) {
            (true, Some(next), Some(high)) => {
                *lane = Lane { next, high };
                self.gaps.remove(&(pos, slot));
            }
            // Any lane with next != high sends its stream here.
            _ => *lane = Lane { next: 0, high: 1 },
        }
        arrival
    }

    /// The order each channel's messages arrived in, by channel.
    pub fn into_orders(self) -> impl Iterator<Item = (u64, Vec<u64>)> {
        self.channels.into_iter().map(|v| (v.channel, v.order))
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
        let mut r = Receiver::new(Arc::new(Plan::new(10, 2, 1)));
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
        let mut r = Receiver::new(Arc::new(Plan::new(10, 2, 1)));
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

    #[test]
    fn lanes_agree_with_the_full_tracker_on_any_arrival_order() {
        // Client 4 of 10 in channel 0 of 2 is a member (a lane); sender 5 is not (a stranger).
        let plan = Arc::new(Plan::new(10, 2, 1));
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..200 {
            let mut r = Receiver::new(plan.clone());
            let mut reference = SeqTracker::default();
            let (mut got, mut want) = (Deliveries::default(), Deliveries::default());
            for _ in 0..60 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let seq = match round % 3 {
                    0 => rng % 40,
                    1 => rng % 8 + (rng >> 8) % 30,
                    _ => u64::from(u32::MAX) - 3 + rng % 6,
                };
                r.deliver(4, 0, seq, &mut got);
                want.count(reference.observe(seq));
            }
            assert_eq!(got, want, "round {round}");
            assert_eq!(
                r.gaps.is_empty(),
                reference.ahead.is_empty(),
                "round {round}"
            );
        }
    }

    #[test]
    fn channels_too_big_for_lanes_count_the_same() {
        let big = Arc::new(Plan::new(MAX_LANES as u64 + 1, 1, 1));
        let mut r = Receiver::new(big);
        assert!(!r.lanes);
        let mut c = Deliveries::default();
        for seq in [0, 2, 1, 1] {
            r.deliver(7, 0, seq, &mut c);
        }
        let want = Deliveries {
            delivered: 3,
            duplicated: 1,
            out_of_order: 1,
        };
        assert_eq!(c, want);
        assert!(r.channels[0].lanes.is_empty());
    }

    #[test]
    fn arrival_order_is_kept_per_channel() {
        let mut r = Receiver::new(Arc::new(Plan::new(10, 2, 1)));
        let mut c = Deliveries::default();
        for (sender, seq) in [(2, 0), (4, 0), (2, 1), (2, 1), (5, 0)] {
            r.deliver(sender, 0, seq, &mut c);
        }
        let orders: Vec<(u64, Vec<u64>)> = r.into_orders().collect();
        let ids = [(2, 0), (4, 0), (2, 1), (5, 0)].map(|(s, q)| message_id(s, q));
        assert_eq!(orders, vec![(0, ids.to_vec())]);
    }
}
