//! NOP: a round trip through the core's driver and nothing else.

use io_uring::{opcode, squeue};

use super::Op;
use crate::driver::{Attempt, Cqe, OneShot, Operation, Release};

/// io_uring: IORING_OP_NOP. epoll: done after the driver's next turn.
pub(crate) struct Nop {
    turned: bool,
}

impl Release for Nop {}

// SAFETY: the SQE carries no pointer.
unsafe impl Operation for Nop {
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Nop::new().build()
    }

    fn attempt(&mut self) -> Attempt {
        if std::mem::replace(&mut self.turned, true) {
            Attempt::Done(Cqe::new(0))
        } else {
            Attempt::NextTurn
        }
    }
}

impl OneShot for Nop {
    type Output = std::io::Result<()>;
    fn complete(self, cqe: Cqe) -> Self::Output {
        cqe.into_result().map(drop)
    }
}

/// Submits a no-op and waits for its completion: the cost of one trip
/// through the core's driver (used by benchmarks and tests).
pub async fn nop() -> std::io::Result<()> {
    Op::submit(Nop { turned: false }).await
}
