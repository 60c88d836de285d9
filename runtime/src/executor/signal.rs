//! Waking a parked core's driver from another thread (invariant 4).
//!
//! From a runtime thread the waker pushes an IORING_OP_MSG_RING onto its own
//! ring, which posts a CQE into the target ring (no syscall on the target,
//! no fd); from any other thread, when the kernel lacks MSG_RING, when a
//! MSG_RING fails, or when the target runs on epoll, the target's eventfd is
//! written, which the target keeps a read armed on (or registered with epoll).

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use crate::shim::{AtomicBool, AtomicU32, Ordering};

pub(crate) struct RingSignal {
    /// Shared with the MSG_RING wakes in flight to this core, which write
    /// it should the MSG_RING fail.
    eventfd: Arc<OwnedFd>,
    /// The target ring's fd, or -1 until the driver is up (then eventfd only).
    ring_fd: AtomicU32,
    msg_ring: AtomicBool,
}

impl RingSignal {
    pub(crate) fn new() -> std::io::Result<RingSignal> {
        // SAFETY: eventfd has no memory-safety preconditions.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd was just created and is owned by nobody else.
        let eventfd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        Ok(RingSignal {
            eventfd: Arc::new(eventfd),
            ring_fd: AtomicU32::new(u32::MAX),
            msg_ring: AtomicBool::new(false),
        })
    }

    pub(crate) fn eventfd(&self) -> i32 {
        self.eventfd.as_raw_fd()
    }

    /// Enables MSG_RING wakes once the target ring exists.
    pub(crate) fn set_ring(&self, ring_fd: i32, msg_ring: bool) {
        self.ring_fd.store(ring_fd as u32, Ordering::Release);
        self.msg_ring.store(msg_ring, Ordering::Release);
    }

    /// Forgets the ring before it closes, so no MSG_RING targets a stale fd.
    pub(crate) fn clear_ring(&self) {
        self.msg_ring.store(false, Ordering::Release);
        self.ring_fd.store(u32::MAX, Ordering::Release);
    }

    pub(crate) fn write_eventfd(&self) {
        crate::driver::write_eventfd(self.eventfd());
    }
}

impl super::Signal for RingSignal {
    fn signal(&self) {
        if self.msg_ring.load(Ordering::Acquire) {
            let target = self.ring_fd.load(Ordering::Acquire) as i32;
            let sent = crate::current::try_driver(|d| d.msg_ring_wake(target, &self.eventfd));
            if sent == Some(true) {
                return;
            }
        }
        self.write_eventfd();
    }
}
