//! A file descriptor shared by a socket handle and its in-flight ops.
//!
//! Every op holds a clone, so the fd is closed only after the last op that
//! names it has completed: an fd number is never reused under a pending op
//! (invariant 7). Before it is closed the driver forgets it (epoll drops its
//! registration), so a new fd with the same number starts afresh.
//!
//! A stream's socket may also sit in its core's fixed-file table
//! (`driver/uring/fixed.rs`): its ops then name the slot ([`sqe_target!`]),
//! and closing it closes the slot too.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::rc::Rc;
use std::task::{Poll, Waker};

use crate::driver::{defer_fixed_close, index_for_sqe, Registered};
use crate::op::{Close, Op};

#[derive(Clone)]
pub(crate) struct SharedFd {
    inner: Rc<Inner>,
}

struct Inner {
    fd: Cell<RawFd>,
    /// Its slot in a ring's fixed-file table ([`Registered`]'s bits) and,
    /// in [`NONBLOCKING`], whether O_NONBLOCK is set (epoll's accept needs
    /// it; io_uring must not have it). One word, so the handle stays small.
    state: Cell<u32>,
}

const NONBLOCKING: u32 = Registered::SPARE_BIT;

// Every connection has one: with the Rc's counts, 24 bytes is malloc's
// smallest class (32). The task waiting in `close()` is kept apart, in
// `CLOSERS`, since few handles ever have one.
const _: () = assert!(std::mem::size_of::<Inner>() <= 8);

thread_local! {
    /// The tasks in `close()` waiting for the ops to let go of their fd,
    /// by the address of the fd's `Inner`. An entry goes when the
    /// second-to-last handle is dropped (the fd then has one left, the
    /// closer's), which every handle count passes through on its way down.
    static CLOSERS: RefCell<Vec<(usize, Waker)>> = const { RefCell::new(Vec::new()) };
}

/// Keys `CLOSERS`.
fn key(inner: &Rc<Inner>) -> usize {
    Rc::as_ptr(inner) as usize
}

fn set_closer(inner: &Rc<Inner>, waker: &Waker) {
    CLOSERS.with(|closers| {
        let mut closers = closers.borrow_mut();
        let key = key(inner);
        match closers.iter_mut().find(|(k, _)| *k == key) {
            Some((_, w)) => w.clone_from(waker),
            None => closers.push((key, waker.clone())),
        }
    });
}

fn take_closer(inner: &Rc<Inner>) -> Option<Waker> {
    // `try_with`: handles may be dropped while the thread's locals go.
    CLOSERS
        .try_with(|closers| {
            let mut closers = closers.try_borrow_mut().ok()?;
            if closers.is_empty() {
                return None;
            }
            let key = key(inner);
            let at = closers.iter().position(|(k, _)| *k == key)?;
            Some(closers.swap_remove(at).1)
        })
        .ok()
        .flatten()
}

impl Inner {
    fn registered(&self) -> Registered {
        Registered::from_bits(self.state.get())
    }

    /// Sets the slot, returning the one it had.
    fn replace_registered(&self, registered: Registered) -> Registered {
        let state = self.state.get();
        self.state.set(state & NONBLOCKING | registered.bits());
        Registered::from_bits(state)
    }
}

impl SharedFd {
    /// Takes ownership of `fd`.
    pub(crate) fn new(fd: RawFd) -> SharedFd {
        SharedFd {
            inner: Rc::new(Inner {
                fd: Cell::new(fd),
                state: Cell::new(Registered::NONE.bits()),
            }),
        }
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.inner.fd.get()
    }

    /// Registers the socket in the current core's fixed-file table, if
    /// there is one with a free slot (otherwise ops go on naming the fd).
    pub(crate) fn register_fixed(&self) {
        let fd = self.raw();
        if let Some(registered) = crate::current::try_driver(|d| d.register_fixed(fd)).flatten() {
            self.inner.replace_registered(registered);
        }
    }

    /// The fixed-file slot to name in the SQE being built, if the socket
    /// has one in that ring.
    pub(crate) fn fixed_index(&self) -> Option<u32> {
        index_for_sqe(self.inner.registered())
    }

    /// Sets O_NONBLOCK once (the epoll backend's attempts that have no
    /// per-call flag for it, such as accept4, need it).
    pub(crate) fn set_nonblocking(&self) -> io::Result<()> {
        let state = self.inner.state.get();
        if state & NONBLOCKING == 0 {
            socket2::SockRef::from(self).set_nonblocking(true)?;
            self.inner.state.set(state | NONBLOCKING);
        }
        Ok(())
    }

    /// Waits until no op holds the fd, then closes it through the driver.
    /// An `async` block rather than an `async fn`, so that `self` is kept
    /// once, not also copied into the body (connection tasks end here).
    #[allow(clippy::manual_async_fn)]
    pub(crate) fn close(self) -> impl Future<Output = io::Result<()>> {
        async move {
            poll_fn(|cx| {
                if Rc::strong_count(&self.inner) == 1 {
                    Poll::Ready(())
                } else {
                    set_closer(&self.inner, cx.waker());
                    Poll::Pending
                }
            })
            .await;
            let fd = self.inner.fd.replace(-1);
            let fixed = self.inner.replace_registered(Registered::NONE);
            crate::current::driver(|d| {
                // Queued first, so the socket is gone once the fd's close is.
                if fixed.is_some() {
                    d.close_fixed(fixed);
                }
                d.forget_fd(fd);
            });
            Op::submit(Close::new(fd)).await
        }
    }
}

impl Drop for SharedFd {
    fn drop(&mut self) {
        // An op letting go while the handle waits in close().
        if Rc::strong_count(&self.inner) == 2 {
            if let Some(waker) = take_closer(&self.inner) {
                waker.wake();
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let fixed = self.registered();
        if fixed.is_some() && crate::current::try_driver(|d| d.close_fixed(fixed)).is_none() {
            // Dropped inside a completion (or off the core): its ring
            // closes the slot at its next turn.
            defer_fixed_close(fixed);
        }
        let fd = self.fd.get();
        if fd >= 0 {
            crate::current::try_driver(|d| d.forget_fd(fd));
            // SAFETY: we own the fd and no op uses it any more.
            unsafe { libc::close(fd) };
        }
    }
}

impl AsFd for SharedFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd stays open while `self` (and so `inner`) lives.
        unsafe { BorrowedFd::borrow_raw(self.raw()) }
    }
}

/// Builds an SQE on `$fd` (a [`SharedFd`]): `$target` is its fixed-file
/// slot (`types::Fixed`) where it has one in the ring being built for, its
/// fd (`types::Fd`) otherwise.
macro_rules! sqe_target {
    ($fd:expr, |$target:ident| $build:expr) => {
        match $fd.fixed_index() {
            Some(index) => {
                let $target = io_uring::types::Fixed(index);
                $build
            }
            None => {
                let $target = io_uring::types::Fd($fd.raw());
                $build
            }
        }
    };
}

pub(crate) use sqe_target;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::IntoRawFd;

    fn closers() -> usize {
        CLOSERS.with(|c| c.borrow().len())
    }

    /// Polls `fut` once: whether it is still pending.
    async fn pending<F: Future + Unpin>(fut: &mut F) -> bool {
        let mut fut = std::pin::Pin::new(fut);
        poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_pending())).await
    }

    /// A `close()` waits for the other handles (ops) to let go, is woken by
    /// the second-to-last one's drop, and leaves no waiter behind, also
    /// when it is dropped (cancelled) before that.
    #[test]
    fn close_is_woken_by_the_last_op_and_leaves_no_waiter() {
        let rt = crate::Builder::new().cores(1).build().expect("runtime");
        rt.block_on(async {
            let socket = || {
                let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None);
                SharedFd::new(s.expect("socket").into_raw_fd())
            };
            let (fd, op) = (socket(), socket());
            let op_clone = op.clone();
            {
                // Cancelled while an op holds the fd: its entry stays until
                // that op lets go, and goes then.
                let mut close = Box::pin(op.close());
                assert!(pending(&mut close).await);
                assert_eq!(closers(), 1);
            }
            drop(op_clone);
            assert_eq!(closers(), 0);

            let held = fd.clone();
            let mut close = Box::pin(fd.close());
            assert!(pending(&mut close).await);
            assert_eq!(closers(), 1);
            drop(held);
            assert_eq!(closers(), 0);
            close.await.expect("close");
        });
    }
}
