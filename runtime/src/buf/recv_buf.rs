//! `RecvBuf`: bytes received by `TcpStream::recv`.

use std::fmt;
use std::ops::Deref;
use std::ptr::NonNull;
use std::rc::Rc;

use crate::driver::BufPool;

/// Bytes from [`TcpStream::recv`](crate::net::TcpStream::recv).
///
/// With the core's buffer pool (provided buffers on io_uring, always on
/// epoll) this is a buffer of the pool itself: no copy. Dropping it gives the buffer back to the
/// ring, so hold it only as long as needed (or copy out). It is an
/// [`IoBuf`](super::IoBuf), so it can be written to a socket as is.
pub struct RecvBuf {
    inner: Inner,
}

enum Inner {
    /// Holds buffer `bid` of the pool: handed out by a completion, given
    /// back on drop. `data` is where its bytes start, found (and bounds
    /// checked) once when the completion hands it over, so reading the
    /// bytes (several times per echoed message) is a plain slice.
    Ring {
        ring: Rc<BufPool>,
        data: NonNull<u8>,
        len: usize,
        bid: u16,
    },
    Heap(Vec<u8>),
}

impl RecvBuf {
    /// Takes over buffer `bid`, which a completion handed out with `len`
    /// bytes in it.
    pub(crate) fn from_pool(ring: Rc<BufPool>, bid: u16, len: usize) -> RecvBuf {
        Self::from_pool_at(ring, bid, 0, len)
    }

    /// Takes over buffer `bid`, whose bytes `offset..offset + len` are the
    /// data (a multishot recvmsg puts a header and an address before it).
    pub(crate) fn from_pool_at(ring: Rc<BufPool>, bid: u16, offset: usize, len: usize) -> RecvBuf {
        // SAFETY: the completion handed buffer `bid` to this RecvBuf, which
        // holds it until it drops; `bytes` checks the range is in the pool.
        let bytes = unsafe { ring.bytes(bid, offset + len) };
        let data = NonNull::from(&bytes[offset..]).cast::<u8>();
        RecvBuf {
            inner: Inner::Ring {
                ring,
                data,
                len,
                bid,
            },
        }
    }

    pub(crate) fn from_vec(bytes: Vec<u8>) -> RecvBuf {
        RecvBuf {
            inner: Inner::Heap(bytes),
        }
    }

    /// Hands buffer `bid` of `pool` over to the caller without recycling it:
    /// (bid, start, end) of the bytes in it. `Err(self)` if the bytes are
    /// not in `pool`. The caller must recycle `bid` once done with it.
    pub(crate) fn into_pool_parts(mut self, pool: &Rc<BufPool>) -> Result<(u16, u32, u32), Self> {
        match &self.inner {
            Inner::Ring { ring, .. } if Rc::ptr_eq(ring, pool) => {}
            _ => return Err(self),
        }
        // An empty Vec: nothing allocated, and this RecvBuf's drop recycles nothing.
        let Inner::Ring { data, len, bid, .. } =
            std::mem::replace(&mut self.inner, Inner::Heap(Vec::new()))
        else {
            unreachable!("matched above");
        };
        let start = data.as_ptr() as usize - pool.buf_ptr(bid) as usize;
        Ok((bid, start as u32, (start + len) as u32))
    }

    /// Whether these bytes sit in a buffer of the core's pool.
    pub fn is_provided(&self) -> bool {
        matches!(self.inner, Inner::Ring { .. })
    }
}

impl Deref for RecvBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.inner {
            // SAFETY: `data..data + len` was checked to lie in buffer `bid`
            // when it was handed over; the Rc keeps the pool's memory alive
            // and this RecvBuf holds the buffer (nobody writes it) until drop.
            Inner::Ring { data, len, .. } => unsafe {
                std::slice::from_raw_parts(data.as_ptr(), *len)
            },
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
