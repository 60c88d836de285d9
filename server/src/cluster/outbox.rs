//! What a node could not publish while Redis was unreachable: kept in order
//! up to a bound, then dropped and counted (never grows without bound).

use std::collections::VecDeque;

use bytes::Bytes;

/// A bounded FIFO of `(topic, payload)` publishes.
#[derive(Debug)]
pub struct Outbox {
    queue: VecDeque<(Bytes, Bytes)>,
    cap: usize,
}

impl Outbox {
    pub fn new(cap: usize) -> Outbox {
        Outbox {
            queue: VecDeque::new(),
            cap,
        }
    }

    /// Queues a publish; `false` (and nothing queued) when full: the newest
    /// is dropped so that what was queued keeps its order.
    pub fn push(&mut self, topic: Bytes, payload: Bytes) -> bool {
        if self.queue.len() >= self.cap {
            return false;
        }
        self.queue.push_back((topic, payload));
        true
    }

    /// Everything queued, oldest first.
    pub fn drain(&mut self) -> Vec<(Bytes, Bytes)> {
        self.queue.drain(..).collect()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_up_to_the_bound_then_refuses() {
        let mut o = Outbox::new(2);
        assert!(o.push("t".into(), "1".into()));
        assert!(o.push("t".into(), "2".into()));
        assert!(!o.push("t".into(), "3".into()));
        assert_eq!(o.len(), 2);
        let got: Vec<_> = o.drain().into_iter().map(|(_, p)| p).collect();
        assert_eq!(got, [Bytes::from("1"), Bytes::from("2")]);
        assert!(o.push("t".into(), "4".into()));
    }
}
