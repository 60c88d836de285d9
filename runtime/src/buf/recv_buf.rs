//! `RecvBuf`: bytes received by `TcpStream::recv`.

use std::fmt;
use std::ops::Deref;
use std::rc::Rc;

use crate::driver::BufRing;

/// Bytes from [`TcpStream::recv`](crate::net::TcpStream::recv).
///
/// With provided buffers this is the kernel-chosen buffer of the core's
/// buffer ring itself: no copy. Dropping it gives the buffer back to the
/// ring, so hold it only as long as needed (or copy out). It is an
/// [`IoBuf`](super::IoBuf), so it can be written to a socket as is.
pub struct RecvBuf {
    inner: Inner,
}

enum Inner {
    Ring {
        ring: Rc<BufRing>,
        bid: u16,
        len: usize,
    },
    Heap(Vec<u8>),
}

impl RecvBuf {
    pub(crate) fn from_ring(ring: Rc<BufRing>, bid: u16, len: usize) -> RecvBuf {
        RecvBuf {
            inner: Inner::Ring { ring, bid, len },
        }
    }

    pub(crate) fn from_vec(bytes: Vec<u8>) -> RecvBuf {
        RecvBuf {
            inner: Inner::Heap(bytes),
        }
    }

    /// Whether these bytes sit in a provided buffer of the ring.
    pub fn is_provided(&self) -> bool {
        matches!(self.inner, Inner::Ring { .. })
    }
}

impl Deref for RecvBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.inner {
            Inner::Ring { ring, bid, len } => ring.bytes(*bid, *len),
            Inner::Heap(v) => v,
        }
    }
}

impl AsRef<[u8]> for RecvBuf {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for RecvBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvBuf")
            .field("len", &self.len())
            .field("provided", &self.is_provided())
            .finish()
    }
}

impl Drop for RecvBuf {
    fn drop(&mut self) {
        if let Inner::Ring { ring, bid, .. } = &self.inner {
            ring.recycle(*bid);
        }
    }
}

// SAFETY: the bytes live in the ring's heap memory (or a Vec) which the Rc
// keeps alive; the buffer is not recycled (so not rewritten) until drop.
unsafe impl super::IoBuf for RecvBuf {
    fn stable_ptr(&self) -> *const u8 {
        self.deref().as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
}
