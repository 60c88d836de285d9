//! Who joins which channel and where each message goes, fixed up front so that every core can
//! compute the expected deliveries of any message without asking anyone.
//!
//! Client `i` joins channels `(i + j) % C` for `j < J`: J distinct channels, and every channel
//! gets N·J/C members give or take one. Its `k`-th message goes to its `(k % J)`-th channel with
//! sequence number `k / J`, so per (sender, channel) the sequence numbers are 0, 1, 2, ...: a
//! receiver can tell a lost, duplicated or reordered message from the numbers alone.

/// Channel membership of a run.
#[derive(Debug, Clone)]
pub struct Plan {
    clients: u64,
    channels: u64,
    joins: u64,
    members: Vec<u64>,
}

impl Plan {
    pub fn new(clients: u64, channels: u64, joins: u64) -> Self {
        assert!(
            channels > 0 && joins > 0 && joins <= channels,
            "invalid plan"
        );
        let mut members = vec![0u64; channels as usize];
        // N clients, each in J consecutive channels: channel c is hit once per (i, j) with
        // (i + j) % C == c. Counting per j keeps this O(C·J) instead of O(N·J).
        for j in 0..joins {
            let full = clients / channels;
            let extra = clients % channels;
            for (c, m) in members.iter_mut().enumerate() {
                // clients i with i % C == (c - j) mod C
                let r = (c as u64 + channels - j % channels) % channels;
                *m += full + u64::from(r < extra);
            }
        }
        Plan {
            clients,
            channels,
            joins,
            members,
        }
    }

    pub fn clients(&self) -> u64 {
        self.clients
    }

    /// The channels client `client` joins.
    pub fn channels_of(&self, client: u64) -> impl Iterator<Item = u64> + '_ {
        (0..self.joins).map(move |j| (client + j) % self.channels)
    }

    /// Channel and per-(sender, channel) sequence number of client `client`'s `k`-th message.
    pub fn target(&self, client: u64, k: u64) -> (u64, u64) {
        ((client + k % self.joins) % self.channels, k / self.joins)
    }

    pub fn members(&self, channel: u64) -> u64 {
        self.members[channel as usize]
    }

    /// Deliveries one message to `channel` should produce: every member but the sender.
    pub fn fanout(&self, channel: u64) -> u64 {
        self.members(channel).saturating_sub(1)
    }

    /// Upper bound (exclusive) of [`member_slot`](Self::member_slot): about the members of
    /// the fullest channel.
    pub fn member_slots(&self) -> usize {
        (self.clients.div_ceil(self.channels) * self.joins) as usize
    }

    /// A dense index of `client` among the members of `channel`, distinct per member and
    /// below [`member_slots`](Self::member_slots); `None` if it is not a member. Client
    /// `i = r + C·m` (`r < C`) joins `channel` as its `j`-th join, `j = (channel − r) mod C`,
    /// if `j < J`: its slot is `m·J + j`.
    pub fn member_slot(&self, channel: u64, client: u64) -> Option<usize> {
        if client >= self.clients || channel >= self.channels {
            return None;
        }
        let c = self.channels;
        // Both below C: a subtraction, not a second division (a delivery's hot path).
        let (m, r) = (client / c, client % c);
        let j = if channel >= r {
            channel - r
        } else {
            channel + c - r
        };
        (j < self.joins).then(|| (m * self.joins + j) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_members(p: &Plan, channel: u64) -> u64 {
        (0..p.clients())
            .filter(|&i| p.channels_of(i).any(|c| c == channel))
            .count() as u64
    }

    #[test]
    fn member_counts_match_the_join_rule() {
        for (n, c, j) in [(10, 3, 1), (10, 3, 3), (1000, 50, 3), (7, 10, 4), (5, 5, 2)] {
            let p = Plan::new(n, c, j);
            for ch in 0..c {
                assert_eq!(
                    p.members(ch),
                    brute_members(&p, ch),
                    "{n}/{c}/{j} channel {ch}"
                );
            }
            let total: u64 = (0..c).map(|ch| p.members(ch)).sum();
            assert_eq!(total, n * j);
        }
    }

    #[test]
    fn clients_join_distinct_channels() {
        let p = Plan::new(100, 7, 7);
        for i in 0..100 {
            let mut chans: Vec<u64> = p.channels_of(i).collect();
            chans.sort();
            chans.dedup();
            assert_eq!(chans.len(), 7);
        }
    }

    #[test]
    fn messages_cycle_through_own_channels_with_contiguous_seqs() {
        let p = Plan::new(10, 5, 2);
        let targets: Vec<(u64, u64)> = (0..6).map(|k| p.target(3, k)).collect();
        assert_eq!(
            targets,
            vec![(3, 0), (4, 0), (3, 1), (4, 1), (3, 2), (4, 2)]
        );
        for k in 0..20 {
            let (ch, _) = p.target(3, k);
            assert!(p.channels_of(3).any(|c| c == ch));
        }
    }

    #[test]
    fn member_slots_are_dense_and_distinct_per_channel() {
        for (n, c, j) in [
            (10, 3, 1),
            (10, 3, 3),
            (1000, 10, 1),
            (7, 10, 4),
            (101, 7, 2),
        ] {
            let p = Plan::new(n, c, j);
            for ch in 0..c {
                let mut slots: Vec<usize> = (0..n)
                    .filter_map(|i| {
                        let slot = p.member_slot(ch, i);
                        let member = p.channels_of(i).any(|x| x == ch);
                        assert_eq!(slot.is_some(), member, "{n}/{c}/{j}: client {i} in {ch}");
                        slot
                    })
                    .collect();
                assert!(slots.iter().all(|&s| s < p.member_slots()));
                slots.sort();
                slots.dedup();
                assert_eq!(slots.len() as u64, p.members(ch));
            }
            assert_eq!(p.member_slot(c, 0), None);
            assert_eq!(p.member_slot(0, n), None);
        }
    }

    #[test]
    fn fanout_excludes_the_sender() {
        let p = Plan::new(4, 1, 1);
        assert_eq!(p.members(0), 4);
        assert_eq!(p.fanout(0), 3);
    }
}
