//! The backend-neutral completion of an op, and what an abandoned op releases.

// The kernel's CQE flag bits (include/uapi/linux/io_uring.h); the io-uring
// crate decodes them but does not export them.
const CQE_F_BUFFER: u32 = 1;
const CQE_F_MORE: u32 = 2;
const CQE_BUFFER_SHIFT: u32 = 16;

/// One completion: a result (`>= 0` success, `-errno` failure) and flags in
/// io_uring's CQE encoding (MORE, BUFFER and the buffer id). io_uring hands
/// these over as they come; the epoll backend builds the same values from the
/// result of its syscall, so an op turns either into its output with one
/// piece of code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cqe {
    pub(crate) result: i32,
    pub(crate) flags: u32,
}

impl Cqe {
    /// A completion with `result` and no flags.
    pub(crate) fn new(result: i32) -> Cqe {
        Cqe { result, flags: 0 }
    }

    /// The result of a libc call that returned `ret` (-1 and errno on failure).
    pub(crate) fn from_libc(ret: isize) -> Cqe {
        if ret < 0 {
            Cqe::new(
                -std::io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EIO),
            )
        } else {
            Cqe::new(ret.min(i32::MAX as isize) as i32)
        }
    }

    /// Marks the completion as one of several (the multishot op goes on).
    pub(crate) fn with_more(mut self) -> Cqe {
        self.flags |= CQE_F_MORE;
        self
    }

    /// Marks the completion as carrying provided buffer `bid`.
    pub(crate) fn with_buffer(mut self, bid: u16) -> Cqe {
        self.flags |= CQE_F_BUFFER | (u32::from(bid) << CQE_BUFFER_SHIFT);
        self
    }

    /// Whether a multishot op goes on after this completion.
    pub(crate) fn more(&self) -> bool {
        io_uring::cqueue::more(self.flags)
    }

    /// The provided buffer this completion filled, if any.
    pub(crate) fn buffer_id(&self) -> Option<u16> {
        io_uring::cqueue::buffer_select(self.flags)
    }

    /// Whether this completion failed with `errno`.
    pub(crate) fn is_err(&self, errno: i32) -> bool {
        self.result == -errno
    }

    pub(crate) fn into_result(self) -> std::io::Result<u32> {
        if self.result < 0 {
            Err(std::io::Error::from_raw_os_error(-self.result))
        } else {
            Ok(self.result as u32)
        }
    }
}

/// Releases what a completion of an abandoned op carries (an accepted fd is
/// closed, a provided buffer goes back to its pool). Only io_uring delivers
/// completions to abandoned ops; on epoll an op dropped before it ran did
/// nothing in the kernel.
pub(crate) trait Release: 'static {
    fn release(&mut self, _cqe: Cqe) {}
}

#[cfg(test)]
mod tests {
    use super::Cqe;

    #[test]
    fn built_flags_decode_like_the_kernels() {
        let cqe = Cqe::new(5).with_buffer(513).with_more();
        assert_eq!(cqe.buffer_id(), Some(513));
        assert!(cqe.more());
        assert_eq!(Cqe::new(0).buffer_id(), None);
        assert!(!Cqe::new(0).more());
    }
}
