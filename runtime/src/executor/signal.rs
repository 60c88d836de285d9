//! Waking a parked core's ring from another thread (invariant 4).
//!
//! From a runtime thread the waker pushes an IORING_OP_MSG_RING onto its own
//! ring, which posts a CQE into the target ring (no syscall on the target,
//! no fd); from any other thread, or when the kernel lacks MSG_RING, it
//! writes the target's eventfd, which the target keeps a read armed on.

use std::os::fd::{AsRawFd, OwnedFd};

use crate::shim::{AtomicBool, AtomicU32, Ordering};

pub(crate) struct RingSignal {
    eventfd: OwnedFd,
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
            eventfd,
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
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to an eventfd we own.
        unsafe { libc::write(self.eventfd(), (&one as *const u64).cast(), 8) };
    }
}

impl super::Signal for RingSignal {
    fn signal(&self) {
        if self.msg_ring.load(Ordering::Acquire) {
            let target = self.ring_fd.load(Ordering::Acquire) as i32;
            let sent = super::try_with_current(|core| match core.driver.try_borrow_mut() {
                Ok(mut driver) => driver.msg_ring_wake(target),
                Err(_) => false,
            });
            if sent == Some(true) {
                return;
            }
        }
        self.write_eventfd();
    }
}
