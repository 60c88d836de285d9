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

pub(crate) use super::meta::set_wait as set;

impl WaitOn {
    pub(crate) fn from_u8(v: u8) -> WaitOn {
        const ALL: [WaitOn; 15] = [
            WaitOn::Unknown,
            WaitOn::Io,
            WaitOn::Timer,
            WaitOn::ChanRecv,
            WaitOn::ChanSend,
            WaitOn::Select,
            WaitOn::Join,
            WaitOn::Mutex,
            WaitOn::RwLock,
            WaitOn::Semaphore,
            WaitOn::Notify,
            WaitOn::WaitGroup,
            WaitOn::Oneshot,
            WaitOn::Context,
            WaitOn::Signal,
        ];
        ALL.get(v as usize).copied().unwrap_or(WaitOn::Unknown)
    }

    /// A short name, as dumps print it.
    pub fn name(self) -> &'static str {
        match self {
            WaitOn::Unknown => "unknown",
            WaitOn::Io => "io",
            WaitOn::Timer => "timer",
            WaitOn::ChanRecv => "chan receive",
            WaitOn::ChanSend => "chan send",
            WaitOn::Select => "select",
            WaitOn::Join => "join",
            WaitOn::Mutex => "sync.Mutex",
            WaitOn::RwLock => "sync.RwLock",
            WaitOn::Semaphore => "sync.Semaphore",
            WaitOn::Notify => "sync.Notify",
            WaitOn::WaitGroup => "sync.WaitGroup",
            WaitOn::Oneshot => "oneshot",
            WaitOn::Context => "context.Done",
            WaitOn::Signal => "signal",
        }
    }
}
