//! IORING_OP_CONNECT.

use std::io;

use io_uring::{opcode, squeue, types};
use socket2::{SockAddr, Socket};

use super::OneShot;
use crate::driver::{Cqe, Release};

/// Owns the socket and the peer address until the kernel is done: a
/// cancelled connect closes its socket when the slot is freed.
pub(crate) struct Connect {
    socket: Socket,
    addr: Box<SockAddr>,
}

impl Connect {
    pub(crate) fn new(socket: Socket, addr: SockAddr) -> Connect {
        Connect {
            socket,
            addr: Box::new(addr),
        }
    }
}

impl Release for Connect {}

impl OneShot for Connect {
    type Output = io::Result<Socket>;

    fn sqe(&mut self) -> squeue::Entry {
        use std::os::fd::AsRawFd;
        opcode::Connect::new(
            types::Fd(self.socket.as_raw_fd()),
            self.addr.as_ptr().cast(),
            self.addr.len(),
        )
        .build()
    }

    fn complete(self, cqe: Cqe) -> Self::Output {
        cqe.into_result()?;
        Ok(self.socket)
    }
}
