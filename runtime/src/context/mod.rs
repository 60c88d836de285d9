//! Go's `context`: a tree of cancellation scopes with deadlines, passed to
//! the work it governs so that cancelling a request stops everything done
//! on its behalf, on every core.
//!
//! ```
//! use std::time::Duration;
//! use uringo::context::{Context, Error};
//!
//! uringo::start(async {
//!     let (ctx, cancel) = Context::background().with_cancel();
//!     let (child, _) = ctx.with_timeout(Duration::from_secs(60));
//!     let worker = uringo::spawn_on(uringo::cores() - 1, move || async move {
//!         child.done().await; // a select! branch in real code
//!         child.err()
//!     });
//!     cancel.cancel(); // cancelling the parent cancels the child
//!     assert_eq!(worker.await, Some(Error::Canceled));
//! });
//! ```
//!
//! Shape (Go's, in Rust): a [`Context`] is a cheap `Clone + Send + Sync`
//! handle; `with_cancel`, `with_timeout` and `with_deadline` derive a child
//! and return it with its [`CancelFunc`]. A child is cancelled when its
//! parent is, with the parent's error; its deadline is never later than its
//! parent's. Dropping a `CancelFunc` does not cancel (as in Go, call it when
//! the work is done; unlike Go, forgetting it leaks nothing: a child leaves
//! its parent when its last handle is dropped). Values (`WithValue`) are
//! left out: pass them as arguments.
//!
//! How it works: each derived context is a node with its error, its parked
//! `done()` waiters and its children, under one short lock. Cancelling sets
//! the error, wakes the waiters (any core) and walks the children. Deadlines
//! need no timer thread: [`Context::err`] compares the clock with the
//! deadline, and a `done()` future waiting on a context with a deadline also
//! arms a timer on the core that polls it, and cancels the context when it
//! fires.

mod node;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use crate::shim::Arc;
use node::{Handle, Node};

/// Why a context is done, as Go's `context.Canceled` and
/// `context.DeadlineExceeded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Its `CancelFunc` (or an ancestor's) was called.
    Canceled,
    /// Its deadline (or an ancestor's) passed.
    DeadlineExceeded,
}

/// A cancellation scope with an optional deadline; see the module docs.
#[derive(Clone)]
pub struct Context {
    /// `None` for the background context, which is never done.
    handle: Option<Arc<Handle>>,
}

/// Cancels the context it was returned with (and its children). Cloneable
/// and sendable; calling it again does nothing.
#[derive(Clone)]
pub struct CancelFunc {
    handle: Arc<Handle>,
}

impl Context {
    /// The root context: never cancelled, no deadline (Go's `Background()`).
    pub fn background() -> Context {
        Context { handle: None }
    }

    /// A child that is cancelled when `cancel` is called or the parent is.
    pub fn with_cancel(&self) -> (Context, CancelFunc) {
        self.derive(None)
    }

    /// A child whose deadline is `timeout` from now (or the parent's, if earlier).
    pub fn with_timeout(&self, timeout: Duration) -> (Context, CancelFunc) {
        self.with_deadline(Instant::now() + timeout)
    }

    /// A child whose deadline is `deadline` (or the parent's, if earlier).
    pub fn with_deadline(&self, deadline: Instant) -> (Context, CancelFunc) {
        self.derive(Some(deadline))
    }

    fn derive(&self, deadline: Option<Instant>) -> (Context, CancelFunc) {
        let parent = self.handle.as_ref().map(|h| h.node.clone());
        let handle = Arc::new(Handle::new(parent, deadline));
        (
            Context {
                handle: Some(handle.clone()),
            },
            CancelFunc { handle },
        )
    }

    /// Why the context is done, or `None` while it is not (Go's `Err()`).
    pub fn err(&self) -> Option<Error> {
        self.node().and_then(Node::err)
    }

    /// Whether the context is done.
    pub fn is_done(&self) -> bool {
        self.err().is_some()
    }

    /// The deadline, if this context or an ancestor has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.node().and_then(|n| n.deadline)
    }

    /// A future that completes when the context is done (Go's `<-ctx.Done()`);
    /// never, for the background context. Usable as a `select!` branch.
    /// Like a `sleep`, the future belongs to the core that polls it (it may
    /// arm that core's timer for the deadline), so it is `!Send`: clone the
    /// context into a task on another core and call `done()` there.
    pub fn done(&self) -> Done<'_> {
        Done {
            node: self.node(),
            key: None,
            timer: None,
        }
    }

    fn node(&self) -> Option<&Node> {
        self.handle.as_deref().map(|h| &*h.node)
    }
}

impl CancelFunc {
    /// Cancels the context with [`Error::Canceled`] (unless it is done already).
    pub fn cancel(&self) {
        self.handle.node.cancel(Error::Canceled);
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("err", &self.err())
            .field("deadline", &self.deadline())
            .finish()
    }
}

impl fmt::Debug for CancelFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelFunc").finish_non_exhaustive()
    }
}

impl Default for Context {
    fn default() -> Self {
        Context::background()
    }
}

/// The future of [`Context::done`]; dropping it unparks it.
#[must_use = "futures do nothing unless awaited"]
pub struct Done<'a> {
    node: Option<&'a Node>,
    key: Option<usize>,
    timer: Option<crate::time::Sleep>,
}

impl Unpin for Done<'_> {}

impl Future for Done<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(node) = this.node else {
            crate::task::wait_tag::set(crate::task::WaitOn::Context);
            return Poll::Pending;
        };
        if node.poll_done(&mut this.key, cx.waker()).is_ready() {
            return Poll::Ready(());
        }
        if let Some(deadline) = node.deadline {
            let timer = this
                .timer
                .get_or_insert_with(|| crate::time::sleep_until(deadline));
            if Pin::new(timer).poll(cx).is_ready() {
                node.cancel(Error::DeadlineExceeded);
                return node.poll_done(&mut this.key, cx.waker());
            }
        }
        crate::task::wait_tag::set(crate::task::WaitOn::Context);
        Poll::Pending
    }
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        if let (Some(node), Some(key)) = (self.node, self.key.take()) {
            node.unpark(key);
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Canceled => "context canceled",
            Error::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        let kind = match e {
            Error::Canceled => std::io::ErrorKind::Interrupted,
            Error::DeadlineExceeded => std::io::ErrorKind::TimedOut,
        };
        std::io::Error::new(kind, e)
    }
}

#[cfg(all(test, loom))]
mod loom_tests;
