//! Ring setup with a feature probe (invariant 8).
//!
//! Setup flags are tried from the most capable set down to none, since an
//! older kernel answers EINVAL to a flag it does not know; opcodes and
//! multishot support come from IORING_REGISTER_PROBE and the kernel version.

use std::io;

use io_uring::{opcode, IoUring, Probe};

use crate::driver::{Backend, Features};

/// What the caller allows (the Builder's switches that force fallbacks).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wanted {
    pub(crate) entries: u32,
    pub(crate) defer_taskrun: bool,
    pub(crate) multishot: bool,
    pub(crate) provided_buffers: bool,
    pub(crate) msg_ring: bool,
    /// Slots of the fixed-file table for streams (0: none).
    pub(crate) fixed_files: u32,
}

/// Builds a ring with the best flags the kernel accepts.
pub(crate) fn setup(wanted: &Wanted) -> io::Result<(IoUring, Features)> {
    let entries = wanted.entries.max(8).next_power_of_two();
    let mut last_err = None;
    for level in (0..3).rev() {
        if level == 2 && !wanted.defer_taskrun {
            continue;
        }
        let mut builder = IoUring::builder();
        builder.setup_cqsize(entries * 4).setup_clamp();
        if level >= 1 {
            builder.setup_coop_taskrun().setup_taskrun_flag();
        }
        if level == 2 {
            builder.setup_single_issuer().setup_defer_taskrun();
        }
        match builder.build(entries) {
            Ok(ring) => {
                let mut features = Features {
                    backend: Backend::IoUring,
                    single_issuer: level == 2,
                    defer_taskrun: level == 2,
                    coop_taskrun: level >= 1,
                    sq_entries: ring.params().sq_entries(),
                    cq_entries: ring.params().cq_entries(),
                    ..Features::default()
                };
                probe_ops(&ring, wanted, &mut features);
                return Ok((ring, features));
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => last_err = Some(e),
            Err(e) => return Err(explain(e)),
        }
    }
    Err(explain(last_err.unwrap_or_else(|| {
        io::Error::from_raw_os_error(libc::EINVAL)
    })))
}

fn probe_ops(ring: &IoUring, wanted: &Wanted, features: &mut Features) {
    let mut probe = Probe::new();
    let probed = ring.submitter().register_probe(&mut probe).is_ok();
    let has = |code: u8| probed && probe.is_supported(code);
    let (major, minor) = kernel_version();
    let at_least = |a: u32, b: u32| (major, minor) >= (a, b);
    features.msg_ring = wanted.msg_ring && has(opcode::MsgRingData::CODE) && at_least(6, 0);
    features.multishot_accept =
        wanted.multishot && has(opcode::AcceptMulti::CODE) && at_least(5, 19);
    features.provided_buffers = wanted.provided_buffers && at_least(5, 19);
    features.multishot_recv = wanted.multishot && features.provided_buffers && at_least(6, 0);
}

fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Turns an io_uring_enter denied right after setup into an error that says
/// why and what to do.
pub(crate) fn explain_enter(err: io::Error) -> io::Error {
    let msg = format!(
        "io_uring_enter was denied ({}) although io_uring_setup was allowed, most likely \
         by a seccomp filter. Allow io_uring_enter and io_uring_register too, or run the \
         container with `--security-opt seccomp=unconfined`",
        if err.raw_os_error() == Some(libc::ENOSYS) {
            "ENOSYS"
        } else {
            "EPERM"
        }
    );
    io::Error::new(err.kind(), msg)
}

/// Turns a failed io_uring_setup into an error that says why and what to do.
pub(crate) fn explain(err: io::Error) -> io::Error {
    let msg = match err.raw_os_error() {
        Some(libc::ENOSYS) => "io_uring is not available: the kernel has no io_uring_setup (ENOSYS). \
             uringo needs Linux 5.19 or later built with CONFIG_IO_URING=y"
            .to_string(),
        Some(libc::EPERM) => match std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").map(|s| s.trim().to_string()) {
            Ok(v) if v == "2" => "io_uring is disabled on this machine (sysctl kernel.io_uring_disabled = 2, EPERM). \
                 Enable it with `sysctl -w kernel.io_uring_disabled=0`"
                .to_string(),
            Ok(v) if v == "1" => "io_uring is restricted to the group in kernel.io_uring_group \
                 (sysctl kernel.io_uring_disabled = 1, EPERM). Run as a member of that group, \
                 or set `sysctl -w kernel.io_uring_disabled=0`"
                .to_string(),
            _ => "io_uring_setup was denied (EPERM), most likely by a seccomp filter: Docker's default \
                 profile blocks io_uring. Run the container with `--security-opt seccomp=unconfined` \
                 or a profile that allows io_uring_setup, io_uring_enter and io_uring_register"
                .to_string(),
        },
        Some(libc::ENOMEM) => "io_uring_setup failed with ENOMEM: the ring could not be allocated; \
             lower Builder::ring_entries or raise RLIMIT_MEMLOCK (ulimit -l) on kernels before 5.12"
            .to_string(),
        _ => format!("io_uring_setup failed: {err}"),
    };
    io::Error::new(err.kind(), msg)
}
