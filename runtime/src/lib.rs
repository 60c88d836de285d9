//! uringo: a thread-per-core io_uring runtime (work in progress).
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(dead_code)]

mod sync;

pub mod chan;
pub use chan::chan;
#[doc(hidden)]
pub mod select;
