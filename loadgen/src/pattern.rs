//! The per-connection byte pattern loadgen sends, and the verifier that checks the echo.
//!
//! Byte `i` of a connection's stream is a pure function of (connection seed, i), so the verifier
//! needs no copy of what was sent: it regenerates the expected bytes at its stream position.
//! Position-dependent bytes catch dropped, duplicated, reordered and corrupted data, and a
//! per-connection seed catches bytes delivered to the wrong connection.

/// splitmix64's finaliser: a cheap, well-mixed 64-bit hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The infinite byte stream of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    seed: u64,
}

impl Pattern {
    /// The pattern of connection `conn_id`; distinct ids give unrelated streams.
    pub fn new(conn_id: u64) -> Self {
        Pattern {
            seed: mix(conn_id ^ 0x6c6f_6164_6765_6e00),
        }
    }

    fn word(&self, index: u64) -> [u8; 8] {
        mix(self.seed ^ index.wrapping_mul(0xff51_afd7_ed55_8ccd)).to_le_bytes()
    }

    /// Byte `pos` of the stream.
    pub fn byte_at(&self, pos: u64) -> u8 {
        self.word(pos >> 3)[(pos & 7) as usize]
    }

    /// Writes bytes `pos .. pos + out.len()` of the stream into `out`.
    pub fn fill(&self, pos: u64, out: &mut [u8]) {
        let mut i = 0;
        while i < out.len() {
            let p = pos + i as u64;
            let word = self.word(p >> 3);
            let start = (p & 7) as usize;
            let n = (8 - start).min(out.len() - i);
            out[i..i + n].copy_from_slice(&word[start..start + n]);
            i += n;
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
#[derive(Debug, Clone)]
pub struct Verifier {
    pattern: Pattern,
    pos: u64,
    msg_size: u64,
}

impl Verifier {
    pub fn new(pattern: Pattern, msg_size: usize) -> Self {
        assert!(msg_size > 0, "message size must be positive");
        Verifier {
            pattern,
            pos: 0,
            msg_size: msg_size as u64,
        }
    }

    /// Bytes verified so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Verifies the next chunk of the stream and returns how many messages it completed.
    /// After a mismatch the stream cannot be resynchronised; the caller drops the connection.
    pub fn feed(&mut self, data: &[u8]) -> Result<u64, Mismatch> {
        let mut expected = [0u8; 256];
        for (k, chunk) in data.chunks(expected.len()).enumerate() {
            let at = self.pos + (k * expected.len()) as u64;
            let want = &mut expected[..chunk.len()];
            self.pattern.fill(at, want);
            if want != chunk {
                let i = want
                    .iter()
                    .zip(chunk)
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                return Err(Mismatch {
                    offset: at + i as u64,
                    expected: want[i],
                    got: chunk[i],
                });
            }
        }
        let before = self.pos / self.msg_size;
        self.pos += data.len() as u64;
        Ok(self.pos / self.msg_size - before)
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
