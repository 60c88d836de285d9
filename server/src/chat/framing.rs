//! Splits the client's byte stream into lines, enforcing the length limit.
//!
//! A line ends at `\n`, at `\r\n`, and also at a lone `\r`: clients that
//! split on CR alone would otherwise see a forged line inside one the
//! server relays (modern.ircdocs.horse, "Messages", accepts lone CR and LF
//! as terminators; RFC 1459 knows only CRLF). NUL may not appear in a
//! message (same section): it is stripped.
//!
//! A line longer than the limit is never buffered whole: once the buffer
//! passes the limit without a line ending, bytes are dropped up to the next
//! line ending, and the line is reported as `TooLong` (the 417 reply). So a
//! client cannot grow server memory by never sending a newline.

use bytes::{Bytes, BytesMut};

use super::parse::max_len_for;

#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A line without its `\r\n` / `\n`.
    Line(Bytes),
    TooLong,
}

#[derive(Default)]
pub struct LineReader {
    buf: BytesMut,
    /// Bytes of `buf` already searched for `\n`.
    scanned: usize,
    discarding: bool,
}

impl LineReader {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes held but not yet returned as a line.
    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Bytes of buffer held, used or not.
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    pub fn next_frame(&mut self) -> Option<Frame> {
        loop {
            let found = self.buf[self.scanned..]
                .iter()
                .position(|&b| b == b'\n' || b == b'\r');
            let Some(rel) = found else {
                self.scanned = self.buf.len();
                if self.discarding {
                    self.buf.clear();
                    self.scanned = 0;
                } else if self.buf.len() >= max_len_for(&self.buf) {
                    self.discarding = true;
                    self.buf.clear();
                    self.scanned = 0;
                }
                if self.buf.is_empty() {
                    // Lets go of the receive buffer the lines were split
                    // from: an idle client holds no input buffer.
                    self.buf = BytesMut::new();
                }
                return None;
            };
            let end = self.scanned + rel;
            let mut line = self.buf.split_to(end + 1);
            self.scanned = 0;
            if self.discarding {
                self.discarding = false;
                return Some(Frame::TooLong);
            }
            // The limit counts a CRLF, so 510 bytes of content is the most.
            // The LF of a CRLF comes out as an empty line, skipped.
            if end + 2 > max_len_for(&line) {
                return Some(Frame::TooLong);
            }
            line.truncate(end);
            if line.contains(&0) {
                line = line.iter().copied().filter(|&b| b != 0).collect();
            }
            if line.is_empty() {
                continue;
            }
            return Some(Frame::Line(line.freeze()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(r: &mut LineReader) -> Vec<Frame> {
        std::iter::from_fn(|| r.next_frame()).collect()
    }

    #[test]
    fn splits_crlf_and_lf_and_skips_blank() {
        let mut r = LineReader::new();
        r.push(b"NICK a\r\n\r\nUSER b\nPAR");
        assert_eq!(
            frames(&mut r),
            vec![
                Frame::Line(Bytes::from_static(b"NICK a")),
                Frame::Line(Bytes::from_static(b"USER b"))
            ]
        );
        r.push(b"T #x\r\n");
        assert_eq!(
            frames(&mut r),
            vec![Frame::Line(Bytes::from_static(b"PART #x"))]
        );
    }

    #[test]
    fn no_buffer_is_held_between_lines() {
        let mut r = LineReader::new();
        r.push(b"NICK a\r\nUSER b 0 * :c\r\nPI");
        assert_eq!(frames(&mut r).len(), 2);
        assert!(r.capacity() > 0, "the partial line is kept");
        r.push(b"NG x\r\n");
        assert_eq!(frames(&mut r).len(), 1);
        assert_eq!(r.capacity(), 0);
    }

    #[test]
    fn exact_limit_passes_one_more_fails() {
        let mut r = LineReader::new();
        let ok = vec![b'a'; 510];
        r.push(&ok);
        r.push(b"\r\n");
        assert!(matches!(r.next_frame(), Some(Frame::Line(l)) if l.len() == 510));
        r.push(&[b'a'; 511]);
        r.push(b"\r\n");
        assert_eq!(r.next_frame(), Some(Frame::TooLong));
    }

    #[test]
    fn endless_line_is_dropped_without_buffering() {
        let mut r = LineReader::new();
        for _ in 0..1000 {
            r.push(&[b'x'; 1000]);
            assert_eq!(r.next_frame(), None);
            assert!(r.buffered() <= 1000 + 512);
        }
        r.push(b"xx\r\nPING a\r\n");
        assert_eq!(r.next_frame(), Some(Frame::TooLong));
        assert_eq!(
            r.next_frame(),
            Some(Frame::Line(Bytes::from_static(b"PING a")))
        );
    }

    #[test]
    fn lone_cr_ends_a_line_and_nul_is_stripped() {
        let mut r = LineReader::new();
        r.push(b"PRIVMSG #a :hi\r:evil PRIVMSG #a :forged\r\nPING a\0b\n");
        assert_eq!(
            frames(&mut r),
            vec![
                Frame::Line(Bytes::from_static(b"PRIVMSG #a :hi")),
                Frame::Line(Bytes::from_static(b":evil PRIVMSG #a :forged")),
                Frame::Line(Bytes::from_static(b"PING ab")),
            ]
        );
        r.push(b"\0\0\r\n");
        assert_eq!(frames(&mut r), vec![]);
    }

    #[test]
    fn cr_split_across_reads_is_one_ending() {
        let mut r = LineReader::new();
        r.push(b"NICK a\r");
        assert_eq!(
            frames(&mut r),
            vec![Frame::Line(Bytes::from_static(b"NICK a"))]
        );
        r.push(b"\nUSER b\r\n");
        assert_eq!(
            frames(&mut r),
            vec![Frame::Line(Bytes::from_static(b"USER b"))]
        );
    }

    #[test]
    fn tagged_lines_get_the_larger_limit() {
        let mut r = LineReader::new();
        let mut line = b"@t=".to_vec();
        line.extend(std::iter::repeat_n(b'v', 3000));
        line.extend_from_slice(b" PING x\r\n");
        r.push(&line);
        assert!(matches!(r.next_frame(), Some(Frame::Line(_))));
    }
}
