//! `IoBuf`/`IoBufMut`: buffers whose bytes stay put while the value moves.
//!
//! Owned-buffer I/O hands the buffer to the op for as long as the kernel
//! uses it, and the op hands it back with the result. That is only sound if
//! the bytes do not move when the buffer value does: heap-backed buffers.

use bytes::{Bytes, BytesMut};

/// A buffer the kernel may read from.
///
/// # Safety
/// Implementors promise that `stable_ptr()` points to `bytes_init()`
/// initialized bytes which stay valid, at the same address and unmodified
/// through `&self`, for as long as the value exists, even when the value is
/// moved (the bytes live on the heap or in static memory, never inline).
pub unsafe trait IoBuf: 'static {
    /// Start of the bytes.
    fn stable_ptr(&self) -> *const u8;
    /// Number of initialized bytes (what a write sends).
    fn bytes_init(&self) -> usize;
}

/// A buffer the kernel may write into.
///
/// # Safety
/// As for [`IoBuf`], plus: `stable_mut_ptr()` points to `bytes_total()`
/// writable bytes with the same stability, and `set_init(n)` may be called
/// after the kernel wrote the first `n` of them.
pub unsafe trait IoBufMut: IoBuf {
    /// Start of the writable bytes.
    fn stable_mut_ptr(&mut self) -> *mut u8;
    /// Capacity the kernel may fill.
    fn bytes_total(&mut self) -> usize;
    /// Marks the first `n` bytes initialized.
    ///
    /// # Safety
    /// The first `n` bytes must have been written.
    unsafe fn set_init(&mut self, n: usize);
}

// SAFETY: a Vec's bytes live on the heap and move only on reallocation,
// which needs `&mut self` (the op owns the Vec while the kernel uses it).
unsafe impl IoBuf for Vec<u8> {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
}

// SAFETY: see the IoBuf impl; the capacity is writable.
unsafe impl IoBufMut for Vec<u8> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    fn bytes_total(&mut self) -> usize {
        self.capacity()
    }
    /// # Safety
    /// The trait's contract: the first `n` bytes were written.
    unsafe fn set_init(&mut self, n: usize) {
        if self.len() < n {
            // SAFETY: the caller promises the first n bytes were written, n <= capacity.
            unsafe { self.set_len(n) };
        }
    }
}

// SAFETY: boxed slices live on the heap and cannot grow.
unsafe impl IoBuf for Box<[u8]> {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
}

// SAFETY: static data never moves or goes away.
unsafe impl IoBuf for &'static [u8] {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
}

// SAFETY: static data never moves or goes away.
unsafe impl IoBuf for &'static str {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
}

// SAFETY: a String's bytes live on the heap, as for Vec.
unsafe impl IoBuf for String {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
}

// SAFETY: Bytes is an immutable view of heap or static memory that stays
// alive while any handle to it does.
unsafe impl IoBuf for Bytes {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
}

// SAFETY: BytesMut owns heap memory that moves only when it reserves, which
// needs `&mut self`.
unsafe impl IoBuf for BytesMut {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
}

// SAFETY: see the IoBuf impl; the spare capacity is writable.
unsafe impl IoBufMut for BytesMut {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    fn bytes_total(&mut self) -> usize {
        self.capacity()
    }
    /// # Safety
    /// The trait's contract: the first `n` bytes were written.
    unsafe fn set_init(&mut self, n: usize) {
        if self.len() < n {
            // SAFETY: the caller promises the first n bytes were written.
            unsafe { self.set_len(n) };
        }
    }
}
