//! The provided-buffer ring of a core (IORING_REGISTER_PBUF_RING).
//!
//! The kernel picks a free buffer for each multishot recv completion and
//! tells us its id; the [`RecvBuf`](crate::buf::RecvBuf) handing those bytes
//! to the user puts the buffer back at the ring's tail when dropped. A recv
//! that found the ring empty (ENOBUFS) waits here until a buffer comes back
//! (invariant 2: no data lost, no busy loop).

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::{Cell, RefCell};
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};
use std::task::{Context, Waker};

use io_uring::types::BufRingEntry;
use io_uring::IoUring;

pub(crate) struct BufRing {
    group: u16,
    mask: u16,
    buf_size: u32,
    ring: NonNull<BufRingEntry>,
    ring_layout: Layout,
    memory: NonNull<u8>,
    memory_layout: Layout,
    tail: Cell<u16>,
    /// Buffers currently handed out to the kernel's free list.
    free: Cell<u32>,
    waiters: RefCell<Vec<Waker>>,
}

impl BufRing {
    /// Allocates `count` buffers of `size` bytes and registers them as group `group`.
    pub(crate) fn register(
        ring: &IoUring,
        group: u16,
        count: u16,
        size: u32,
    ) -> io::Result<BufRing> {
        let count = count.clamp(1, 32768).next_power_of_two();
        let page = 4096;
        let ring_layout =
            Layout::from_size_align(count as usize * std::mem::size_of::<BufRingEntry>(), page)
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let memory_layout = Layout::from_size_align(count as usize * size as usize, page)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: both layouts have a non-zero size (count >= 1, size >= 1 checked by the builder).
        let ring_ptr = NonNull::new(unsafe { alloc_zeroed(ring_layout) }.cast::<BufRingEntry>())
            .ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))?;
        // SAFETY: as above.
        let memory = match NonNull::new(unsafe { alloc_zeroed(memory_layout) }) {
            Some(m) => m,
            None => {
                // SAFETY: allocated just above with this layout.
                unsafe { dealloc(ring_ptr.as_ptr().cast(), ring_layout) };
                return Err(io::ErrorKind::OutOfMemory.into());
            }
        };
        let bufs = BufRing {
            group,
            mask: count - 1,
            buf_size: size,
            ring: ring_ptr,
            ring_layout,
            memory,
            memory_layout,
            tail: Cell::new(0),
            free: Cell::new(0),
            waiters: RefCell::new(Vec::new()),
        };
        // SAFETY: the ring memory is page aligned, holds `count` entries and
        // lives as long as the BufRing, which the driver unregisters before
        // dropping (and the ring fd closes before the memory is freed).
        unsafe {
            ring.submitter().register_buf_ring_with_flags(
                ring_ptr.as_ptr() as u64,
                count,
                group,
                0,
            )?
        };
        for bid in 0..count {
            bufs.push(bid);
        }
        bufs.publish();
        Ok(bufs)
    }

    pub(crate) fn group(&self) -> u16 {
        self.group
    }

    pub(crate) fn buf_size(&self) -> u32 {
        self.buf_size
    }

    /// Buffers the kernel can fill right now.
    pub(crate) fn available(&self) -> u32 {
        self.free.get()
    }

    /// The bytes of buffer `bid`.
    pub(crate) fn bytes(&self, bid: u16, len: usize) -> &[u8] {
        assert!(bid <= self.mask && len <= self.buf_size as usize);
        // SAFETY: buffer `bid` is inside `memory`; the caller owns it (the
        // kernel handed it out and it is not in the ring until `recycle`).
        unsafe {
            std::slice::from_raw_parts(
                self.memory
                    .as_ptr()
                    .add(bid as usize * self.buf_size as usize),
                len,
            )
        }
    }

    /// The kernel consumed one buffer (a recv CQE named it).
    pub(crate) fn taken(&self) {
        self.free.set(self.free.get().saturating_sub(1));
    }

    /// Gives buffer `bid` back to the kernel and wakes recvs waiting for one.
    pub(crate) fn recycle(&self, bid: u16) {
        self.push(bid);
        self.publish();
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for waker in waiters {
            waker.wake();
        }
    }

    /// Registers interest in the next returned buffer.
    pub(crate) fn wait_for_buffer(&self, cx: &Context<'_>) {
        let mut waiters = self.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
    }

    fn push(&self, bid: u16) {
        let tail = self.tail.get();
        // SAFETY: the index is masked into the ring's `count` entries; only
        // this thread writes entries, and the kernel reads an entry only
        // after the tail store in `publish` makes it visible.
        let entry = unsafe { &mut *self.ring.as_ptr().add((tail & self.mask) as usize) };
        // SAFETY: the buffer address is inside `memory`.
        let addr = unsafe {
            self.memory
                .as_ptr()
                .add(bid as usize * self.buf_size as usize)
        };
        entry.set_addr(addr as u64);
        entry.set_len(self.buf_size);
        entry.set_bid(bid);
        self.tail.set(tail.wrapping_add(1));
        self.free.set(self.free.get() + 1);
    }

    fn publish(&self) {
        // SAFETY: the tail field overlays the first entry's reserved field,
        // a properly aligned u16 the kernel reads; Release orders the entry
        // writes before it.
        let tail = unsafe { &*(BufRingEntry::tail(self.ring.as_ptr()) as *const AtomicU16) };
        tail.store(self.tail.get(), Ordering::Release);
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: allocated in `register` with these layouts; the kernel no
        // longer uses them (unregistered, or the ring is closed).
        unsafe {
            dealloc(self.ring.as_ptr().cast(), self.ring_layout);
            dealloc(self.memory.as_ptr(), self.memory_layout);
        }
    }
}
