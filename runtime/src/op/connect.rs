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
    /// Taken by a successful completion; closed on drop otherwise.
    socket: Option<Socket>,
    addr: Box<SockAddr>,
    /// epoll: connect(2) returned EINPROGRESS; the rest is waiting.
    started: bool,
}

impl Connect {
    pub(crate) fn new(socket: Socket, addr: SockAddr) -> Connect {
        Connect {
            socket: Some(socket),
            addr: Box::new(addr),
            started: false,
        }
    }

    fn socket(&self) -> &Socket {
        self.socket
            .as_ref()
            .expect("a running connect owns its socket")
    }

    /// The outcome of a connect in progress: SO_ERROR once it failed,
    /// success once the peer is known, else wait.
    fn progress(&self) -> Attempt {
        match self.socket().take_error() {
            Ok(Some(e)) => Attempt::Done(errno_cqe(&e)),
            Err(e) => Attempt::Done(errno_cqe(&e)),
            Ok(None) => match self.socket().peer_addr() {
                Ok(_) => Attempt::Done(Cqe::new(0)),
                Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
                    Attempt::Wait(self.socket().as_raw_fd(), Interest::Write)
                }
                Err(e) => Attempt::Done(errno_cqe(&e)),
            },
        }
    }
}

fn errno_cqe(e: &io::Error) -> Cqe {
    Cqe::new(-e.raw_os_error().unwrap_or(libc::EIO))
}

impl Release for Connect {}

impl Drop for Connect {
    fn drop(&mut self) {
        // A failed or abandoned connect closes its socket here: the epoll
        // backend must forget the fd first, or a new socket given the same
        // number would wait on a registration the close removed.
        if let Some(socket) = self.socket.take() {
            crate::current::try_driver(|d| d.forget_fd(socket.as_raw_fd()));
        }
    }
}

// SAFETY: the peer address is boxed, so it stays in place while `self`
// moves; the socket stays open while `self` lives.
unsafe impl Operation for Connect {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Connect::new(
            types::Fd(self.socket().as_raw_fd()),
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
        let socket = self.socket();
        if let Err(e) = socket.set_nonblocking(true) {
            return Attempt::Done(errno_cqe(&e));
        }
        match socket.connect(&self.addr) {
            Ok(()) => Attempt::Done(Cqe::new(0)),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                Attempt::Wait(socket.as_raw_fd(), Interest::Write)
            }
            Err(e) => Attempt::Done(errno_cqe(&e)),
        }
    }
}

impl OneShot for Connect {
    type Output = io::Result<Socket>;

    fn complete(mut self, cqe: Cqe) -> Self::Output {
        cqe.into_result()?;
        Ok(self
            .socket
            .take()
            .expect("a running connect owns its socket"))
    }
}
