//! Go channels: typed, many-to-many, for tasks on one core or across cores.
//!
//! ```
//! uringo::start(async {
//!     let (tx, rx) = uringo::chan::<u64>(0); // rendezvous, like make(chan uint64)
//!     let producer = uringo::spawn_on(uringo::cores() - 1, move || async move {
//!         for i in 0..3 {
//!             tx.send(i).await.unwrap(); // returns once a receiver took i
//!         }
//!         // Dropping the last sender closes the channel.
//!     });
//!     let mut got = Vec::new();
//!     while let Some(v) = rx.recv().await {
//!         got.push(v); // None once closed and drained
//!     }
//!     producer.await;
//!     assert_eq!(got, [0, 1, 2]);
//!
//!     let (tx, rx) = uringo::chan::<String>(64); // buffered, like make(chan string, 64)
//!     rx.close();
//!     let err = tx.send("late".to_string()).await.unwrap_err();
//!     assert_eq!(err.0, "late"); // a send on a closed channel gives the value back
//! });
//! ```
//!
//! Why this shape: Go's channel algorithm (one lock per channel, FIFO queues
//! of parked senders and receivers, direct hand-off to a parked counterpart)
//! gives rendezvous semantics, FIFO per sender and a `select!` in which only
//! one branch takes effect, with one short critical section per operation.
//! The core only parks and wakes std [`Waker`](std::task::Waker)s, so it
//! works under any executor; under uringo a wake from another core goes to
//! that core's remote queue and rings it only if it is parked.
//!
//! Cost: an operation takes the channel lock once (one compare-and-swap,
//! released with a plain store, see `lock.rs`); parking clones the task's
//! waker; after warm-up nothing allocates (parked waiters live in a slab).
//! A rendezvous send completes when its value has been moved into a parked
//! receiver (or taken from the parked sender), as in Go. [`Receiver::recv_many`]
//! takes a whole batch under one lock. Waiting on several channels at once:
//! [`select!`](crate::select!).
//!
//! Files: `waiter.rs` (wait queues, select token), `state.rs` (the locked
//! state and its invariants), `zero.rs` and `array.rs` (the two flavors),
//! `future.rs` (`send`/`recv` futures and their cancellation), `lock.rs`
//! (the lock around the state).
//!
//! Closing: [`Sender::close`] or [`Receiver::close`], dropping the last
//! `Sender`, or dropping the last `Receiver` (then buffered values are
//! dropped, as nobody can receive them). After close, receivers drain what
//! was sent, then get `None`; parked and later senders get their value back.

mod array;
mod future;
pub(crate) mod lock;
mod state;
pub(crate) mod waiter;
mod zero;

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) use future::cancel_recv;
pub use future::{RecvFuture, SendFuture};
pub(crate) use state::{RecvStep, SendStep, State};

use crate::shim::Arc;
use lock::{Guard, Lock};

/// Creates a channel: `cap == 0` is a rendezvous channel (a send completes
/// once a receiver has taken the value), `cap > 0` buffers up to `cap` values.
pub fn chan<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Lock::new(State::new(cap)),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, next: None },
    )
}

pub(crate) struct Shared<T> {
    state: Lock<State<T>>,
}

impl<T> Shared<T> {
    pub(crate) fn lock(&self) -> Guard<'_, State<T>> {
        self.state.lock()
    }
}

/// The sending half. Cloning adds a sender; dropping the last one closes.
pub struct Sender<T> {
    pub(crate) shared: Arc<Shared<T>>,
}

/// The receiving half. Cloning adds a receiver (each value goes to one of
/// them); dropping the last one closes and drops buffered values.
pub struct Receiver<T> {
    pub(crate) shared: Arc<Shared<T>>,
    /// The waiter parked by [`Stream::poll_next`](futures_core::Stream::poll_next).
    next: Option<usize>,
}

/// The channel was closed; the value that could not be sent is inside.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

/// Why [`Sender::try_send`] failed; the value is inside.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The buffer is full (or, for cap 0, no receiver is waiting).
    Full(T),
    /// The channel is closed.
    Closed(T),
}

/// Why [`Receiver::try_recv`] returned nothing.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum TryRecvError {
    /// Nothing to receive now (for cap 0: no sender is waiting).
    Empty,
    /// Closed and drained.
    Closed,
}

impl<T> Sender<T> {
    /// Sends `v`, waiting while the buffer is full (cap 0: until a receiver
    /// takes it). Dropping the future before it completes drops `v` undelivered.
    pub fn send(&self, v: T) -> SendFuture<'_, T> {
        SendFuture::new(&self.shared, v)
    }

    /// Sends `v` if that needs no waiting.
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        let step = self.shared.lock().try_send(v);
        match step {
            SendStep::Sent(waker) => {
                if let Some(w) = waker {
                    w.wake();
                }
                Ok(())
            }
            SendStep::Full(v) => Err(TrySendError::Full(v)),
            SendStep::Closed(v) => Err(TrySendError::Closed(v)),
        }
    }

    /// Closes the channel (see the module docs).
    pub fn close(&self) {
        self.shared.close();
    }

    /// Whether the channel was closed.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.shared.lock().buf.len()
    }

    /// Whether no value is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity given to [`chan`] (0 for rendezvous).
    pub fn capacity(&self) -> usize {
        self.shared.lock().cap
    }

    /// Whether both handles belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Receiver<T> {
    /// Receives the next value; `None` once closed and drained. Dropping the
    /// future before it completes leaves every value in the channel.
    pub fn recv(&self) -> RecvFuture<'_, T> {
        RecvFuture::new(&self.shared)
    }

    /// Waits for at least one value, then appends up to `limit` values to
    /// `buf` under a single lock acquisition; returns how many. `0` means the
    /// channel is closed and drained (or `limit` is 0). Cancelling it before
    /// it completes leaves every value in the channel.
    pub async fn recv_many(&self, buf: &mut Vec<T>, limit: usize) -> usize {
        if limit == 0 {
            return 0;
        }
        let Some(first) = self.recv().await else {
            return 0;
        };
        buf.push(first);
        let mut n = 1;
        let mut wakers = Vec::new();
        let mut s = self.shared.lock();
        while n < limit {
            match s.try_recv() {
                RecvStep::Got(v, waker) => {
                    buf.push(v);
                    n += 1;
                    wakers.extend(waker);
                }
                RecvStep::Empty | RecvStep::Closed => break,
            }
        }
        drop(s);
        for w in wakers {
            w.wake();
        }
        n
    }

    /// Receives a value if that needs no waiting.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let step = self.shared.lock().try_recv();
        match step {
            RecvStep::Got(v, waker) => {
                if let Some(w) = waker {
                    w.wake();
                }
                Ok(v)
            }
            RecvStep::Empty => Err(TryRecvError::Empty),
            RecvStep::Closed => Err(TryRecvError::Closed),
        }
    }

    /// Closes the channel (see the module docs); buffered values can still
    /// be received.
    pub fn close(&self) {
        self.shared.close();
    }

    /// Whether the channel was closed.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.shared.lock().buf.len()
    }

    /// Whether no value is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity given to [`chan`] (0 for rendezvous).
    pub fn capacity(&self) -> usize {
        self.shared.lock().cap
    }

    /// Whether both handles belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Shared<T> {
    fn close(&self) {
        let wakers = self.lock().close();
        for w in wakers {
            w.wake();
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().tx_count += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.lock().rx_count += 1;
        Receiver {
            shared: self.shared.clone(),
            next: None,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut s = self.shared.lock();
        s.tx_count -= 1;
        if s.tx_count == 0 {
            let wakers = s.close();
            drop(s);
            for w in wakers {
                w.wake();
            }
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(key) = self.next.take() {
            future::cancel_recv(&self.shared, key);
        }
        let mut s = self.shared.lock();
        s.rx_count -= 1;
        if s.rx_count == 0 {
            let wakers = s.close();
            let dropped = std::mem::take(&mut s.buf);
            drop(s);
            drop(dropped);
            for w in wakers {
                w.wake();
            }
        }
    }
}

impl<T> AsRef<Receiver<T>> for Receiver<T> {
    fn as_ref(&self) -> &Receiver<T> {
        self
    }
}

impl<T> AsRef<Sender<T>> for Sender<T> {
    fn as_ref(&self) -> &Sender<T> {
        self
    }
}

impl<T> futures_core::Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        future::poll_recv(&this.shared, cx.waker(), &mut this.next)
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("send on a closed channel")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("channel full"),
            TrySendError::Closed(_) => f.write_str("send on a closed channel"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Closed => f.write_str("channel closed and drained"),
        }
    }
}

impl std::error::Error for TryRecvError {}

#[cfg(all(test, loom))]
pub(crate) mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;
