//! What a core runs on, as [`crate::features`] reports it.

use std::fmt;

use super::Backend;

/// The backend a core runs on and the io_uring features its ring uses
/// (all false on epoll).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// The backend: [`Backend::IoUring`] or [`Backend::Epoll`].
    pub backend: Backend,
    /// IORING_SETUP_SINGLE_ISSUER.
    pub single_issuer: bool,
    /// IORING_SETUP_DEFER_TASKRUN: completions run only when the core asks.
    pub defer_taskrun: bool,
    /// IORING_SETUP_COOP_TASKRUN.
    pub coop_taskrun: bool,
    /// Multishot accept: one SQE accepts many connections.
    pub multishot_accept: bool,
    /// Multishot recv into the provided-buffer ring.
    pub multishot_recv: bool,
    /// A provided-buffer ring (IORING_REGISTER_PBUF_RING).
    pub provided_buffers: bool,
    /// IORING_OP_MSG_RING for waking a parked core from another core.
    pub msg_ring: bool,
    /// Slots of the ring's fixed-file table (registered descriptors) that
    /// streams' sockets go in; 0: none, every op names a plain fd.
    pub fixed_files: u32,
    /// Submission-queue entries per ring.
    pub sq_entries: u32,
    /// Completion-queue entries per ring.
    pub cq_entries: u32,
}

impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.single_issuer, "single-issuer"),
            (self.defer_taskrun, "defer-taskrun"),
            (self.coop_taskrun, "coop-taskrun"),
            (self.multishot_accept, "multishot-accept"),
            (self.multishot_recv, "multishot-recv"),
            (self.provided_buffers, "buf-ring"),
            (self.msg_ring, "msg-ring"),
            (self.fixed_files > 0, "fixed-files"),
        ];
        let on: Vec<&str> = names
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect();
        if self.backend == Backend::Epoll {
            return write!(f, "epoll");
        }
        write!(
            f,
            "io_uring sq={} cq={} [{}]",
            self.sq_entries,
            self.cq_entries,
            on.join(" ")
        )
    }
}
