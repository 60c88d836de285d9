//! A file descriptor shared by a socket handle and its in-flight ops.
//!
//! Every op holds a clone, so the fd is closed only after the last op that
//! names it has completed: an fd number is never reused under a pending op
//! (invariant 7). Before it is closed the driver forgets it (epoll drops its
//! registration), so a new fd with the same number starts afresh.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::rc::Rc;
use std::task::{Poll, Waker};

use crate::op::{Close, Op};

#[derive(Clone)]
pub(crate) struct SharedFd {
    inner: Rc<Inner>,
}

struct Inner {
    fd: Cell<RawFd>,
    /// The task in `close()`, waiting for the ops to let go.
    closer: Cell<Option<Waker>>,
    /// O_NONBLOCK is set (epoll's accept needs it; io_uring must not have it).
    nonblocking: Cell<bool>,
}

impl SharedFd {
    /// Takes ownership of `fd`.
    pub(crate) fn new(fd: RawFd) -> SharedFd {
        SharedFd {
            inner: Rc::new(Inner {
                fd: Cell::new(fd),
                closer: Cell::new(None),
                nonblocking: Cell::new(false),
            }),
        }
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.inner.fd.get()
    }

    /// Sets O_NONBLOCK once (the epoll backend's attempts that have no
    /// per-call flag for it, such as accept4, need it).
    pub(crate) fn set_nonblocking(&self) -> io::Result<()> {
        if !self.inner.nonblocking.get() {
            socket2::SockRef::from(self).set_nonblocking(true)?;
            self.inner.nonblocking.set(true);
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
                    self.inner.closer.set(Some(cx.waker().clone()));
                    Poll::Pending
                }
            })
            .await;
            let fd = self.inner.fd.replace(-1);
            crate::current::driver(|d| d.forget_fd(fd));
            Op::submit(Close::new(fd)).await
        }
    }
}

impl Drop for SharedFd {
    fn drop(&mut self) {
        // An op letting go while the handle waits in close().
        if Rc::strong_count(&self.inner) == 2 {
            if let Some(waker) = self.inner.closer.take() {
                waker.wake();
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
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
