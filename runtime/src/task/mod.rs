//! Tasks: uringo's goroutines. Public here: [`JoinHandle`], [`JoinSet`] and
//! task dumps ([`dump`], [`dump_core`]).
//!
//! How a task is laid out: one heap allocation (`raw::TaskCell`) holding a `Header`,
//! the future (later its output) and the waker of whoever awaits its
//! [`JoinHandle`]. Who may touch what:
//!
//! | field                  | touched by                                          |
//! |------------------------|-----------------------------------------------------|
//! | `header.refs`          | anyone holding a reference (atomic refcount)        |
//! | `header.scheduled`     | the owning core only (plain `Cell`)                 |
//! | `header.done`          | the owning core only                                |
//! | `header.join`          | owner and join handle, by the protocol in `join.rs` |
//! | `stage` (future)       | the owning core only                                |
//! | `stage` (output)       | owner writes before setting COMPLETE; the join      |
//! |                        | handle reads after observing COMPLETE               |
//! | `join_waker`           | join handle while WAKER_SET is clear, owner after   |
//! | `header.location`,     | set at spawn; `polls`, `wait` by the owner's polls; |
//! | `born_ms`, `polls`,    | all read by dumps on the owner thread (`meta.rs`)   |
//! | `wait`                 |                                                     |
//!
//! References are held by: the core's task registry (while the task is
//! live), each run-queue entry (local or remote), each `Waker`, and the
//! `JoinHandle`. Because tasks never migrate, a same-core wake is a plain
//! push on the local queue guarded by the non-atomic `scheduled` flag; a
//! wake from another thread goes through the owner's remote queue and the
//! owner de-duplicates it with that same flag.

mod dump;
mod join;
mod join_set;
mod meta;
mod raw;
pub(crate) mod wait_tag;
mod waker;

pub use dump::{dump, dump_core, CoreDump, Dump, TaskInfo, TaskState};
pub use join::JoinHandle;
pub use join_set::{JoinError, JoinSet};
pub(crate) use raw::{spawn_raw, Header, TaskRef};
pub use wait_tag::WaitOn;
