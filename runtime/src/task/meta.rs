//! What a task dump knows about a task, kept cheap when no dump is taken:
//! the spawn location, a coarse birth time, a poll count and a one-byte
//! "what I wait on" tag, plain fields of the header that cost one word
//! over a header without them (the registry key and refcount are 32-bit
//! to make room). The task being polled is remembered in a thread-local so
//! that a future can tag the wait where it registers its waker.

use std::cell::Cell;
use std::ptr;

use super::raw::Header;
use super::wait_tag::WaitOn;

thread_local! {
    static POLLING: Cell<*const Header> = const { Cell::new(ptr::null()) };
}

/// Runs `poll` as the poll of `header`'s task: counts it, clears its wait
/// tag (the futures it waits on set it again) and makes it current.
pub(super) fn polling<R>(header: &Header, poll: impl FnOnce() -> R) -> R {
    struct Reset(*const Header);
    impl Drop for Reset {
        fn drop(&mut self) {
            POLLING.with(|p| p.set(self.0));
        }
    }
    struct Running<'a>(&'a Header);
    impl Drop for Running<'_> {
        fn drop(&mut self) {
            self.0.owner.poll_seq.running(None);
        }
    }
    header.polls.set(header.polls.get().saturating_add(1));
    header.wait.set(WaitOn::Unknown as u8);
    header.owner.poll_seq.running(Some(header.location));
    let _running = Running(header);
    let _reset = Reset(POLLING.with(|p| p.replace(header)));
    poll()
}

/// Tags the task being polled on this thread (if any) as waiting on `what`.
#[inline]
pub(crate) fn set_wait(what: WaitOn) {
    let _ = POLLING.try_with(|p| {
        let header = p.get();
        if !header.is_null() {
            // SAFETY: POLLING is non-null only inside `polling`, while the
            // poller holds a reference to the task on this (its owner) thread.
            unsafe { (*header).wait.set(what as u8) };
        }
    });
}

/// The task being polled on this thread (null outside a task's poll).
pub(super) fn current() -> *const Header {
    POLLING.try_with(|p| p.get()).unwrap_or(ptr::null())
}

/// Milliseconds on the coarse monotonic clock (a few ns to read, a few ms
/// of resolution: enough for a task's age). Wraps after 49 days; ages are
/// computed with wrapping arithmetic.
pub(crate) fn now_ms() -> u32 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we pass; COARSE never fails
    // on Linux (and a failure leaves zero, a harmless age).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    (ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000) as u32
}

/// The registry slot of a task, 32 bits wide; `usize::MAX` (none) maps to
/// `u32::MAX`. Its API speaks `usize`, as the registry's slab does.
pub(crate) struct RegistryKey(Cell<u32>);

impl RegistryKey {
    pub(super) fn new() -> RegistryKey {
        RegistryKey(Cell::new(u32::MAX))
    }

    pub(crate) fn get(&self) -> usize {
        match self.0.get() {
            u32::MAX => usize::MAX,
            k => k as usize,
        }
    }

    /// # Panics
    /// Past 4 billion live tasks on one core.
    pub(crate) fn set(&self, key: usize) {
        let k = if key == usize::MAX {
            u32::MAX
        } else {
            u32::try_from(key)
                .ok()
                .filter(|&k| k != u32::MAX)
                .expect("uringo: over 4 billion live tasks on one core")
        };
        self.0.set(k);
    }

    pub(crate) fn replace(&self, key: usize) -> usize {
        let old = self.get();
        self.set(key);
        old
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    #[test]
    fn dump_data_costs_one_word_per_task() {
        // 40 bytes before spawn location, age, polls and wait tag.
        assert!(
            std::mem::size_of::<super::Header>() <= 40 + std::mem::size_of::<usize>(),
            "task header is {} bytes",
            std::mem::size_of::<super::Header>()
        );
    }
}
