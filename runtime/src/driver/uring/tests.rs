//! Driver-level tests of the io_uring backend.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use super::{Driver, Wanted};
use crate::driver::Config;

fn eventfd() -> OwnedFd {
    // SAFETY: eventfd has no memory-safety preconditions.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    assert!(fd >= 0, "eventfd: {}", std::io::Error::last_os_error());
    // SAFETY: just created, owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// The eventfd's counter (0 if it was never written), resetting it.
fn take_count(fd: &OwnedFd) -> u64 {
    let mut count = 0u64;
    // SAFETY: reads 8 bytes into a live u64 from a non-blocking eventfd.
    unsafe { libc::read(fd.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
    count
}

#[test]
fn a_failed_msg_ring_wakes_the_target_through_its_eventfd() {
    let wanted = Wanted {
        entries: 8,
        defer_taskrun: true,
        multishot: true,
        provided_buffers: false,
        msg_ring: true,
        fixed_files: 0,
    };
    let own = eventfd();
    let config = Config {
        wanted: &wanted,
        eventfd: own.as_raw_fd(),
        buf_count: 1,
        buf_size: 64,
    };
    let mut driver = Driver::new(&config).expect("io_uring");
    assert!(driver.features.msg_ring, "this kernel lacks MSG_RING");
    let target = Arc::new(eventfd());
    // Not a ring: the kernel fails the MSG_RING (EBADFD) in its CQE.
    let not_a_ring = eventfd();
    assert!(driver.msg_ring_wake(not_a_ring.as_raw_fd(), &target));
    let mut wakers = Vec::new();
    for _ in 0..100 {
        if driver.msg_fallbacks.is_empty() {
            break;
        }
        driver
            .turn(Some(Duration::from_millis(10)), &mut wakers)
            .unwrap();
    }
    assert!(driver.msg_fallbacks.is_empty(), "no CQE for the MSG_RING");
    assert_eq!(take_count(&target), 1, "the target was not woken");
    driver.cancel_all();
    while driver.ops_in_flight() > 0 {
        driver
            .turn(Some(Duration::from_millis(10)), &mut wakers)
            .unwrap();
    }
}
