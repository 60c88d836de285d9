//! What a parked task waits on, for task dumps: a one-byte tag that a
//! future sets where it registers its waker.

/// What a task is parked on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum WaitOn {
    /// Nothing tagged its wait (a future outside uringo, or not yet polled).
    Unknown,
    /// An I/O operation in the ring.
    Io,
    /// A timer (`sleep`, `timeout`, `interval`).
    Timer,
    /// A channel receive.
    ChanRecv,
    /// A channel send.
    ChanSend,
    /// A `select!` over several branches.
    Select,
    /// Another task's `JoinHandle` (or a `JoinSet`).
    Join,
    /// `sync::Mutex`.
    Mutex,
    /// `sync::RwLock`.
    RwLock,
    /// `sync::Semaphore`.
    Semaphore,
    /// `sync::Notify`.
    Notify,
    /// `sync::WaitGroup`.
    WaitGroup,
    /// `sync::oneshot`.
    Oneshot,
    /// `Context::done()`.
    Context,
    /// A signal.
    Signal,
}

/// Tags the task being polled on this thread as waiting on `what`.
#[inline]
pub(crate) fn set(_what: WaitOn) {}
