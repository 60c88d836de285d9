//! IORING_OP_CLOSE.

use std::io;

use io_uring::{opcode, squeue, types};

use super::OneShot;
use crate::driver::{Cqe, Release};

pub(crate) struct Close {
    fd: i32,
}

impl Close {
    /// Takes ownership of `fd`: it is closed by the kernel.
    pub(crate) fn new(fd: i32) -> Close {
        Close { fd }
    }
}

impl Release for Close {}

impl OneShot for Close {
    type Output = io::Result<()>;
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Close::new(types::Fd(self.fd)).build()
    }
    fn complete(self, cqe: Cqe) -> Self::Output {
        cqe.into_result().map(drop)
    }
}
