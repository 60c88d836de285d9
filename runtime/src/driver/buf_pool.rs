//! A core's pool of receive buffers, lent to `recv()` on either backend.
//!
//! The memory is one allocation of `count` buffers of `size` bytes. Who may
//! fill a free buffer differs by backend:
//! - io_uring: the free buffers sit in a provided-buffer ring registered with
//!   the kernel, which picks one for each multishot recv completion and names
//!   it in the CQE;
//! - epoll: the free buffers sit in a plain list; a recv attempt takes one,
//!   `recv(2)`s into it, and puts it back if nothing came.
//!
//! Either way a filled buffer is handed to the user as a
//! [`RecvBuf`](crate::buf::RecvBuf), which gives it back here when dropped.
//! A recv that found no free buffer (ENOBUFS) waits here until one comes back
//! (invariant 2: no data lost, no busy loop).

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::RefCell;
use std::io;
use std::ptr::NonNull;
use std::task::{Context, Waker};

use super::uring::KernelRing;

pub(crate) struct BufPool {
    memory: NonNull<u8>,
    layout: Layout,
    buf_size: u32,
    count: u16,
    free: Free,
    waiters: RefCell<Vec<Waker>>,
}

/// Where the free buffers are.
pub(crate) enum Free {
    /// In the kernel's provided-buffer ring (io_uring).
    Kernel(KernelRing),
    /// In a list this core takes from (epoll).
    List(RefCell<Vec<u16>>),
}

impl BufPool {
    /// Allocates `count` (rounded up to a power of two) buffers of `size` bytes.
    pub(crate) fn allocate(count: u16, size: u32) -> io::Result<(NonNull<u8>, Layout, u16)> {
        let count = count.clamp(1, 32768).next_power_of_two();
        let layout = Layout::from_size_align(count as usize * size.max(1) as usize, 4096)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: the layout has a non-zero size (count >= 1, size >= 1).
        let memory = NonNull::new(unsafe { alloc_zeroed(layout) })
            .ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))?;
        Ok((memory, layout, count))
    }

    /// A pool over memory from [`allocate`](Self::allocate), which it frees.
    pub(crate) fn new(
        (memory, layout, count): (NonNull<u8>, Layout, u16),
        size: u32,
        free: Free,
    ) -> BufPool {
        BufPool {
            memory,
            layout,
            buf_size: size,
            count,
            free,
            waiters: RefCell::new(Vec::new()),
        }
    }

    /// A pool whose free buffers this core lends itself (epoll).
    pub(crate) fn local(count: u16, size: u32) -> io::Result<BufPool> {
        let memory = Self::allocate(count, size)?;
        let list = (0..memory.2).rev().collect();
        Ok(Self::new(memory, size, Free::List(RefCell::new(list))))
    }

    /// The address of buffer `bid` (for the kernel ring's entries); inside
    /// the allocation for a bid below the pool's count.
    pub(crate) fn addr_of(memory: NonNull<u8>, size: u32, bid: u16) -> *mut u8 {
        memory.as_ptr().wrapping_add(bid as usize * size as usize)
    }

    pub(crate) fn buf_size(&self) -> u32 {
        self.buf_size
    }

    /// The provided-buffer group of the kernel ring (io_uring only).
    pub(crate) fn group(&self) -> u16 {
        match &self.free {
            Free::Kernel(ring) => ring.group(),
            Free::List(_) => 0,
        }
    }

    /// Free buffers: ones a recv can fill right now.
    pub(crate) fn available(&self) -> u32 {
        match &self.free {
            Free::Kernel(ring) => ring.free(),
            Free::List(list) => list.borrow().len() as u32,
        }
    }

    /// Takes a free buffer to fill (epoll). None when the pool is dry or the
    /// kernel owns the free list.
    pub(crate) fn lend(&self) -> Option<u16> {
        match &self.free {
            Free::Kernel(_) => None,
            Free::List(list) => list.borrow_mut().pop(),
        }
    }

    /// A completion named buffer `bid`: the kernel took it from its ring.
    /// (On epoll, [`lend`](Self::lend) already took it.)
    pub(crate) fn claimed(&self, _bid: u16) {
        if let Free::Kernel(ring) = &self.free {
            ring.taken();
        }
    }

    /// Puts back a buffer that [`lend`](Self::lend) handed out and that
    /// nothing was received into. Wakes no one: the pool was not dry.
    pub(crate) fn unlend(&self, bid: u16) {
        if let Free::List(list) = &self.free {
            list.borrow_mut().push(bid);
        }
    }

    /// Gives filled buffer `bid` back to the pool and wakes recvs waiting
    /// for one.
    pub(crate) fn recycle(&self, bid: u16) {
        debug_assert!(bid < self.count);
        match &self.free {
            Free::Kernel(ring) => {
                ring.push(
                    bid,
                    Self::addr_of(self.memory, self.buf_size, bid),
                    self.buf_size,
                );
                ring.publish();
            }
            Free::List(list) => list.borrow_mut().push(bid),
        }
        let waiters = {
            let mut waiters = self.waiters.borrow_mut();
            // Almost always none: the pool is rarely dry.
            if waiters.is_empty() {
                return;
            }
            std::mem::take(&mut *waiters)
        };
        for waker in waiters {
            waker.wake();
        }
    }

    /// Registers interest in the next buffer given back.
    pub(crate) fn wait_for_buffer(&self, cx: &Context<'_>) {
        let mut waiters = self.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
    }

    /// The first `len` bytes of buffer `bid`.
    ///
    /// # Safety
    /// The caller holds buffer `bid`: a completion (or `lend`) handed it out
    /// and it has not been recycled since, so neither the kernel nor a recv
    /// writes it while the slice lives.
    pub(crate) unsafe fn bytes(&self, bid: u16, len: usize) -> &[u8] {
        assert!(bid < self.count && len <= self.buf_size as usize);
        // SAFETY: the range is inside the allocation (checked above); the
        // caller promises nobody writes it meanwhile.
        unsafe { std::slice::from_raw_parts(self.buf_ptr(bid), len) }
    }

    /// Where buffer `bid` starts, for a recv the caller runs into it (epoll).
    /// Writing `buf_size` bytes there is in bounds; only the holder of the
    /// buffer (see [`bytes`](Self::bytes)) may do so.
    pub(crate) fn buf_ptr(&self, bid: u16) -> *mut u8 {
        assert!(bid < self.count);
        Self::addr_of(self.memory, self.buf_size, bid)
    }
}

impl Drop for BufPool {
    fn drop(&mut self) {
        // SAFETY: allocated in `allocate` with this layout; the kernel no
        // longer uses it (the ring was unregistered or closed before the
        // driver dropped its pool).
        unsafe { dealloc(self.memory.as_ptr(), self.layout) };
    }
}
