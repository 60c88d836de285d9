//! One derived context: its error, its parked `done()` waiters and its
//! children, under one lock; and the handle whose drop takes it out of its
//! parent.

use std::task::{Poll, Waker};
use std::time::Instant;

use slab::Slab;

use super::Error;
use crate::chan::lock::Lock;
use crate::chan::waiter::{WaitList, Waiter};
use crate::shim::{Arc, AtomicBool, Ordering};

pub(super) struct Node {
    /// The effective deadline: the earlier of its own and its parent's.
    pub(super) deadline: Option<Instant>,
    /// Set (Release) once `state.err` is; lets `err()` skip the lock.
    done: AtomicBool,
    state: Lock<State>,
}

struct State {
    err: Option<Error>,
    waiters: WaitList<()>,
    children: Slab<Arc<Node>>,
}

/// What `Context` and `CancelFunc` share: the node and its place in the
/// parent, released when the last of them is dropped.
pub(super) struct Handle {
    pub(super) node: Arc<Node>,
    parent: Option<(Arc<Node>, usize)>,
}

impl Handle {
    pub(super) fn new(parent: Option<Arc<Node>>, deadline: Option<Instant>) -> Handle {
        let deadline = match (parent.as_ref().and_then(|p| p.deadline), deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let node = Arc::new(Node {
            deadline,
            done: AtomicBool::new(false),
            state: Lock::new(State {
                err: None,
                waiters: WaitList::new(),
                children: Slab::new(),
            }),
        });
        let Some(parent) = parent else {
            return Handle { node, parent: None };
        };
        let mut p = parent.state.lock();
        match p.err {
            Some(err) => {
                drop(p);
                node.cancel(err);
                Handle { node, parent: None }
            }
            None => {
                let key = p.children.insert(node.clone());
                drop(p);
                Handle {
                    node,
                    parent: Some((parent, key)),
                }
            }
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some((parent, key)) = self.parent.take() {
            // Gone already if the parent was cancelled (it drained its
            // children and takes no more, so the key was not reused).
            let child = parent.state.lock().children.try_remove(key);
            drop(child);
        }
    }
}

impl Node {
    pub(super) fn err(&self) -> Option<Error> {
        if self.done.load(Ordering::Acquire) {
            return self.state.lock().err;
        }
        match self.deadline {
            Some(d) if Instant::now() >= d => {
                self.cancel(Error::DeadlineExceeded);
                self.state.lock().err
            }
            _ => None,
        }
    }

    /// Cancels this node and its subtree with `err`; a node already done
    /// keeps its first error.
    pub(super) fn cancel(&self, err: Error) {
        let mut children = self.cancel_one(err);
        while let Some(child) = children.pop() {
            children.extend(child.cancel_one(err));
        }
    }

    /// Cancels this node alone; returns its children for the caller to walk.
    fn cancel_one(&self, err: Error) -> Vec<Arc<Node>> {
        let mut s = self.state.lock();
        if s.err.is_some() {
            return Vec::new();
        }
        s.err = Some(err);
        self.done.store(true, Ordering::Release);
        let mut wakers = Vec::new();
        while let Some(key) = s.waiters.pop_claimed() {
            wakers.extend(s.waiters.complete(key));
        }
        let children: Vec<_> = s.children.drain().collect();
        drop(s);
        wakers.into_iter().for_each(Waker::wake);
        children
    }

    /// Ready once cancelled; otherwise parks (or re-arms) a waiter under `key`.
    pub(super) fn poll_done(&self, key: &mut Option<usize>, waker: &Waker) -> Poll<()> {
        let mut s = self.state.lock();
        if s.err.is_some() {
            if let Some(k) = key.take() {
                s.waiters.remove(k);
            }
            return Poll::Ready(());
        }
        match *key {
            Some(k) => {
                let old = s.waiters.update_waker(k, waker);
                drop(s);
                drop(old);
            }
            None => *key = Some(s.waiters.park(Waiter::new(None, waker, None))),
        }
        Poll::Pending
    }

    pub(super) fn unpark(&self, key: usize) {
        self.state.lock().waiters.remove(key);
    }
}
