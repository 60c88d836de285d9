//! Buffered flavor (capacity > 0): Go's buffered channel.
//!
//! Algorithm: a FIFO ring (`VecDeque`) of at most `cap` values plus the two
//! wait queues. Receivers park only while the ring is empty, senders only
//! while it is full. A sender that finds a parked receiver (so the ring is
//! empty) hands its value over directly, skipping the ring; otherwise it
//! appends while there is room, else parks holding its value. A receiver
//! pops the oldest value and, if a sender is parked on the full ring, moves
//! that sender's value to the back of the ring and completes it, which keeps
//! FIFO order across parked and unparked senders.

use super::state::{RecvStep, SendStep, State};

pub(super) fn try_send<T>(s: &mut State<T>, v: T) -> SendStep<T> {
    if s.buf.is_empty() {
        if let Some(key) = s.receivers.pop_claimed() {
            s.receivers.get_mut(key).value = Some(v);
            return SendStep::Sent(s.receivers.complete(key));
        }
    }
    if s.buf.len() < s.cap {
        s.buf.push_back(v);
        SendStep::Sent(None)
    } else {
        SendStep::Full(v)
    }
}

pub(super) fn try_recv<T>(s: &mut State<T>) -> RecvStep<T> {
    let Some(v) = s.buf.pop_front() else {
        return RecvStep::Empty;
    };
    let mut waker = None;
    if s.buf.len() < s.cap {
        if let Some(key) = s.senders.pop_claimed() {
            if let Some(refill) = s.senders.get_mut(key).value.take() {
                s.buf.push_back(refill);
            }
            waker = s.senders.complete(key);
        }
    }
    RecvStep::Got(v, waker)
}
