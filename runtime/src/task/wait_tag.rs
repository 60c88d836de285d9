//! What a parked task waits on, for task dumps: a one-byte tag that a
//! future sets where it registers its waker.

/// What a task is parked on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum WaitOn {
    /// Nothing tagged its wait (a future outside uringo, or not yet polled).
    Unknown,
    /// An I/O operation of a kind not listed below.
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
    /// An accept in the ring (or waiting for readiness, on epoll).
    IoAccept,
    /// A connect.
    IoConnect,
    /// A stream receive.
    IoRecv,
    /// A stream send.
    IoSend,
    /// A datagram receive (`recvmsg`).
    IoRecvMsg,
    /// A datagram send (`sendmsg`).
    IoSendMsg,
    /// A close.
    IoClose,
    /// A no-op round trip through the ring.
    IoNop,
}

pub(crate) use super::meta::set_wait as set;

impl WaitOn {
    pub(crate) fn from_u8(v: u8) -> WaitOn {
        const ALL: [WaitOn; 23] = [
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
            WaitOn::IoAccept,
            WaitOn::IoConnect,
            WaitOn::IoRecv,
            WaitOn::IoSend,
            WaitOn::IoRecvMsg,
            WaitOn::IoSendMsg,
            WaitOn::IoClose,
            WaitOn::IoNop,
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
            WaitOn::IoAccept => "io accept",
            WaitOn::IoConnect => "io connect",
            WaitOn::IoRecv => "io recv",
            WaitOn::IoSend => "io send",
            WaitOn::IoRecvMsg => "io recvmsg",
            WaitOn::IoSendMsg => "io sendmsg",
            WaitOn::IoClose => "io close",
            WaitOn::IoNop => "io nop",
        }
    }
}
