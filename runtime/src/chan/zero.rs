//! Rendezvous flavor (capacity 0): Go's unbuffered channel.
//!
//! Algorithm: there is no buffer, only the two wait queues. A sender that
//! finds a parked receiver moves its value straight into that receiver's
//! waiter and completes; otherwise it parks holding the value. A receiver
//! that finds a parked sender takes the value out of the sender's waiter and
//! completes it, so a sender is released only once a receiver holds its
//! value; otherwise the receiver parks. Both queues are FIFO, so senders are
//! served in arrival order (and each sender's values in its own order).
//!
//! The buffer of the shared state is used only for a value given back by a
//! receiver future dropped after it was handed a value; that value is
//! received first.

use super::state::{RecvStep, SendStep, State};

pub(super) fn try_send<T>(s: &mut State<T>, v: T) -> SendStep<T> {
    match s.receivers.pop_claimed() {
        Some(key) => {
            s.receivers.get_mut(key).value = Some(v);
            SendStep::Sent(s.receivers.complete(key))
        }
        None => SendStep::Full(v),
    }
}

pub(super) fn try_recv<T>(s: &mut State<T>) -> RecvStep<T> {
    if let Some(v) = s.buf.pop_front() {
        return RecvStep::Got(v, None);
    }
    match s.senders.pop_claimed() {
        Some(key) => {
            let v = s.senders.get_mut(key).value.take();
            let waker = s.senders.complete(key);
            match v {
                Some(v) => RecvStep::Got(v, waker),
                None => unreachable!("a parked sender always holds its value"),
            }
        }
        None => RecvStep::Empty,
    }
}
