//! The I/O driver of a core: the backend contract and its two backends.
//!
//! # The backend contract
//!
//! A backend is what a core parks in and what runs its ops. Each provides:
//!
//! - **submit an op**: [`Driver::start`] is given an [`Operation`] and
//!   returns the [`Ticket`] the op's future keeps. io_uring pushes the op's
//!   SQE; epoll does nothing yet (the op runs when first polled).
//! - **deliver its completion(s)**: [`Driver::poll_op`] /
//!   [`Driver::poll_multi`] yield [`Cqe`]s in io_uring's encoding. io_uring
//!   reaps them from the CQ; epoll runs [`Operation::attempt`], a
//!   non-blocking syscall, and when it would block waits for the fd's
//!   edge-triggered readiness, then tries again.
//! - **cancel**: [`Driver::abandon`] takes a dropped future's resources.
//!   io_uring keeps them in the op table and submits ASYNC_CANCEL; they are
//!   freed at the op's last CQE (invariant 1). Epoll hands them straight
//!   back: nothing of a dropped op is in the kernel.
//! - **park with a deadline**: [`Driver::turn`] submits what is queued, then
//!   blocks for at most the given time (the timer wheel's next deadline)
//!   until something completes or becomes ready: io_uring_enter with a
//!   timeout, or epoll_wait.
//! - **wake from any thread**: the core's eventfd (written by any thread,
//!   and by the signal handler) is always watched: a read armed in the ring,
//!   or registered with epoll. io_uring cores also take MSG_RING wakes
//!   ([`Driver::msg_ring_wake`]), falling back to the eventfd if one fails.
//! - **lend receive buffers**: [`Driver::recv_pool`] is the core's
//!   [`BufPool`]; the kernel fills it (io_uring's provided-buffer ring), or
//!   the recv attempt does (epoll). Either way the user gets a `RecvBuf`.
//!
//! Nothing above this module (`net/`, `time/`, `chan/`, the servers) knows
//! which backend runs; `crate::features()` says.
//!
//! # Adding an op
//!
//! An op is one file in `op/`: a struct owning everything the kernel reads
//! or writes while it runs, implementing the `unsafe trait` [`Operation`]
//! (its two forms: [`Operation::sqe`] for io_uring, [`Operation::attempt`]
//! for epoll), [`Release`] (what a late CQE of an abandoned op hands back),
//! and then either [`OneShot`] (`complete`: CQE to output, resources handed
//! back) or [`MultiShot`] (`item`: each CQE to a stream item; `poll_arm`:
//! whether it may be re-armed). `op::Op` and `op::Multi` are its future and
//! stream; both backends run it with no change here.
//!
//! An fd an attempt waits on gets registered with epoll; it must be closed
//! through `net::SharedFd` (or after [`Driver::forget_fd`], as `op::Connect`
//! does for its socket), or a new fd with the same number would inherit
//! the stale registration and never be woken.

mod buf_pool;
mod cpu_clock;
mod cqe;
mod epoll;
mod features;
mod uring;

use std::io;
use std::os::fd::{OwnedFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use io_uring::squeue;

pub(crate) use buf_pool::BufPool;
pub(crate) use cpu_clock::thread_cpu_ns;
pub(crate) use cqe::{Cqe, Release};
pub use features::Features;
pub(crate) use uring::{
    defer_fixed_close, index_for_sqe, write_eventfd, Registered, Wanted, NO_SEND,
};

/// Which I/O backend the cores run on (see [`Builder::backend`](crate::Builder::backend)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backend {
    /// io_uring where it can be set up; epoll, with one warning saying why,
    /// where it cannot (ENOSYS, EPERM from seccomp or
    /// `kernel.io_uring_disabled`, ENOMEM). The default.
    #[default]
    Auto,
    /// io_uring only: building the runtime fails, saying why, without it.
    IoUring,
    /// epoll readiness, io_uring not used at all.
    Epoll,
}

impl Backend {
    /// The name used on command lines and in `URINGO_BACKEND`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::IoUring => "io-uring",
            Backend::Epoll => "epoll",
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Backend, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Backend::Auto),
            "io-uring" | "io_uring" | "iouring" | "uring" => Ok(Backend::IoUring),
            "epoll" => Ok(Backend::Epoll),
            other => Err(format!(
                "unknown backend {other:?}: expected auto, io-uring or epoll"
            )),
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a backend needs to open a core's driver.
pub(crate) struct Config<'a> {
    pub(crate) wanted: &'a Wanted,
    /// The core's wake eventfd (owned by its signal, which outlives the driver).
    pub(crate) eventfd: RawFd,
    pub(crate) buf_count: u16,
    pub(crate) buf_size: u32,
}

/// Per-core counters, see [`crate::CoreStats`].
#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct Counters {
    /// io_uring: SQEs pushed. epoll: ops started.
    pub(crate) sqes: u64,
    /// io_uring: CQEs reaped. epoll: readiness events.
    pub(crate) cqes: u64,
    /// io_uring: io_uring_enter calls. epoll: epoll_wait calls.
    pub(crate) enters: u64,
    /// io_uring with `URINGO_CPU_SPLIT=1`: thread CPU spent inside
    /// io_uring_enter (see `cpu_clock`); None when not measured.
    pub(crate) enter_cpu_ns: Option<u64>,
}

/// The readiness an epoll attempt waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Interest {
    Read,
    Write,
}

/// The outcome of one non-blocking attempt of an op (epoll).
#[derive(Debug)]
pub(crate) enum Attempt {
    /// It ran: this is its completion.
    Done(Cqe),
    /// It would block: try again once `fd` is ready for `Interest`.
    Wait(RawFd, Interest),
    /// Try again after the driver's next turn (NOP: a trip through the loop).
    NextTurn,
}

impl Attempt {
    /// The attempt for a syscall on `fd` that returned `ret`: EAGAIN waits
    /// for `interest`, anything else is the completion.
    pub(crate) fn from_syscall(ret: isize, fd: RawFd, interest: Interest) -> Attempt {
        let cqe = Cqe::from_libc(ret);
        if cqe.is_err(libc::EAGAIN) || cqe.is_err(libc::EWOULDBLOCK) {
            Attempt::Wait(fd, interest)
        } else {
            Attempt::Done(cqe)
        }
    }
}

/// An operation both backends can run.
///
/// # Safety
/// The SQE [`sqe`](Self::sqe) returns may carry pointers (buffers,
/// sockaddrs, lengths) that the kernel dereferences until the op's last
/// CQE. An implementor promises that each such pointer points into memory
/// `self` owns on the heap (or that outlives it), so it stays valid and at
/// the same address while `self` is moved, and that nothing else reads or
/// writes it until the op has completed, or `self` has been handed to
/// [`Release`] and dropped after the last CQE. Fds named in the SQE stay
/// open as long as `self` lives. [`attempt`](Self::attempt) has no such
/// contract: it runs synchronously and finishes before it returns.
pub(crate) unsafe trait Operation: Release {
    /// The io_uring form: the SQE (its user_data is set by the driver).
    fn sqe(&mut self) -> squeue::Entry;
    /// The epoll form: one non-blocking try.
    fn attempt(&mut self) -> Attempt;
}

/// An op with one completion.
pub(crate) trait OneShot: Operation + Sized {
    type Output;
    /// Builds the result from the completion, handing back the resources.
    fn complete(self, cqe: Cqe) -> Self::Output;
}

/// An op with a stream of completions (until one without MORE), re-armed
/// by its stream while wanted (invariant 2).
pub(crate) trait MultiShot: Operation {
    type Item;
    /// Ready when the op may be (re-)armed; Pending (with `cx` registered)
    /// while it cannot run, e.g. a recv with no free buffer.
    fn poll_arm(&mut self, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
    /// Turns one completion into a stream item, or None to go on to the
    /// next one (the op re-arms itself if this one ended it).
    fn item(&mut self, cqe: Cqe) -> Option<Self::Item>;
}

/// What an op's future keeps to find its op in the driver.
#[derive(Debug)]
pub(crate) enum Ticket {
    /// The op's slot in the io_uring op table.
    Uring(usize),
    /// An epoll op; `ended` once a multishot op's last completion was
    /// delivered (its stream re-arms it).
    Epoll { ended: bool },
}

/// A core's driver: one of the two backends.
// One per core, made once and never moved: boxing the larger variant would
// only add an indirection to every op.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Driver {
    Uring(uring::Driver),
    Epoll(epoll::Driver),
}

impl Driver {
    /// Opens a driver on `backend`; `Auto` tries io_uring and falls back
    /// to epoll (with a warning naming the cause) where io_uring cannot be
    /// set up. A forced io_uring fails with the explanation.
    pub(crate) fn open(backend: Backend, config: &Config<'_>) -> io::Result<Driver> {
        match backend {
            Backend::IoUring => uring::Driver::new(config).map(Driver::Uring),
            Backend::Epoll => epoll::Driver::new(config).map(Driver::Epoll),
            Backend::Auto => match uring::Driver::new(config) {
                Ok(driver) => Ok(Driver::Uring(driver)),
                Err(e) if uring::unavailable(&e) => {
                    tracing::warn!("uringo: running on epoll instead: {e}");
                    epoll::Driver::new(config).map(Driver::Epoll)
                }
                Err(e) => Err(e),
            },
        }
    }

    pub(crate) fn features(&self) -> Features {
        match self {
            Driver::Uring(d) => d.features,
            Driver::Epoll(d) => d.features,
        }
    }

    pub(crate) fn counters(&self) -> Counters {
        match self {
            Driver::Uring(d) => d.counters,
            Driver::Epoll(d) => d.counters,
        }
    }

    /// Ops the kernel may still touch (io_uring: including the wake read;
    /// epoll: none, ever).
    pub(crate) fn ops_in_flight(&self) -> usize {
        match self {
            Driver::Uring(d) => d.ops_in_flight(),
            Driver::Epoll(_) => 0,
        }
    }

    /// The ring fd that other cores' MSG_RING wakes target (-1: none).
    pub(crate) fn ring_fd(&self) -> RawFd {
        match self {
            Driver::Uring(d) => d.ring_fd(),
            Driver::Epoll(_) => -1,
        }
    }

    /// The buffer pool `recv()` lends from, if it can (io_uring needs
    /// multishot recv into a provided-buffer ring; epoll always can).
    pub(crate) fn recv_pool(&self) -> Option<Rc<BufPool>> {
        match self {
            Driver::Uring(d) => d.bufs.clone().filter(|_| d.features.multishot_recv),
            Driver::Epoll(d) => Some(d.bufs.clone()),
        }
    }

    /// The size of one receive buffer.
    pub(crate) fn recv_buf_size(&self) -> usize {
        match self {
            Driver::Uring(d) => d.bufs.as_ref().map_or(16 * 1024, |b| b.buf_size() as usize),
            Driver::Epoll(d) => d.bufs.buf_size() as usize,
        }
    }

    /// Whether a multishot accept runs (on epoll, every accept is a try).
    pub(crate) fn multishot_accept(&self) -> bool {
        match self {
            Driver::Uring(d) => d.features.multishot_accept,
            Driver::Epoll(_) => true,
        }
    }

    /// Submits `op`.
    pub(crate) fn start(&mut self, op: &mut impl Operation) -> Ticket {
        match self {
            Driver::Uring(d) => Ticket::Uring(d.start(op)),
            Driver::Epoll(d) => {
                d.counters.sqes += 1;
                Ticket::Epoll { ended: false }
            }
        }
    }

    /// Polls a one-shot op for its completion.
    pub(crate) fn poll_op(
        &mut self,
        ticket: &mut Ticket,
        op: &mut impl Operation,
        cx: &mut Context<'_>,
    ) -> Poll<Cqe> {
        match (self, ticket) {
            (Driver::Uring(d), Ticket::Uring(key)) => d.poll_op(*key, cx),
            (Driver::Epoll(d), Ticket::Epoll { .. }) => d.poll_attempt(op, cx),
            _ => unreachable!("an op polled on another backend than it started on"),
        }
    }

    /// Polls a multishot op: its next completion, or None once it has
    /// ended (its last completion was delivered; re-arm to go on).
    pub(crate) fn poll_multi(
        &mut self,
        ticket: &mut Ticket,
        op: &mut impl Operation,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Cqe>> {
        match (self, ticket) {
            (Driver::Uring(d), Ticket::Uring(key)) => d.poll_multi(*key, cx),
            (Driver::Epoll(_), Ticket::Epoll { ended: true }) => Poll::Ready(None),
            (Driver::Epoll(d), Ticket::Epoll { ended }) => {
                let cqe = std::task::ready!(d.poll_attempt(op, cx));
                *ended = !cqe.more();
                Poll::Ready(Some(cqe))
            }
            _ => unreachable!("an op polled on another backend than it started on"),
        }
    }

    /// The future of an op was dropped before its completion was taken.
    /// Returns the resources if they can be dropped now; io_uring keeps
    /// them until the kernel is done (invariant 1). The caller drops them
    /// after releasing the driver (dropping may close an fd, which asks
    /// the driver to forget it).
    pub(crate) fn abandon(
        &mut self,
        ticket: Ticket,
        resources: Box<dyn Release>,
    ) -> Option<Box<dyn Release>> {
        match (self, ticket) {
            (Driver::Uring(d), Ticket::Uring(key)) => {
                d.orphan(key, resources);
                None
            }
            _ => Some(resources),
        }
    }

    /// Starts a write-behind send of `buf` on `fd` (io_uring, a buffer of
    /// the provided ring): the driver ends it itself, see
    /// `uring/behind.rs`. Its user_data, or `Err(buf)` to send it otherwise.
    pub(crate) fn start_behind(
        &mut self,
        fd: &crate::net::SharedFd,
        buf: crate::buf::RecvBuf,
    ) -> Result<u64, crate::buf::RecvBuf> {
        match self {
            Driver::Uring(d) => d.start_behind(fd, buf),
            Driver::Epoll(_) => Err(buf),
        }
    }

    /// Whether write-behind send `user_data` has ended (its failure, if
    /// any); while it runs, `cx` is woken at its end.
    pub(crate) fn poll_behind(&mut self, user_data: u64, cx: &Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Driver::Uring(d) => d.poll_behind(user_data, cx),
            Driver::Epoll(_) => Poll::Ready(Ok(())),
        }
    }

    /// The stream of write-behind send `user_data` is gone.
    pub(crate) fn detach_behind(&mut self, user_data: u64) {
        if let Driver::Uring(d) = self {
            d.detach_behind(user_data);
        }
    }

    /// `fd` is about to be closed: drop any registration of it, so that a
    /// new fd with the same number starts afresh.
    pub(crate) fn forget_fd(&mut self, fd: RawFd) {
        if let Driver::Epoll(d) = self {
            d.forget(fd);
        }
    }

    /// Registers a stream's socket in the ring's fixed-file table, so its
    /// ops skip the fd lookup; None where there is none or it is full.
    pub(crate) fn register_fixed(&mut self, fd: RawFd) -> Option<Registered> {
        match self {
            Driver::Uring(d) => d.register_fixed(fd),
            Driver::Epoll(_) => None,
        }
    }

    /// Releases a slot [`register_fixed`](Self::register_fixed) gave.
    pub(crate) fn close_fixed(&mut self, registered: Registered) {
        match self {
            Driver::Uring(d) => d.close_fixed(registered),
            Driver::Epoll(_) => defer_fixed_close(registered),
        }
    }

    /// Slots of the fixed-file table in use.
    pub(crate) fn fixed_in_use(&self) -> u32 {
        match self {
            Driver::Uring(d) => d.fixed_in_use(),
            Driver::Epoll(_) => 0,
        }
    }

    /// Submits what is queued and waits up to `wait` (`None`: no limit) for
    /// a completion or readiness; the wakers of ops that can go on are
    /// appended to `out`, to be woken once the driver is released.
    pub(crate) fn turn(&mut self, wait: Option<Duration>, out: &mut Vec<Waker>) -> io::Result<()> {
        match self {
            Driver::Uring(d) => d.turn(wait, out),
            Driver::Epoll(d) => d.turn(wait, out),
        }
    }

    /// Cancels every op still in flight (runtime shutdown).
    pub(crate) fn cancel_all(&mut self) {
        if let Driver::Uring(d) = self {
            d.cancel_all();
        }
    }

    /// Gives up on ops the kernel never completed: their resources are
    /// leaked, never freed under the kernel.
    pub(crate) fn leak_ops(&mut self) {
        if let Driver::Uring(d) = self {
            d.leak_ops();
        }
    }

    /// Wakes the core whose ring is `target_ring` with a MSG_RING; false if
    /// it could not be sent (the caller writes `eventfd` instead).
    pub(crate) fn msg_ring_wake(&mut self, target_ring: RawFd, eventfd: &Arc<OwnedFd>) -> bool {
        match self {
            Driver::Uring(d) => d.msg_ring_wake(target_ring, eventfd),
            Driver::Epoll(_) => false,
        }
    }
}
