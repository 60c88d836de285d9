//! Buffers the kernel reads from or writes into while an op runs.

mod io_buf;
mod recv_buf;

pub use io_buf::{IoBuf, IoBufMut};
pub use recv_buf::RecvBuf;
