//! The op table's entries and their lifecycle (invariants 1 and 2).
//!
//! ```text
//!            submit                 CQE (no MORE)
//!  Waiting ────────────────────────────────────────▶ Done ──poll──▶ freed
//!     │  future dropped: submit ASYNC_CANCEL
//!     ▼
//!  Orphaned(resources) ──last CQE: release what it carries──▶ freed
//!
//!  Multi { queue } ──CQE with MORE──▶ queued for the stream
//!                  ──CQE without MORE──▶ finished (freed once drained)
//!                  ──MULTISHOT_BACKLOG buffers queued──▶ throttled: cancelled,
//!                    so the stream drains and re-arms (the rest waits in the socket)
//! ```
//!
//! An orphaned slot keeps the op's buffers, sockaddrs and fds alive until
//! the kernel is done with them; [`Release`] hands back what a late CQE
//! carries (an accepted fd is closed, a provided buffer returns to its ring).

use std::collections::VecDeque;
use std::task::Waker;

use slab::Slab;

use super::behind::{self, Behind};
use crate::driver::{BufPool, Cqe, Release};

/// Provided buffers a multishot stream may hold unread before its op is
/// cancelled (and re-armed once the stream has drained them): bounds what
/// one slow stream takes of the core's pool (`Builder::recv_buffers`).
const MULTISHOT_BACKLOG: usize = 8;

/// What reaping op CQEs leaves for the driver to do once the CQ is
/// released: wake tasks, cancel throttled multishot ops.
#[derive(Default)]
pub(crate) struct Reaped {
    pub(crate) woken: Vec<Waker>,
    /// Multishot ops to cancel (see `MULTISHOT_BACKLOG`).
    pub(crate) throttled: Vec<usize>,
    /// Write-behind sends to resubmit from where a short send stopped.
    pub(crate) resend: Vec<usize>,
}

impl Reaped {
    /// Records the CQE of an op: `user_data` is `tag << 32 | key`; a CQE
    /// whose tag is not the slot's (a late one for a freed, reused slot)
    /// is dropped.
    pub(crate) fn op(
        &mut self,
        ops: &mut Slab<Slot>,
        tags: &[u32],
        bufs: Option<&BufPool>,
        user_data: u64,
        cqe: Cqe,
    ) {
        let key = (user_data & 0xffff_ffff) as usize;
        if tags.get(key).map(|&t| u64::from(t)) != Some(user_data >> 32) {
            return;
        }
        let Some(slot) = ops.get_mut(key) else {
            return;
        };
        if let Slot::Behind(_) = slot {
            if let Some(waker) = behind::complete(ops, key, cqe, bufs, &mut self.resend) {
                self.woken.push(waker);
            }
            return;
        }
        let (waker, free) = slot.complete(cqe);
        if slot.should_throttle(MULTISHOT_BACKLOG) {
            self.throttled.push(key);
        }
        if free {
            ops.remove(key);
        }
        if let Some(waker) = waker {
            self.woken.push(waker);
        }
    }
}

pub(crate) enum Slot {
    Waiting(Option<Waker>),
    Done(Cqe),
    Multi {
        waker: Option<Waker>,
        queue: CqeQueue,
        finished: bool,
        /// An ASYNC_CANCEL was sent because the queue held too many buffers.
        throttled: bool,
    },
    Orphaned(Box<dyn Release>),
    /// A write-behind send (`behind.rs`): ended by the driver itself.
    Behind(Behind),
}

impl Slot {
    /// Records a CQE. Returns (waker to wake, slot can be freed).
    pub(crate) fn complete(&mut self, cqe: Cqe) -> (Option<Waker>, bool) {
        match self {
            Slot::Waiting(waker) => {
                let waker = waker.take();
                let next = if cqe.more() {
                    // A multishot op polled before its first CQE.
                    Slot::Multi {
                        waker: None,
                        queue: CqeQueue::one(cqe),
                        finished: false,
                        throttled: false,
                    }
                } else {
                    Slot::Done(cqe)
                };
                // The old value is Waiting(None) now: nothing to drop.
                std::mem::forget(std::mem::replace(self, next));
                (waker, false)
            }
            Slot::Multi {
                waker,
                queue,
                finished,
                ..
            } => {
                queue.push_back(cqe);
                if !cqe.more() {
                    *finished = true;
                }
                (waker.take(), false)
            }
            Slot::Orphaned(resources) => {
                resources.release(cqe);
                (None, !cqe.more())
            }
            Slot::Done(_) => (None, false),
            Slot::Behind(_) => unreachable!("write-behind CQEs are handled by `behind`"),
        }
    }

    /// Whether this running multishot op now holds `limit` provided buffers
    /// its stream has not taken: it is marked throttled and must be
    /// cancelled, so that one stream whose task does not keep up (its peer
    /// never reads the echo, say) cannot drain the core's shared pool.
    pub(crate) fn should_throttle(&mut self, limit: usize) -> bool {
        let Slot::Multi {
            queue,
            finished: false,
            throttled: throttled @ false,
            ..
        } = self
        else {
            return false;
        };
        if queue.len() < limit || queue.iter().filter(|c| c.buffer_id().is_some()).count() < limit {
            return false;
        }
        *throttled = true;
        true
    }
}

/// The CQEs of a multishot op its stream has not taken yet, in order. The
/// first sits inline (usually it is the only one), the rest in a boxed
/// `VecDeque` made at the first spill: every armed multishot op (one per
/// connection) has a slot, so its idle size is paid per connection, and the
/// box keeps it one word.
#[derive(Default)]
pub(crate) struct CqeQueue {
    head: Option<Cqe>,
    // Boxed on purpose: one word in every slot instead of four (see above).
    #[allow(clippy::box_collection)]
    rest: Option<Box<VecDeque<Cqe>>>,
}

impl CqeQueue {
    fn one(cqe: Cqe) -> CqeQueue {
        CqeQueue {
            head: Some(cqe),
            rest: None,
        }
    }

    pub(crate) fn push_back(&mut self, cqe: Cqe) {
        match &mut self.rest {
            None if self.head.is_none() => self.head = Some(cqe),
            Some(rest) if self.head.is_none() && rest.is_empty() => self.head = Some(cqe),
            Some(rest) => rest.push_back(cqe),
            None => self.rest.insert(Box::default()).push_back(cqe),
        }
    }

    pub(crate) fn pop_front(&mut self) -> Option<Cqe> {
        self.head
            .take()
            .or_else(|| self.rest.as_mut().and_then(|rest| rest.pop_front()))
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.head.is_some()) + self.rest.as_ref().map_or(0, |rest| rest.len())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Cqe> {
        self.head
            .iter()
            .chain(self.rest.iter().flat_map(|rest| rest.iter()))
    }
}

impl IntoIterator for CqeQueue {
    type Item = Cqe;
    type IntoIter = std::iter::Chain<
        std::option::IntoIter<Cqe>,
        std::iter::Flatten<std::option::IntoIter<VecDeque<Cqe>>>,
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.head
            .into_iter()
            .chain(self.rest.map(|rest| *rest).into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each armed multishot recv (one per connection) keeps a slot: 72 bytes while the queue's
    /// spill was an inline `VecDeque` (README "Memory").
    #[test]
    fn slot_stays_small() {
        let size = std::mem::size_of::<Slot>();
        assert!(size <= 48, "an op slot is {size} bytes");
    }

    #[test]
    fn cqe_queue_keeps_order_across_inline_and_spilled_entries() {
        let mut q = CqeQueue::default();
        let mut next = 0;
        let mut expect = 0;
        // Interleave pushes and pops so the inline slot empties and refills
        // while entries wait in the spill.
        for round in 0..50 {
            for _ in 0..(round % 4) + 1 {
                q.push_back(Cqe::new(next));
                next += 1;
            }
            for _ in 0..(round % 3) {
                if let Some(c) = q.pop_front() {
                    assert_eq!(c.result, expect);
                    expect += 1;
                }
            }
            assert_eq!(q.len() as i32, next - expect);
            assert!(q.iter().map(|c| c.result).eq(expect..next));
        }
        assert!(q.into_iter().map(|c| c.result).eq(expect..next));
    }
}
