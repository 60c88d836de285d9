//! A client's outbound queue is one contiguous buffer of whole lines: a
//! line is copied in once when queued, and the writer sends the buffer as
//! it is, however many lines it holds, with no second copy and no
//! per-line allocation or reference count. A buffer is taken whole by the
//! writer (so an idle client keeps none) and comes back here after its
//! send, for the next client that gets a line; the spares are bounded.

/// Spare buffers kept at most, and the largest capacity one may keep: at
/// most 4 MiB held back by a core under load. Under load every active
/// client has a buffer filling and one in flight, and a turn's completed
/// sends come back together: fewer spares than active clients meant a
/// fresh buffer, grown from nothing, for most of the next turn's lines.
const SPARES: usize = 1024;
const SPARE_CAPACITY: usize = 4 * 1024;
/// What `trim` (the idle sweep, every few seconds) leaves.
const SPARES_IDLE: usize = 64;
/// A fresh buffer's capacity: a few lines, so one line makes no regrowth.
const FRESH_CAPACITY: usize = 1024;

/// A core's buffers between sends.
#[derive(Default)]
pub struct OutBufs {
    spare: Vec<Vec<u8>>,
}

impl OutBufs {
    /// Appends `line` to `out`, giving an empty `out` a spare buffer first.
    pub fn append(&mut self, out: &mut Vec<u8>, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        debug_assert!(is_one_line(line), "not one CRLF-terminated line: {line:?}");
        if out.capacity() == 0 {
            *out = (self.spare.pop())
                .unwrap_or_else(|| Vec::with_capacity(line.len().max(FRESH_CAPACITY)));
        }
        out.extend_from_slice(line);
    }

    /// Lets go of the spares a burst left beyond what an idle core keeps.
    pub fn trim(&mut self) {
        self.spare.truncate(SPARES_IDLE);
        self.spare.shrink_to(SPARES_IDLE);
    }

    /// Takes back a buffer whose send is done.
    pub fn give_back(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < SPARES && (1..=SPARE_CAPACITY).contains(&buf.capacity()) {
            buf.clear();
            self.spare.push(buf);
        }
    }
}

/// What every queued line must be (the writer sends the bytes as they are).
fn is_one_line(line: &[u8]) -> bool {
    let Some(inner) = line.strip_suffix(b"\r\n") else {
        return false;
    };
    !inner.iter().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// Splits a sent buffer back into its lines, CRLF included (for tests).
#[cfg(test)]
pub fn lines(buf: &[u8]) -> Vec<bytes::Bytes> {
    buf.split_inclusive(|&b| b == b'\n')
        .map(bytes::Bytes::copy_from_slice)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_bounded() {
        let mut bufs = OutBufs::default();
        let mut out = Vec::new();
        bufs.append(&mut out, b"PING :a\r\n");
        bufs.append(&mut out, b"PING :b\r\n");
        assert_eq!(lines(&out), ["PING :a\r\n", "PING :b\r\n"]);
        let at = out.as_ptr();
        bufs.give_back(std::mem::take(&mut out));
        bufs.append(&mut out, b"PONG\r\n");
        assert_eq!((out.as_ptr(), &out[..]), (at, &b"PONG\r\n"[..]), "reused");
        bufs.give_back(Vec::with_capacity(SPARE_CAPACITY + 1));
        bufs.give_back(Vec::new());
        assert!(bufs.spare.is_empty(), "too large or nothing to keep");
        for _ in 0..SPARES + 10 {
            bufs.give_back(Vec::with_capacity(64));
        }
        assert_eq!(bufs.spare.len(), SPARES);
        bufs.trim();
        assert_eq!(bufs.spare.len(), SPARES_IDLE);
    }

    #[test]
    fn only_whole_lines_pass() {
        assert!(is_one_line(b"PING :x\r\n"));
        assert!(!is_one_line(b"PING :x"));
        assert!(!is_one_line(b"PING\r\n:x\r\n"));
        assert!(!is_one_line(b"PING\0\r\n"));
    }
}
