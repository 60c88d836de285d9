//! The ring's fixed-file table: registered (direct) descriptors for streams.
//!
//! An op on a plain fd makes the kernel look the fd up in the process's file
//! table and take a reference (`fget`/`fput`) on every submission; an op on
//! a registered index skips both. So each stream's socket is also put in
//! its core's sparse table (IORING_REGISTER_FILES_SPARSE at ring setup,
//! one IORING_REGISTER_FILES_UPDATE when the stream is made), and its recv,
//! send and close name the index. The socket keeps its real fd as well, for
//! setsockopt, getpeername, shutdown and the epoll-style APIs.
//!
//! An index names a file only in the ring that registered it, so a stream
//! remembers the ring's id next to its index and uses the index only while
//! an SQE is built for that same ring ([`building`]); anywhere else (another
//! runtime on the same thread) it falls back to the fd. A full table, or a
//! failed registration, leaves the stream on its fd: it never fails a
//! connection.
//!
//! An index is freed only at the CQE of its IORING_OP_CLOSE, so it is never
//! handed to a new stream while the old file may still be in the slot.

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU32, Ordering};

use io_uring::IoUring;

/// Ring ids start at 1 (0 means "no ring": no SQE is being built) and are
/// never reused, so an index kept by a stream can never name a slot of a
/// later ring; once they run out, rings get no table.
static NEXT_RING_ID: AtomicU32 = AtomicU32::new(1);
/// A [`Registered`] is 31 bits (its owner keeps a flag in the 32nd): the
/// ring id above `INDEX_BITS` bits of slot index.
const INDEX_BITS: u32 = 15;
const MAX_RING_ID: u32 = (1 << (31 - INDEX_BITS)) - 1;
/// The most slots a table may have.
const MAX_SLOTS: u32 = 1 << INDEX_BITS;

thread_local! {
    /// The id of the ring whose SQE is being built on this thread (0: none).
    static BUILDING: Cell<u32> = const { Cell::new(0) };
    /// Slots whose stream went away while the driver was in use (dropped
    /// inside a completion): closed at their ring's next turn.
    static DEFERRED: RefCell<Vec<Registered>> = const { RefCell::new(Vec::new()) };
}

/// A descriptor registered in one ring's table, or [`Registered::NONE`]:
/// ring id and slot index in 31 bits, so a stream's handle keeps it in a
/// `u32` next to a flag of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Registered(u32);

impl Registered {
    /// Not registered anywhere.
    pub(crate) const NONE: Registered = Registered(0);
    /// The bits a `Registered` never uses.
    pub(crate) const SPARE_BIT: u32 = 1 << 31;

    fn new(ring: u32, index: u32) -> Registered {
        debug_assert!(ring <= MAX_RING_ID && index < MAX_SLOTS);
        Registered(ring << INDEX_BITS | index)
    }

    /// From [`bits`](Self::bits) (the spare bit is ignored).
    pub(crate) fn from_bits(bits: u32) -> Registered {
        Registered(bits & !Self::SPARE_BIT)
    }

    pub(crate) fn bits(self) -> u32 {
        self.0
    }

    fn ring(self) -> u32 {
        self.0 >> INDEX_BITS
    }

    pub(crate) fn is_some(self) -> bool {
        self.ring() != 0
    }

    pub(crate) fn index(self) -> u32 {
        self.0 & (MAX_SLOTS - 1)
    }
}

/// The index of `registered` if the SQE being built is for its ring.
pub(crate) fn index_for_sqe(registered: Registered) -> Option<u32> {
    (registered.is_some() && BUILDING.with(Cell::get) == registered.ring())
        .then_some(registered.index())
}

/// Queues `registered` to be closed at its ring's next turn.
pub(crate) fn defer_close(registered: Registered) {
    let _ = DEFERRED.try_with(|d| d.borrow_mut().push(registered));
}

/// The table of one ring, and which of its indexes are free.
pub(crate) struct FixedFiles {
    ring: u32,
    capacity: u32,
    /// Indexes below this were handed out at least once.
    next: u32,
    /// Indexes handed out and freed again, reused first.
    free: Vec<u32>,
    in_use: u32,
}

impl FixedFiles {
    /// Registers a sparse table of `capacity` slots with `ring` (capped at
    /// 32,768 and at the process's RLIMIT_NOFILE, which the kernel enforces).
    pub(crate) fn register(ring: &IoUring, capacity: u32) -> io::Result<FixedFiles> {
        let capacity = capacity.min(nofile_limit()).min(MAX_SLOTS);
        if capacity == 0 {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let id = NEXT_RING_ID
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |id| {
                (id <= MAX_RING_ID).then_some(id + 1)
            })
            .map_err(|_| io::Error::other("fixed-file ring ids used up"))?;
        ring.submitter().register_files_sparse(capacity)?;
        Ok(FixedFiles {
            ring: id,
            capacity,
            next: 0,
            free: Vec::new(),
            in_use: 0,
        })
    }

    /// Runs `f` (which builds an SQE) with this table's ring as the ring
    /// the SQE is built for.
    pub(crate) fn building<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Reset(u32);
        impl Drop for Reset {
            fn drop(&mut self) {
                BUILDING.with(|b| b.set(self.0));
            }
        }
        let _reset = Reset(BUILDING.with(|b| b.replace(self.ring)));
        f()
    }

    /// Whether `registered` is a slot of this table.
    pub(crate) fn owns(&self, registered: Registered) -> bool {
        registered.ring() == self.ring
    }

    pub(crate) fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Slots holding a stream's socket (or being closed).
    pub(crate) fn in_use(&self) -> u32 {
        self.in_use
    }

    /// Puts `fd` in a free slot; None if the table is full or the kernel
    /// refused (the stream then stays on its fd).
    pub(crate) fn insert(&mut self, ring: &IoUring, fd: RawFd) -> Option<Registered> {
        let index = match self.free.pop() {
            Some(index) => index,
            None if self.next < self.capacity => {
                self.next += 1;
                self.next - 1
            }
            None => return None,
        };
        match ring.submitter().register_files_update(index, &[fd]) {
            Ok(1) => {
                self.in_use += 1;
                Some(Registered::new(self.ring, index))
            }
            _ => {
                self.free.push(index);
                None
            }
        }
    }

    /// The close of slot `index` completed: it may be reused.
    pub(crate) fn closed(&mut self, index: u32) {
        debug_assert!(index < self.next && !self.free.contains(&index));
        self.in_use -= 1;
        self.free.push(index);
    }

    /// Takes this ring's slots queued by [`defer_close`].
    pub(crate) fn take_deferred(&self) -> Vec<Registered> {
        DEFERRED
            .try_with(|d| {
                let mut d = d.borrow_mut();
                if d.is_empty() {
                    return Vec::new();
                }
                let (mine, others): (Vec<_>, Vec<_>) =
                    d.drain(..).partition(|r| r.ring() == self.ring);
                *d = others;
                mine
            })
            .unwrap_or_default()
    }
}

impl Drop for FixedFiles {
    fn drop(&mut self) {
        // The table goes with the ring: forget what was queued for it.
        let _ = DEFERRED.try_with(|d| d.borrow_mut().retain(|r| r.ring() != self.ring));
    }
}

/// The soft RLIMIT_NOFILE (the most slots the kernel lets a table have).
fn nofile_limit() -> u32 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into `limit`, which we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    limit.rlim_cur.min(u64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_packs_ring_and_index_below_the_spare_bit() {
        let r = Registered::new(MAX_RING_ID, MAX_SLOTS - 1);
        assert_eq!(r.bits() & Registered::SPARE_BIT, 0);
        let back = Registered::from_bits(r.bits() | Registered::SPARE_BIT);
        assert_eq!(back, r);
        assert_eq!((back.ring(), back.index()), (MAX_RING_ID, MAX_SLOTS - 1));
        assert!(back.is_some() && !Registered::NONE.is_some());
        assert!(!Registered::from_bits(Registered::SPARE_BIT).is_some());
    }
}
