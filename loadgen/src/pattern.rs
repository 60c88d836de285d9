//! The per-connection byte pattern loadgen sends, and the verifier that checks the echo.
//!
//! Every connection's stream is a window onto one process-wide table of pseudo-random bytes:
//! byte `i` of connection `c` is `BASE[(offset(c) + i) % PERIOD]`. So sending is a slice of the
//! table (no bytes generated, no copy for sends up to [`WINDOW`]) and verifying is a `memcmp`
//! against it, while the checks stay what they were: position-dependent bytes catch dropped,
//! duplicated, reordered and corrupted data, and a per-connection offset catches bytes delivered
//! to the wrong connection.
//!
//! What this cannot catch: a loss or duplication of exactly a multiple of [`PERIOD`] bytes (a
//! prime, so a whole number of messages only in runs of [`PERIOD`] messages), and another
//! connection's bytes that happen to line up with this connection's offset (about one chance
//! in [`PERIOD`] per misdelivery).
//!
//! The period is short on purpose: every echo is compared against the table, so the table is
//! on the hot path of every message, and 8 KiB of it (plus a message) stay in L1 cache where
//! 64 KiB, read by 512 connections at scattered offsets, made the compare a cache miss per
//! message.

use std::sync::OnceLock;

/// Length of the repeating part of every stream: a prime (2^13 - 1), so that no message size
/// divides it.
pub const PERIOD: usize = 8_191;
/// The longest run of stream bytes [`Pattern::slice`] hands out without copying.
pub const WINDOW: usize = 64 * 1024;

/// splitmix64's finaliser: a cheap, well-mixed 64-bit hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `PERIOD + WINDOW` bytes: the period, then its first `WINDOW` bytes again, so that any run of
/// up to `WINDOW` stream bytes is contiguous in the table. Built once, shared by every core.
fn table() -> &'static [u8] {
    static TABLE: OnceLock<Box<[u8]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = vec![0u8; PERIOD + WINDOW];
        for (i, b) in t.iter_mut().enumerate() {
            let k = (i % PERIOD) as u64;
            *b = mix(0x6c6f_6164_6765_6e00 ^ (k >> 3)).to_le_bytes()[(k & 7) as usize];
        }
        t.into_boxed_slice()
    })
}

/// The infinite byte stream of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    /// Where in the period the stream starts.
    offset: u64,
}

impl Pattern {
    /// The pattern of connection `conn_id`; distinct ids start at unrelated places.
    pub fn new(conn_id: u64) -> Self {
        Pattern {
            offset: mix(conn_id) % PERIOD as u64,
        }
    }

    fn index(&self, pos: u64) -> usize {
        ((self.offset + pos % PERIOD as u64) % PERIOD as u64) as usize
    }

    /// Byte `pos` of the stream.
    pub fn byte_at(&self, pos: u64) -> u8 {
        table()[self.index(pos)]
    }

    /// Bytes `pos .. pos + len` of the stream, borrowed from the shared table; `None` when
    /// `len` exceeds [`WINDOW`] (then use [`fill`](Pattern::fill)).
    pub fn slice(&self, pos: u64, len: usize) -> Option<&'static [u8]> {
        let start = self.index(pos);
        (len <= WINDOW).then(|| &table()[start..start + len])
    }

    /// Writes bytes `pos .. pos + out.len()` of the stream into `out`.
    pub fn fill(&self, pos: u64, out: &mut [u8]) {
        for (k, chunk) in out.chunks_mut(WINDOW).enumerate() {
            let at = pos + (k * WINDOW) as u64;
            chunk.copy_from_slice(self.slice(at, chunk.len()).expect("chunk fits the window"));
        }
    }
}

/// The first byte that differed from the pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mismatch {
    /// Stream offset of the bad byte.
    pub offset: u64,
    pub expected: u8,
    pub got: u8,
}

/// Checks a connection's echoed stream, in order, against its pattern and counts the complete
/// messages it contains (TCP keeps no message boundaries, so a message may span many reads).
///
/// It is on the path of every echo, so it keeps its place in the table and in the current
/// message as it goes: a receive of up to [`WINDOW`] bytes is one `memcmp`, with no division.
#[derive(Debug, Clone)]
pub struct Verifier {
    table: &'static [u8],
    /// Where the next stream byte is in the table (always below [`PERIOD`]).
    index: usize,
    pos: u64,
    msg_size: u64,
    /// Bytes still missing from the current message (1 ..= `msg_size`).
    to_next: u64,
}

impl Verifier {
    pub fn new(pattern: Pattern, msg_size: usize) -> Self {
        assert!(msg_size > 0, "message size must be positive");
        Verifier {
            table: table(),
            index: pattern.index(0),
            pos: 0,
            msg_size: msg_size as u64,
            to_next: msg_size as u64,
        }
    }

    /// Bytes verified so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Verifies the next chunk of the stream and returns how many messages it completed.
    /// After a mismatch the stream cannot be resynchronised; the caller drops the connection.
    pub fn feed(&mut self, data: &[u8]) -> Result<u64, Mismatch> {
        for chunk in data.chunks(WINDOW) {
            let want = &self.table[self.index..self.index + chunk.len()];
            if want != chunk {
                return Err(self.first_mismatch(want, chunk));
            }
            // Most receives are shorter than the period: a compare, not a division.
            let next = self.index + chunk.len();
            self.index = if next < PERIOD { next } else { next % PERIOD };
            self.pos += chunk.len() as u64;
        }
        Ok(self.count(data.len() as u64))
    }

    /// Where `got` first differs from `want`, the chunk starting at the current position.
    fn first_mismatch(&self, want: &[u8], got: &[u8]) -> Mismatch {
        let i = want.iter().zip(got).position(|(a, b)| a != b).unwrap_or(0);
        Mismatch {
            offset: self.pos + i as u64,
            expected: want[i],
            got: got[i],
        }
    }

    /// Messages that `len` more verified bytes complete.
    fn count(&mut self, len: u64) -> u64 {
        if len < self.to_next {
            self.to_next -= len;
            return 0;
        }
        let past = len - self.to_next;
        if past < self.msg_size {
            // The common case, a receive ending in the next message: no division.
            self.to_next = self.msg_size - past;
            return 1;
        }
        self.to_next = self.msg_size - past % self.msg_size;
        1 + past / self.msg_size
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn stream(p: Pattern, len: usize) -> Vec<u8> {
        (0..len as u64).map(|i| p.byte_at(i)).collect()
    }

    #[test]
    fn fill_matches_byte_at_at_every_alignment() {
        let p = Pattern::new(7);
        for start in 0..17u64 {
            for len in [0, 1, 7, 8, 9, 63, 200] {
                let mut buf = vec![0; len];
                p.fill(start, &mut buf);
                let want: Vec<u8> = (start..start + len as u64).map(|i| p.byte_at(i)).collect();
                assert_eq!(buf, want, "start {start} len {len}");
            }
        }
    }

    #[test]
    fn slices_and_fills_agree_across_the_period_and_window_edges() {
        let p = Pattern::new(11);
        for pos in [0, PERIOD as u64 - 3, 5 * PERIOD as u64 + 17] {
            let direct = p.slice(pos, 64).unwrap();
            let want: Vec<u8> = (pos..pos + 64).map(|i| p.byte_at(i)).collect();
            assert_eq!(direct, &want[..], "at {pos}");
        }
        assert!(p.slice(0, WINDOW + 1).is_none());
        let mut big = vec![0; WINDOW + 1000];
        p.fill(77, &mut big);
        assert!(big
            .iter()
            .enumerate()
            .all(|(i, &b)| b == p.byte_at(77 + i as u64)));
        let mut v = Verifier::new(p, 1000);
        assert_eq!(v.feed(&stream(p, 77)), Ok(0));
        assert_eq!(v.feed(&big), Ok(WINDOW as u64 / 1000 + 1));
    }

    #[test]
    fn connections_get_different_streams() {
        assert_ne!(stream(Pattern::new(0), 64), stream(Pattern::new(1), 64));
    }

    #[test]
    fn stream_is_not_periodic_in_small_steps() {
        let s = stream(Pattern::new(3), 4096);
        for period in [1, 2, 4, 8, 16, 64, 256] {
            assert!(s[..1024] != s[period..period + 1024], "period {period}");
        }
    }

    #[test]
    fn verifier_counts_messages_across_arbitrary_splits() {
        let p = Pattern::new(42);
        let data = stream(p, 10 * 64);
        let mut v = Verifier::new(p, 64);
        let mut total = 0;
        for chunk in data.chunks(37) {
            total += v.feed(chunk).unwrap();
        }
        assert_eq!(total, 10);
        assert_eq!(v.position(), 640);
    }

    #[test]
    fn verifier_counts_like_division_for_every_split_size() {
        let p = Pattern::new(8);
        let size = 100;
        let data = stream(p, 20 * size + 37);
        for step in [1, 7, size - 1, size, size + 1, 3 * size + 5, 20 * size] {
            let mut v = Verifier::new(p, size);
            let mut total = 0;
            for chunk in data.chunks(step) {
                total += v.feed(chunk).unwrap();
                assert_eq!(total, v.position() / size as u64, "step {step}");
            }
            assert_eq!(total, 20, "step {step}");
        }
    }

    #[test]
    fn verifier_reports_first_corrupted_byte() {
        let p = Pattern::new(1);
        let mut data = stream(p, 1000);
        data[700] ^= 0x10;
        let mut v = Verifier::new(p, 100);
        assert_eq!(v.feed(&data[..500]), Ok(5));
        let err = v.feed(&data[500..]).unwrap_err();
        assert_eq!(err.offset, 700);
        assert_eq!(err.got, err.expected ^ 0x10);
    }

    /// Every byte of a stream that crosses the period's end, corrupted in turn, fed in receives
    /// of several sizes (a message split over receives, several messages in one): the receive
    /// holding the bad byte fails at its exact offset, every receive before it passes.
    #[test]
    fn verifier_catches_a_corrupted_byte_at_any_offset_across_receives() {
        let p = Pattern::new(3);
        let size = 1024;
        // Start 1500 bytes before the end of the period, so the stream wraps around the table.
        let skip = ((2 * PERIOD - 1500 - p.index(0)) % PERIOD) as u64;
        let mut start = Verifier::new(p, size);
        start.feed(&stream(p, skip as usize)).unwrap();
        let total = 4 * size;
        let good: Vec<u8> = (skip..skip + total as u64).map(|i| p.byte_at(i)).collect();
        for step in [1000, size, 1500, 4096] {
            for bad in 0..total {
                let mut data = good.clone();
                data[bad] ^= 0x01;
                let mut v = start.clone();
                let mut chunks = data.chunks(step);
                let failed = chunks.by_ref().find_map(|chunk| v.feed(chunk).err());
                let e = failed.unwrap_or_else(|| panic!("step {step}: byte {bad} passed"));
                assert_eq!(e.offset, skip + bad as u64, "step {step}");
                assert_eq!(e.got, e.expected ^ 0x01);
                // The receives before the bad one passed.
                assert_eq!(
                    v.position(),
                    skip + (bad / step * step) as u64,
                    "step {step}"
                );
            }
        }
    }

    #[test]
    fn verifier_catches_dropped_and_duplicated_bytes() {
        let p = Pattern::new(9);
        let data = stream(p, 64);
        let mut dropped = data.clone();
        dropped.remove(10);
        assert!(Verifier::new(p, 64).feed(&dropped).is_err());
        // A repeated 8-byte run (a duplicated small write) shifts everything after it.
        let mut duplicated = data[..16].to_vec();
        duplicated.extend_from_slice(&data[8..56]);
        assert_eq!(
            Verifier::new(p, 64).feed(&duplicated).unwrap_err().offset,
            16
        );
    }

    #[test]
    fn verifier_rejects_another_connections_bytes() {
        let mut v = Verifier::new(Pattern::new(5), 64);
        assert!(v.feed(&stream(Pattern::new(6), 64)).is_err());
    }
}
