//! The provided-buffer ring (IORING_REGISTER_PBUF_RING): the free list of a
//! core's [`BufPool`] when io_uring fills it.
//!
//! The ring is an array of (addr, len, bid) entries shared with the kernel:
//! we add entries at the tail and publish the tail; the kernel takes one per
//! multishot recv completion and names its bid in the CQE.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::Cell;
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;
use io_uring::IoUring;

use crate::driver::buf_pool::{BufPool, Free};

pub(crate) struct KernelRing {
    group: u16,
    mask: u16,
    entries: NonNull<BufRingEntry>,
    layout: Layout,
    tail: Cell<u16>,
    /// Buffers currently in the kernel's free list.
    free: Cell<u32>,
}

/// Allocates a pool of `count` buffers of `size` bytes and registers them
/// with `ring` as group `group`.
pub(crate) fn register(ring: &IoUring, group: u16, count: u16, size: u32) -> io::Result<BufPool> {
    let memory = BufPool::allocate(count, size)?;
    let count = memory.2;
    let layout =
        Layout::from_size_align(count as usize * std::mem::size_of::<BufRingEntry>(), 4096)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: the layout has a non-zero size (count >= 1).
    let entries = NonNull::new(unsafe { alloc_zeroed(layout) }.cast::<BufRingEntry>())
        .ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))?;
    let kernel = KernelRing {
        group,
        mask: count - 1,
        entries,
        layout,
        tail: Cell::new(0),
        free: Cell::new(0),
    };
    // Owned by the pool from here: an early return frees both allocations.
    let pool = BufPool::new(memory, size, Free::Kernel(kernel));
    // SAFETY: the entries are page aligned, `count` of them, and live as long
    // as the pool, which the driver unregisters before dropping (and the ring
    // fd closes before the memory is freed).
    unsafe {
        ring.submitter()
            .register_buf_ring_with_flags(entries.as_ptr() as u64, count, group, 0)?
    };
    for bid in 0..count {
        pool.recycle(bid);
    }
    Ok(pool)
}

impl KernelRing {
    pub(crate) fn group(&self) -> u16 {
        self.group
    }

    pub(crate) fn free(&self) -> u32 {
        self.free.get()
    }

    /// The kernel consumed one buffer (a recv CQE named it).
    pub(crate) fn taken(&self) {
        self.free.set(self.free.get().saturating_sub(1));
    }

    /// Adds the buffer at `addr` (of `len` bytes, id `bid`) at the tail;
    /// the kernel sees it after [`publish`](Self::publish).
    pub(crate) fn push(&self, bid: u16, addr: *mut u8, len: u32) {
        let tail = self.tail.get();
        // SAFETY: the index is masked into the ring's `count` entries; only
        // this thread writes entries, and the kernel reads an entry only
        // after the tail store in `publish` makes it visible.
        let entry = unsafe { &mut *self.entries.as_ptr().add((tail & self.mask) as usize) };
        entry.set_addr(addr as u64);
        entry.set_len(len);
        entry.set_bid(bid);
        self.tail.set(tail.wrapping_add(1));
        self.free.set(self.free.get() + 1);
    }

    pub(crate) fn publish(&self) {
        // SAFETY: the tail field overlays the first entry's reserved field,
        // a properly aligned u16 the kernel reads; Release orders the entry
        // writes before it.
        let tail = unsafe { &*(BufRingEntry::tail(self.entries.as_ptr()) as *const AtomicU16) };
        tail.store(self.tail.get(), Ordering::Release);
    }
}

impl Drop for KernelRing {
    fn drop(&mut self) {
        // SAFETY: allocated in `register` with this layout; the kernel no
        // longer reads it (unregistered, or the ring is closed).
        unsafe { dealloc(self.entries.as_ptr().cast(), self.layout) };
    }
}
