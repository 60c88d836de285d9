//! Parked senders and receivers of one channel, and the token that lets a
//! `select!` be completed by at most one of the channels it waits on.
//!
//! Algorithm (Go's `sudog` queues, `runtime/chan.go`, in Rust shape): every
//! operation that cannot complete at once parks a [`Waiter`] in its channel's
//! FIFO [`WaitList`] (an intrusive doubly linked list stored in a slab, so a
//! parked future is removed in O(1) when it is dropped). A counterpart
//! completes a waiter under the channel lock: it unlinks the head, *claims*
//! it, moves the value in or out, marks it done and wakes it after unlocking.
//! The waiter stays allocated until its future collects the result.
//!
//! Claiming is trivial for a plain `send`/`recv` (the channel lock already
//! gives exclusive access). A `select!` parks one waiter per channel branch,
//! all sharing one [`Token`]; a counterpart must win the token's CAS before it
//! may complete any of them, so at most one branch of a select ever takes
//! effect. A waiter whose select was already decided is unlinked and skipped.

use std::task::Waker;

use slab::Slab;

use crate::shim::{Arc, AtomicUsize, Ordering};

const OPEN: usize = 0;
const ABORTED: usize = usize::MAX;

/// The decision of one `select!`: open, won by branch `i` (stored as `i + 1`),
/// or aborted by the select itself while it re-checks its branches.
#[derive(Debug)]
pub struct Token {
    state: AtomicUsize,
}

impl Token {
    pub(crate) fn new() -> Self {
        Token {
            state: AtomicUsize::new(OPEN),
        }
    }

    /// Claims the select for `branch`; false if it was already decided.
    pub(crate) fn try_claim(&self, branch: usize) -> bool {
        self.state
            .compare_exchange(OPEN, branch + 1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub(crate) fn is_open(&self) -> bool {
        self.state.load(Ordering::Acquire) == OPEN
    }

    /// The branch a counterpart completed, if any.
    pub(crate) fn selected(&self) -> Option<usize> {
        match self.state.load(Ordering::Acquire) {
            OPEN | ABORTED => None,
            n => Some(n - 1),
        }
    }

    /// Stops counterparts from completing any branch. `Err(i)` if branch `i`
    /// was completed first.
    pub(crate) fn abort(&self) -> Result<(), usize> {
        match self
            .state
            .compare_exchange(OPEN, ABORTED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(()),
            Err(n) => Err(n - 1),
        }
    }

    /// Re-opens an aborted token. Only once none of its waiters is parked
    /// anywhere, so no counterpart can observe the reset.
    pub(crate) fn reset(&self) {
        self.state.store(OPEN, Ordering::Release);
    }
}

/// One parked operation. For a receiver `value` is filled on completion
/// (`None` then means "closed"); for a sender it holds the offered value and
/// is emptied when a receiver takes it (still `Some` on completion means
/// "closed, here is your value back").
pub(crate) struct Waiter<T> {
    pub(crate) value: Option<T>,
    pub(crate) done: bool,
    waker: Option<Waker>,
    select: Option<(Arc<Token>, usize)>,
}

impl<T> Waiter<T> {
    pub(crate) fn new(
        value: Option<T>,
        waker: &Waker,
        select: Option<(&Arc<Token>, usize)>,
    ) -> Self {
        Waiter {
            value,
            done: false,
            waker: Some(waker.clone()),
            select: select.map(|(t, i)| (t.clone(), i)),
        }
    }

    fn claim(&self) -> bool {
        match &self.select {
            None => true,
            Some((token, branch)) => token.try_claim(*branch),
        }
    }

    fn claimable(&self) -> bool {
        match &self.select {
            None => true,
            Some((token, _)) => token.is_open(),
        }
    }
}

const NIL: usize = usize::MAX;

struct Node<T> {
    prev: usize,
    next: usize,
    linked: bool,
    waiter: Waiter<T>,
}

/// FIFO of parked waiters with O(1) removal by key.
pub(crate) struct WaitList<T> {
    nodes: Slab<Node<T>>,
    head: usize,
    tail: usize,
}

impl<T> WaitList<T> {
    pub(crate) const fn new() -> Self {
        WaitList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
        }
    }

    /// Parks `waiter` at the back; the key identifies it until [`remove`](Self::remove).
    pub(crate) fn park(&mut self, waiter: Waiter<T>) -> usize {
        let key = self.nodes.insert(Node {
            prev: self.tail,
            next: NIL,
            linked: true,
            waiter,
        });
        match self.tail {
            NIL => self.head = key,
            t => self.nodes[t].next = key,
        }
        self.tail = key;
        key
    }

    fn unlink(&mut self, key: usize) {
        let node = &mut self.nodes[key];
        if !node.linked {
            return;
        }
        node.linked = false;
        let (prev, next) = (node.prev, node.next);
        match prev {
            NIL => self.head = next,
            p => self.nodes[p].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.nodes[n].prev = prev,
        }
    }

    /// Unlinks waiters from the front until one can be claimed; returns it.
    /// Waiters of an already decided select are unlinked and skipped.
    pub(crate) fn pop_claimed(&mut self) -> Option<usize> {
        while self.head != NIL {
            let key = self.head;
            self.unlink(key);
            if self.nodes[key].waiter.claim() {
                return Some(key);
            }
        }
        None
    }

    /// The key of the first parked waiter, left parked (for queues without
    /// selects, whose head may have to wait its turn).
    pub(crate) fn front(&self) -> Option<usize> {
        (self.head != NIL).then_some(self.head)
    }

    /// Whether [`pop_claimed`](Self::pop_claimed) would (racily, for selects) find a waiter.
    pub(crate) fn has_claimable(&self) -> bool {
        let mut key = self.head;
        while key != NIL {
            let node = &self.nodes[key];
            if node.waiter.claimable() {
                return true;
            }
            key = node.next;
        }
        false
    }

    /// The waiter under `key` (parked or completed).
    pub(crate) fn get_mut(&mut self, key: usize) -> &mut Waiter<T> {
        &mut self.nodes[key].waiter
    }

    /// Marks a claimed waiter done and returns its waker for the caller to
    /// wake once the channel lock is released.
    pub(crate) fn complete(&mut self, key: usize) -> Option<Waker> {
        let w = &mut self.nodes[key].waiter;
        w.done = true;
        w.waker.take()
    }

    /// Replaces the stored waker if `waker` would wake a different task;
    /// returns the old one, to be dropped once the lock is released.
    #[must_use]
    pub(crate) fn update_waker(&mut self, key: usize, waker: &Waker) -> Option<Waker> {
        let slot = &mut self.nodes[key].waiter.waker;
        match slot {
            Some(w) if w.will_wake(waker) => None,
            _ => slot.replace(waker.clone()),
        }
    }

    /// Frees the waiter under `key`, unlinking it if still parked.
    pub(crate) fn remove(&mut self, key: usize) -> Waiter<T> {
        self.unlink(key);
        self.nodes.remove(key).waiter
    }

    #[cfg(all(test, not(loom)))]
    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    fn waiter(v: u32) -> Waiter<u32> {
        Waiter::new(Some(v), Waker::noop(), None)
    }

    #[test]
    fn fifo_and_removal_from_the_middle() {
        let mut l = WaitList::new();
        let a = l.park(waiter(1));
        let b = l.park(waiter(2));
        let c = l.park(waiter(3));
        assert_eq!(l.remove(b).value, Some(2));
        assert_eq!(l.pop_claimed(), Some(a));
        assert_eq!(l.pop_claimed(), Some(c));
        assert_eq!(l.pop_claimed(), None);
        assert!(l.is_empty());
        // Popped waiters stay allocated until removed.
        assert_eq!(l.remove(a).value, Some(1));
        assert_eq!(l.remove(c).value, Some(3));
    }

    #[test]
    fn decided_selects_are_skipped() {
        let token = Arc::new(Token::new());
        let mut l = WaitList::new();
        let a = l.park(Waiter::new(Some(1u32), Waker::noop(), Some((&token, 0))));
        let b = l.park(Waiter::new(Some(2u32), Waker::noop(), Some((&token, 1))));
        let c = l.park(waiter(3));
        assert!(l.has_claimable());
        assert_eq!(l.pop_claimed(), Some(a));
        assert_eq!(token.selected(), Some(0));
        // b belongs to the same, now decided, select.
        assert_eq!(l.pop_claimed(), Some(c));
        assert!(l.is_empty());
        assert!(!l.get_mut(b).done);
        l.remove(b);
    }

    #[test]
    fn aborted_token_is_not_claimable_until_reset() {
        let token = Token::new();
        assert_eq!(token.abort(), Ok(()));
        assert!(!token.try_claim(3));
        assert_eq!(token.selected(), None);
        token.reset();
        assert!(token.try_claim(3));
        assert_eq!(token.abort(), Err(3));
    }
}
