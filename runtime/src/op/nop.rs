//! IORING_OP_NOP: a round trip through the ring and nothing else.

use io_uring::{opcode, squeue};

use super::{OneShot, Op};
use crate::driver::{Cqe, Release};

pub(crate) struct Nop;

impl Release for Nop {}

impl OneShot for Nop {
    type Output = std::io::Result<()>;
    fn sqe(&mut self) -> squeue::Entry {
        opcode::Nop::new().build()
    }
    fn complete(self, cqe: Cqe) -> Self::Output {
        cqe.into_result().map(drop)
    }
}

/// Submits a no-op and waits for its completion: the cost of one trip
/// through the ring (used by benchmarks and tests).
pub async fn nop() -> std::io::Result<()> {
    Op::submit(Nop).await
}
