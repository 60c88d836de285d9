//! Accepting connections on a listening socket, shared by `TcpListener`
//! and `UnixListener`: one multishot accept kept armed (single-shot where
//! the kernel lacks it).

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use socket2::SockRef;

use super::{SharedFd, TcpStream};
use crate::op::{coop_proceed, Accept, AcceptMulti, Multi, Op};

pub(crate) struct Acceptor {
    fd: SharedFd,
    state: RefCell<AcceptState>,
}

#[derive(Default)]
struct AcceptState {
    multi: Option<Multi<AcceptMulti>>,
    single: Option<Op<Accept>>,
}

impl Acceptor {
    /// Takes over a bound, listening socket.
    pub(crate) fn new(fd: OwnedFd) -> Acceptor {
        Acceptor {
            fd: SharedFd::new(fd.into_raw_fd()),
            state: RefCell::default(),
        }
    }

    pub(crate) fn fd(&self) -> &SharedFd {
        &self.fd
    }

    pub(crate) fn sock(&self) -> SockRef<'_> {
        SockRef::from(&self.fd)
    }

    /// The next accepted connection. Errors such as EMFILE are returned as
    /// they come; the next call re-arms the accept.
    pub(crate) fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<OwnedFd>> {
        std::task::ready!(coop_proceed(cx));
        let multishot = crate::current::driver(|d| d.multishot_accept());
        let mut state = self.state.borrow_mut();
        if !multishot {
            let op = state
                .single
                .get_or_insert_with(|| Op::submit(Accept::new(self.fd.clone())));
            let result = std::task::ready!(Pin::new(op).poll(cx));
            state.single = None;
            return Poll::Ready(result.map(|(fd, _)| fd));
        }
        state
            .multi
            .get_or_insert_with(|| Multi::new(AcceptMulti::new(self.fd.clone())))
            .poll_next(cx)
    }
}

/// The stream of accepted connections of [`TcpListener::incoming`](super::TcpListener::incoming)
/// (`Incoming<'_, TcpStream>`) and
/// [`UnixListener::incoming`](super::UnixListener::incoming)
/// (`Incoming<'_, UnixStream>`), fed by the listener's multishot accept.
/// It never ends; an error item (EMFILE, say) leaves it usable.
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a, S = TcpStream> {
    acceptor: &'a Acceptor,
    wrap: fn(OwnedFd) -> S,
}

impl<'a, S> Incoming<'a, S> {
    pub(crate) fn new(acceptor: &'a Acceptor, wrap: fn(OwnedFd) -> S) -> Incoming<'a, S> {
        Incoming { acceptor, wrap }
    }
}

impl<S> futures_core::Stream for Incoming<'_, S> {
    type Item = io::Result<S>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let wrap = self.wrap;
        self.acceptor
            .poll_accept(cx)
            .map(|accepted| Some(accepted.map(wrap)))
    }
}

impl<S> std::fmt::Debug for Incoming<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming")
            .field("fd", &self.acceptor.fd().raw())
            .finish()
    }
}
