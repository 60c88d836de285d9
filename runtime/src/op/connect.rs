//! Connecting a socket: IORING_OP_CONNECT, or on epoll a non-blocking
//! connect(2) that waits for writability and then reads SO_ERROR.

use std::io;
use std::os::fd::AsRawFd;

use io_uring::{opcode, squeue, types};
use socket2::{SockAddr, Socket};

use super::OneShot;
use crate::driver::{Attempt, Cqe, Interest, Operation, Release};

/// Owns the socket and the peer address until the kernel is done: a
/// cancelled connect closes its socket when the slot is freed.
pub(crate) struct Connect {
    socket: Unshared,
    addr: Box<SockAddr>,
    /// epoll: connect(2) returned EINPROGRESS; the rest is waiting.
    started: bool,
}

impl Connect {
    pub(crate) fn new(socket: Socket, addr: SockAddr) -> Connect {
        Connect {
            socket: Unshared(Some(socket)),
            addr: Box::new(addr),
            started: false,
        }
    }

    /// The outcome of a connect in progress: SO_ERROR once it failed,
    /// success once the peer is known, else wait.
    fn progress(&self) -> Attempt {
        match self.socket.take_error() {
            Ok(Some(e)) => Attempt::Done(errno_cqe(&e)),
            Err(e) => Attempt::Done(errno_cqe(&e)),
            Ok(None) => match self.socket.peer_addr() {
                Ok(_) => Attempt::Done(Cqe::new(0)),
                Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
                    Attempt::Wait(self.socket.as_raw_fd(), Interest::Write)
                }
                Err(e) => Attempt::Done(errno_cqe(&e)),
            },
        }
    }
}

/// The socket until a connect hands it out: if it is closed instead (the
/// connect failed or was dropped), the driver forgets it first, as a
/// `SharedFd` does (epoll registered it while waiting).
struct Unshared(Option<Socket>);

impl std::ops::Deref for Unshared {
    type Target = Socket;
    fn deref(&self) -> &Socket {
        self.0.as_ref().expect("the socket is handed out only once")
    }
}

impl Drop for Unshared {
    fn drop(&mut self) {
        if let Some(socket) = &self.0 {
            let fd = socket.as_raw_fd();
            crate::current::try_driver(|d| d.forget_fd(fd));
        }
    }
}

fn errno_cqe(e: &io::Error) -> Cqe {
    Cqe::new(-e.raw_os_error().unwrap_or(libc::EIO))
}

impl Release for Connect {}

// SAFETY: the peer address is boxed, so it stays in place while `self`
// moves; the socket stays open while `self` lives.
unsafe impl Operation for Connect {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Connect::new(
            types::Fd(self.socket.as_raw_fd()),
            self.addr.as_ptr().cast(),
            self.addr.len(),
        )
        .build()
    }

    fn attempt(&mut self) -> Attempt {
        if self.started {
            return self.progress();
        }
        self.started = true;
        if let Err(e) = self.socket.set_nonblocking(true) {
            return Attempt::Done(errno_cqe(&e));
        }
        match self.socket.connect(&self.addr) {
            Ok(()) => Attempt::Done(Cqe::new(0)),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                Attempt::Wait(self.socket.as_raw_fd(), Interest::Write)
            }
            Err(e) => Attempt::Done(errno_cqe(&e)),
        }
    }
}

impl OneShot for Connect {
    type Output = io::Result<Socket>;

    fn complete(mut self, cqe: Cqe) -> Self::Output {
        cqe.into_result()?;
        Ok(self.socket.0.take().expect("handed out once"))
    }
}
