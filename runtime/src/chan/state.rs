//! The state every channel keeps under its one lock, and the operations the
//! futures, the `Stream` impl and `select!` build on.
//!
//! Invariants (hold whenever the lock is free):
//! - a receiver is parked only while nothing can be received (buffer empty,
//!   no claimable sender, not closed), a sender only while the buffer is full
//!   (always, for cap 0) and no receiver is claimable, and not closed;
//! - once `closed`, no waiter is parked (close completes them all) and no
//!   value enters the buffer except one given back by a dropped receiver;
//! - user values and wakers leave the lock before they are dropped or woken,
//!   since either may run arbitrary code (even code that uses this channel).
//!
//! The flavors differ only in how a value moves; see `zero.rs` and `array.rs`.

use std::collections::VecDeque;
use std::task::Waker;

use super::waiter::{Token, WaitList, Waiter};
use super::{array, zero};
use crate::shim::Arc;

pub(crate) struct State<T> {
    pub(crate) buf: VecDeque<T>,
    pub(crate) cap: usize,
    pub(crate) closed: bool,
    pub(crate) senders: WaitList<T>,
    pub(crate) receivers: WaitList<T>,
    pub(crate) tx_count: usize,
    pub(crate) rx_count: usize,
}

/// Outcome of an attempt to send without waiting.
pub(crate) enum SendStep<T> {
    /// Delivered; wake this waiter after unlocking.
    Sent(Option<Waker>),
    Full(T),
    Closed(T),
}

/// Outcome of an attempt to receive without waiting.
pub(crate) enum RecvStep<T> {
    /// Received; wake this waiter after unlocking.
    Got(T, Option<Waker>),
    Empty,
    Closed,
}

impl<T> State<T> {
    pub(crate) fn new(cap: usize) -> Self {
        State {
            buf: VecDeque::with_capacity(cap.min(4096)),
            cap,
            closed: false,
            senders: WaitList::new(),
            receivers: WaitList::new(),
            tx_count: 1,
            rx_count: 1,
        }
    }

    pub(crate) fn try_send(&mut self, v: T) -> SendStep<T> {
        if self.closed {
            return SendStep::Closed(v);
        }
        if self.cap == 0 {
            zero::try_send(self, v)
        } else {
            array::try_send(self, v)
        }
    }

    pub(crate) fn try_recv(&mut self) -> RecvStep<T> {
        let step = if self.cap == 0 {
            zero::try_recv(self)
        } else {
            array::try_recv(self)
        };
        match step {
            RecvStep::Empty if self.closed => RecvStep::Closed,
            step => step,
        }
    }

    /// Whether a send would complete now (possibly with `Closed`).
    pub(crate) fn send_ready(&self) -> bool {
        self.closed || self.buf.len() < self.cap || self.receivers.has_claimable()
    }

    /// Whether a receive would complete now (possibly with `None`).
    pub(crate) fn recv_ready(&self) -> bool {
        self.closed || !self.buf.is_empty() || self.senders.has_claimable()
    }

    /// Hands a received value to another waiting receiver, or back to the
    /// front of the buffer, when the future that got it was dropped unpolled.
    /// The buffer may hold one value over `cap` until it is received.
    pub(crate) fn give_back(&mut self, v: T) -> Option<Waker> {
        match self.receivers.pop_claimed() {
            Some(key) => {
                self.receivers.get_mut(key).value = Some(v);
                self.receivers.complete(key)
            }
            None => {
                self.buf.push_front(v);
                None
            }
        }
    }

    pub(crate) fn park_sender(
        &mut self,
        v: T,
        waker: &Waker,
        select: Option<(&Arc<Token>, usize)>,
    ) -> usize {
        self.senders.park(Waiter::new(Some(v), waker, select))
    }

    pub(crate) fn park_receiver(
        &mut self,
        waker: &Waker,
        select: Option<(&Arc<Token>, usize)>,
    ) -> usize {
        self.receivers.park(Waiter::new(None, waker, select))
    }

    /// Closes the channel: every parked receiver completes with `None`, every
    /// parked sender with its value back. Returns the wakers to wake.
    pub(crate) fn close(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        if self.closed {
            return wakers;
        }
        self.closed = true;
        while let Some(key) = self.receivers.pop_claimed() {
            wakers.extend(self.receivers.complete(key));
        }
        while let Some(key) = self.senders.pop_claimed() {
            wakers.extend(self.senders.complete(key));
        }
        wakers
    }
}
