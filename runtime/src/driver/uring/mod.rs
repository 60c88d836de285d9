//! The io_uring backend: one ring per core with its op table, submission
//! batching, completion dispatch, cancellation and provided-buffer ring.
//!
//! Ops live in a `slab`; an SQE's user_data is its slot key and generation.
//! A few reserved user_data values (above any key) mark the driver's own
//! requests.

mod behind;
mod buf_ring;
mod fixed;
mod probe;
mod slot;
#[cfg(test)]
mod tests;

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use io_uring::{opcode, squeue, types, IoUring};
use slab::Slab;

pub(crate) use behind::NO_SEND;
pub(crate) use buf_ring::KernelRing;
use fixed::FixedFiles;
pub(crate) use fixed::{defer_close as defer_fixed_close, index_for_sqe, Registered};
pub(crate) use probe::Wanted;
use slot::{CqeQueue, Reaped, Slot};

use super::cpu_clock::{read_cost_ns, split_wanted, thread_cpu_ns};
use super::{BufPool, Config, Counters, Cqe, Features, Operation, Release};

/// CQE of an ASYNC_CANCEL we sent (its result does not matter).
const CANCEL: u64 = u64::MAX;
/// CQE of the read armed on the core's eventfd (a wake from a foreign thread).
const WAKE_READ: u64 = u64::MAX - 1;
/// CQE posted into this ring by another core's MSG_RING (a wake).
const WAKE_MSG: u64 = u64::MAX - 2;
/// CQE of a MSG_RING this ring sent: this bit, and the key of the target's
/// eventfd in `msg_fallbacks` (tags stay below 2^31, so no op has it).
const MSG_SENT: u64 = 1 << 63;
/// CQE of the IORING_OP_CLOSE of a fixed-file slot: these bits and the
/// slot's index (MSG_SENT's keys stay below 2^32, so none has bit 62).
const FIXED_CLOSE: u64 = MSG_SENT | 1 << 62;

pub(crate) struct Driver {
    // Field order is drop order: the ring closes before the memory the
    // kernel might have used (wake buffer, buffer ring) is freed.
    ring: IoUring,
    ops: Slab<Slot>,
    /// Generation of each op slot: user_data is `tag << 32 | key`, so a
    /// late CQE or cancel never reaches a newer op that reused the key.
    tags: Vec<u32>,
    next_tag: u32,
    pub(crate) features: Features,
    pub(crate) bufs: Option<Rc<BufPool>>,
    /// The registered-descriptor table streams' sockets go in, if any.
    fixed: Option<FixedFiles>,
    /// The eventfd of each core a MSG_RING wake is in flight to: written
    /// instead if the MSG_RING fails (the target must not stay parked).
    msg_fallbacks: Slab<Arc<OwnedFd>>,
    eventfd: i32,
    wake_buf: Box<u64>,
    wake_armed: bool,
    /// Set by `cancel_all`: the wake read is not re-armed any more.
    closing: bool,
    /// Wakers of completed ops and multishot ops to throttle, from `reap`.
    reaped: Reaped,
    /// Reused by `reap` for the CQEs of the driver's own requests.
    reserved: Vec<(u64, Cqe)>,
    pub(crate) counters: Counters,
    /// With the CPU split measured: what the clock reads around an enter
    /// cost outside the span they time (see `cpu_clock`).
    clock_read_ns: u64,
}

impl Driver {
    pub(crate) fn new(config: &Config<'_>) -> io::Result<Driver> {
        let (ring, mut features) = probe::setup(config.wanted)?;
        let bufs = if features.provided_buffers {
            match buf_ring::register(&ring, 0, config.buf_count, config.buf_size) {
                Ok(bufs) => Some(Rc::new(bufs)),
                Err(_) => {
                    features.provided_buffers = false;
                    features.multishot_recv = false;
                    None
                }
            }
        } else {
            None
        };
        let fixed = (config.wanted.fixed_files > 0)
            .then(|| FixedFiles::register(&ring, config.wanted.fixed_files).ok())
            .flatten();
        features.fixed_files = fixed.as_ref().map_or(0, FixedFiles::capacity);
        let split = split_wanted();
        let mut driver = Driver {
            ring,
            ops: Slab::with_capacity(256),
            tags: Vec::with_capacity(256),
            next_tag: 0,
            features,
            bufs,
            fixed,
            msg_fallbacks: Slab::new(),
            eventfd: config.eventfd,
            wake_buf: Box::new(0),
            wake_armed: false,
            closing: false,
            reaped: Reaped::default(),
            reserved: Vec::new(),
            counters: Counters {
                enter_cpu_ns: split.then_some(0),
                ..Counters::default()
            },
            clock_read_ns: if split { read_cost_ns() } else { 0 },
        };
        driver.arm_wake_read();
        // A filter may allow io_uring_setup but deny io_uring_enter: find
        // out now, while Backend::Auto can still choose epoll.
        if let Err(e) = driver.enter(IoUring::submit) {
            if matches!(e.raw_os_error(), Some(libc::EPERM | libc::ENOSYS)) {
                return Err(probe::explain_enter(e));
            }
        }
        Ok(driver)
    }

    pub(crate) fn ring_fd(&self) -> i32 {
        self.ring.as_raw_fd()
    }

    pub(crate) fn ops_in_flight(&self) -> usize {
        self.ops.len() + usize::from(self.wake_armed)
    }

    fn arm_wake_read(&mut self) {
        let sqe = opcode::Read::new(
            types::Fd(self.eventfd),
            (&mut *self.wake_buf as *mut u64).cast(),
            8,
        )
        .build()
        .user_data(WAKE_READ);
        self.push(&sqe);
        self.wake_armed = true;
    }

    /// Queues an SQE; a full SQ is submitted and reaped first (invariant 3).
    pub(crate) fn push(&mut self, sqe: &squeue::Entry) {
        loop {
            // SAFETY: every SQE we build points at memory owned by its op's
            // slot (or by the driver) until its last CQE.
            if unsafe { self.ring.submission().push(sqe) }.is_ok() {
                self.counters.sqes += 1;
                return;
            }
            if let Err(e) = self.enter(IoUring::submit) {
                if e.raw_os_error() != Some(libc::EBUSY) {
                    panic!("uringo: io_uring_enter failed while flushing a full SQ: {e}");
                }
            }
            self.reap();
        }
    }

    /// Submits `op` (its SQE may name this ring's fixed files); returns
    /// its slot key.
    pub(crate) fn start(&mut self, op: &mut impl Operation) -> usize {
        let sqe = match &self.fixed {
            Some(fixed) => fixed.building(|| op.sqe()),
            None => op.sqe(),
        };
        self.submit(sqe)
    }

    /// Registers a stream's `fd` in the fixed-file table; None if there is
    /// no table, it is full, or the kernel refused (the fd is used then).
    pub(crate) fn register_fixed(&mut self, fd: i32) -> Option<Registered> {
        self.fixed.as_mut()?.insert(&self.ring, fd)
    }

    /// Slots of the fixed-file table in use.
    pub(crate) fn fixed_in_use(&self) -> u32 {
        self.fixed.as_ref().map_or(0, FixedFiles::in_use)
    }

    /// Closes a slot of the fixed-file table (the stream's fd is closed
    /// apart). A slot of another ring is left to that ring's next turn.
    pub(crate) fn close_fixed(&mut self, registered: Registered) {
        if !self.fixed.as_ref().is_some_and(|f| f.owns(registered)) {
            fixed::defer_close(registered);
            return;
        }
        let index = registered.index();
        let sqe = opcode::Close::new(types::Fixed(index))
            .build()
            .user_data(FIXED_CLOSE | u64::from(index));
        self.push(&sqe);
    }

    /// Closes the slots whose streams were dropped while the driver was busy.
    fn close_deferred_fixed(&mut self) {
        let Some(fixed) = &self.fixed else { return };
        for registered in fixed.take_deferred() {
            self.close_fixed(registered);
        }
    }

    /// Submits a one-shot or multishot op; returns its slot key.
    pub(crate) fn submit(&mut self, sqe: squeue::Entry) -> usize {
        self.submit_slot(Slot::Waiting(None), sqe)
    }

    /// Submits `sqe` as the op of a new slot holding `slot`; returns its key.
    fn submit_slot(&mut self, slot: Slot, sqe: squeue::Entry) -> usize {
        let key = self.ops.insert(slot);
        if self.tags.len() <= key {
            self.tags.resize(key + 1, 0);
        }
        // Tags stay below 2^31 so no user_data collides with the reserved ones.
        self.next_tag = (self.next_tag + 1) & 0x7fff_ffff;
        self.tags[key] = self.next_tag;
        self.push(&sqe.user_data(self.user_data(key)));
        key
    }

    /// Polls a one-shot op: its CQE, once it came (the slot is then freed).
    pub(crate) fn poll_op(&mut self, key: usize, cx: &mut Context<'_>) -> Poll<Cqe> {
        let cqe = match &mut self.ops[key] {
            Slot::Done(cqe) => *cqe,
            Slot::Waiting(waker) => {
                set_waker(waker, cx);
                return Poll::Pending;
            }
            _ => unreachable!("one-shot op in a multishot, orphaned or write-behind slot"),
        };
        // A Done slot holds a Copy CQE only: nothing to drop.
        std::mem::forget(self.ops.remove(key));
        Poll::Ready(cqe)
    }

    /// Polls a multishot op: the next CQE, or None once the op has ended
    /// (its last CQE was already returned; the slot is then freed).
    pub(crate) fn poll_multi(&mut self, key: usize, cx: &mut Context<'_>) -> Poll<Option<Cqe>> {
        let slot = &mut self.ops[key];
        match slot {
            Slot::Waiting(waker) => {
                set_waker(waker, cx);
                Poll::Pending
            }
            Slot::Done(cqe) => {
                // A multishot op whose first CQE was already its last.
                let cqe = *cqe;
                *slot = Slot::Multi {
                    waker: None,
                    queue: CqeQueue::default(),
                    finished: true,
                    throttled: false,
                };
                Poll::Ready(Some(cqe))
            }
            Slot::Multi {
                waker,
                queue,
                finished,
                ..
            } => {
                if let Some(cqe) = queue.pop_front() {
                    return Poll::Ready(Some(cqe));
                }
                if *finished {
                    self.ops.remove(key);
                    return Poll::Ready(None);
                }
                set_waker(waker, cx);
                Poll::Pending
            }
            Slot::Orphaned(_) | Slot::Behind(_) => {
                unreachable!("polled an orphaned or write-behind op")
            }
        }
    }

    /// The future of op `key` was dropped: keep `resources` until the
    /// kernel is done, cancelling the op if it is still running (invariant 1).
    pub(crate) fn orphan(&mut self, key: usize, mut resources: Box<dyn Release>) {
        match std::mem::replace(&mut self.ops[key], Slot::Waiting(None)) {
            Slot::Done(cqe) => {
                resources.release(cqe);
                self.ops.remove(key);
            }
            Slot::Multi {
                queue, finished, ..
            } => {
                for cqe in queue {
                    resources.release(cqe);
                }
                if finished {
                    self.ops.remove(key);
                } else {
                    self.ops[key] = Slot::Orphaned(resources);
                    self.cancel(key);
                }
            }
            Slot::Waiting(_) => {
                self.ops[key] = Slot::Orphaned(resources);
                self.cancel(key);
            }
            Slot::Orphaned(_) | Slot::Behind(_) => {
                unreachable!("op orphaned twice, or write-behind")
            }
        }
    }

    fn user_data(&self, key: usize) -> u64 {
        (u64::from(self.tags[key]) << 32) | key as u64
    }

    fn cancel(&mut self, key: usize) {
        let sqe = opcode::AsyncCancel::new(self.user_data(key))
            .build()
            .user_data(CANCEL);
        self.push(&sqe);
    }

    /// Cancels every op still in flight (runtime shutdown).
    pub(crate) fn cancel_all(&mut self) {
        self.closing = true;
        let keys: Vec<usize> = self.ops.iter().map(|(k, _)| k).collect();
        for key in keys {
            if let Some(Slot::Behind(send)) = self.ops.get_mut(key) {
                send.detach(); // its stream may outlive the driver's drain
            }
            // A cancel pushed into a full SQ submits and reaps first, which
            // may have freed this slot already (its op completed): skip it.
            // No op is submitted meanwhile, so a freed key is never reused.
            if matches!(
                self.ops.get(key),
                Some(
                    Slot::Waiting(_)
                        | Slot::Multi {
                            finished: false,
                            ..
                        }
                        | Slot::Orphaned(_)
                        | Slot::Behind(_)
                )
            ) {
                self.cancel(key);
            }
        }
        if self.wake_armed {
            let sqe = opcode::AsyncCancel::new(WAKE_READ)
                .build()
                .user_data(CANCEL);
            self.push(&sqe);
        }
    }

    /// Gives up on ops the kernel never completed: their resources are
    /// leaked, never freed under the kernel.
    pub(crate) fn leak_ops(&mut self) {
        std::mem::forget(std::mem::take(&mut self.ops));
        if self.wake_armed {
            std::mem::forget(std::mem::replace(&mut self.wake_buf, Box::new(0)));
            self.wake_armed = false;
        }
        if let Some(bufs) = self.bufs.take() {
            std::mem::forget(bufs);
        }
    }

    /// Sends a wake to another core's ring; should the MSG_RING fail, its
    /// CQE makes this core write `fallback`, the target's eventfd, instead.
    /// False if it could not be queued (the caller writes the eventfd).
    pub(crate) fn msg_ring_wake(&mut self, target_ring: i32, fallback: &Arc<OwnedFd>) -> bool {
        if !self.features.msg_ring || target_ring < 0 {
            return false;
        }
        let key = self.msg_fallbacks.insert(fallback.clone());
        let sqe = opcode::MsgRingData::new(types::Fd(target_ring), 0, WAKE_MSG, None)
            .build()
            .user_data(MSG_SENT | key as u64);
        self.push(&sqe);
        if self.enter(IoUring::submit).is_ok() {
            return true;
        }
        // Not submitted, so no CQE will come for it. A CQE already reaped
        // (by push flushing a full SQ) removed the entry itself.
        self.msg_fallbacks.try_remove(key);
        false
    }

    /// The CQE of a MSG_RING wake: on failure, wake the target through its
    /// eventfd (a lost wake would leave it parked).
    fn msg_sent(&mut self, key: usize, cqe: Cqe) {
        let Some(eventfd) = self.msg_fallbacks.try_remove(key) else {
            return;
        };
        if cqe.result < 0 {
            tracing::debug!(
                "uringo: MSG_RING wake failed ({}); waking through the eventfd",
                io::Error::from_raw_os_error(-cqe.result)
            );
            write_eventfd(eventfd.as_raw_fd());
        }
    }

    /// Submits everything queued and reaps completions, waiting up to
    /// `wait` for at least one (`None`: no limit). Wakers of completed ops
    /// are appended to `out`, to be woken once the driver is released.
    pub(crate) fn turn(&mut self, wait: Option<Duration>, out: &mut Vec<Waker>) -> io::Result<()> {
        // Completions reaped while a full SQ was flushed (in `push`) have
        // wakers waiting here: blocking for a new one would strand them.
        self.close_deferred_fixed();
        let wait = if self.reaped.woken.is_empty() {
            wait
        } else {
            Some(Duration::ZERO)
        };
        let pending = self.ring.submission().len();
        let sq = self.ring.submission();
        let needs_enter = pending > 0 || sq.taskrun() || sq.cq_overflow();
        drop(sq);
        let result = match wait {
            Some(d) if d.is_zero() => {
                if needs_enter {
                    self.enter(IoUring::submit)
                } else {
                    Ok(0)
                }
            }
            _ if !self.ring.completion().is_empty() => self.enter(IoUring::submit),
            None => self.enter(|ring| ring.submit_and_wait(1)),
            Some(d) => {
                let ts = types::Timespec::from(d);
                let args = types::SubmitArgs::new().timespec(&ts);
                self.enter(|ring| ring.submitter().submit_with_args(1, &args))
            }
        };
        match result {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ETIME | libc::EINTR | libc::EBUSY | libc::EAGAIN)
                ) => {}
            Err(e) => return Err(e),
        }
        self.reap();
        if self.ring.submission().cq_overflow() {
            let _ = self.enter(|ring| ring.submit_and_wait(0));
            self.reap();
        }
        out.append(&mut self.reaped.woken);
        Ok(())
    }

    /// One io_uring_enter, made by `enter`: counted, and timed on the
    /// thread's CPU clock when the split is measured (`cpu_clock`).
    fn enter(&mut self, enter: impl FnOnce(&IoUring) -> io::Result<usize>) -> io::Result<usize> {
        self.counters.enters += 1;
        let Some(spent) = &mut self.counters.enter_cpu_ns else {
            return enter(&self.ring);
        };
        let start = thread_cpu_ns();
        let result = enter(&self.ring);
        *spent += thread_cpu_ns().saturating_sub(start) + self.clock_read_ns;
        result
    }

    fn reap(&mut self) {
        // Op CQEs are dispatched straight from the CQ, whose head is
        // published once, when the view is dropped; the driver's own CQEs
        // (reserved user_data, bit 63) are set aside, as they may push SQEs,
        // which needs the ring the view borrows.
        let mut reserved = std::mem::take(&mut self.reserved);
        loop {
            let mut cq = self.ring.completion();
            if cq.is_empty() {
                break;
            }
            let mut reaped = 0;
            for entry in &mut cq {
                reaped += 1;
                let cqe = Cqe {
                    result: entry.result(),
                    flags: entry.flags(),
                };
                match entry.user_data() {
                    ud if ud & MSG_SENT == 0 => {
                        let bufs = self.bufs.as_deref();
                        self.reaped.op(&mut self.ops, &self.tags, bufs, ud, cqe);
                    }
                    ud => reserved.push((ud, cqe)),
                }
            }
            drop(cq);
            self.counters.cqes += reaped;
            for (user_data, cqe) in reserved.drain(..) {
                self.dispatch_reserved(user_data, cqe);
            }
        }
        self.reserved = reserved;
        self.cancel_throttled();
        self.resend_behind();
    }

    /// Cancels the multishot ops whose streams hold too many buffers. Their
    /// last CQE (ECANCELED) ends them; each stream re-arms once drained, and
    /// what arrived meanwhile waits in the socket, so no data is lost.
    fn cancel_throttled(&mut self) {
        while let Some(key) = self.reaped.throttled.pop() {
            // A cancel into a full SQ reaps first, which may finish the op.
            if matches!(
                self.ops.get(key),
                Some(Slot::Multi {
                    finished: false,
                    ..
                })
            ) {
                self.cancel(key);
            }
        }
    }

    /// A CQE of the driver's own requests (reserved user_data).
    fn dispatch_reserved(&mut self, user_data: u64, cqe: Cqe) {
        match user_data {
            CANCEL | WAKE_MSG => {}
            WAKE_READ => {
                self.wake_armed = false;
                if cqe.result != -libc::ECANCELED && !self.closing {
                    self.arm_wake_read();
                }
            }
            fc if fc & FIXED_CLOSE == FIXED_CLOSE => {
                if let Some(fixed) = &mut self.fixed {
                    fixed.closed((fc & 0xffff_ffff) as u32);
                }
            }
            msg => self.msg_sent((msg & 0xffff_ffff) as usize, cqe),
        }
    }
}

/// Whether io_uring cannot be set up here at all (so `Backend::Auto` runs
/// on epoll): ENOSYS, EPERM (seccomp, `kernel.io_uring_disabled`), ENOMEM.
/// `e` is an error of [`Driver::new`], which keeps the errno's kind.
pub(crate) fn unavailable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied | io::ErrorKind::OutOfMemory
    )
}

/// Adds one to an eventfd counter (a wake; EAGAIN at the counter's limit
/// means it is already woken).
pub(crate) fn write_eventfd(fd: i32) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64 to an fd the caller keeps open.
    unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
}

fn set_waker(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(bufs) = &self.bufs {
            let _ = self.ring.submitter().unregister_buf_ring(bufs.group());
        }
    }
}
