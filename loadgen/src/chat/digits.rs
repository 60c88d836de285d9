//! Decimal numbers read eight ASCII digits at a time: one little-endian 64-bit load, a
//! check that the bytes are digits and a few multiplies (SWAR), instead of a multiply and
//! two overflow checks per digit. Every delivery carries three numbers (sender, sequence,
//! send time of ~11 digits); at millions of deliveries per second the digit-at-a-time loop
//! was the loadgen's largest user-space cost.

/// '0' in every byte.
const ZEROS: u64 = 0x3030_3030_3030_3030;
const HIGH_NIBBLES: u64 = 0xf0f0_f0f0_f0f0_f0f0;
/// 6 in every byte: adding it carries a digit byte ('0'..='9') no further than 0x3f.
const SIXES: u64 = 0x0606_0606_0606_0606;

/// 10^k for k digits of a partial word.
const POW10: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// How many of `w`'s bytes, from the lowest (the first in memory), are ASCII digits before
/// the first that is not (8 if all are).
fn digit_run(w: u64) -> usize {
    // A byte of `not_digit` is zero exactly for '0'..='9'; a carry out of a non-digit byte
    // only disturbs the bytes above it, which come after the first non-digit.
    let not_digit = ((w & HIGH_NIBBLES) ^ ZEROS) | (w.wrapping_add(SIXES) & HIGH_NIBBLES ^ ZEROS);
    not_digit.trailing_zeros() as usize / 8
}

/// The value of eight ASCII digits, the first in the lowest byte.
fn eight_digits(w: u64) -> u64 {
    let v = w - ZEROS;
    // Byte 2i now holds the two-digit number d[2i] d[2i+1] (no carries: each byte ≤ 99).
    let v = v.wrapping_mul(10) + (v >> 8);
    const PAIRS: u64 = 0x0000_00ff_0000_00ff;
    let a = (v & PAIRS).wrapping_mul(100 + (1_000_000 << 32));
    let b = ((v >> 16) & PAIRS).wrapping_mul(1 + (10_000 << 32));
    (a.wrapping_add(b)) >> 32
}

/// The decimal number `s` starts with and how many digits it has (0 and 0 if `s` does not
/// start with a digit); `None` if it overflows a u64.
pub fn leading(s: &[u8]) -> Option<(u64, usize)> {
    let mut n: u64 = 0;
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("an 8-byte slice"));
        let k = digit_run(w);
        let value = match k {
            0 => return Some((n, i)),
            8 => eight_digits(w),
            // The k digits moved to the top bytes, '0's below them.
            _ => eight_digits((w << (64 - 8 * k)) | (ZEROS >> (8 * k))),
        };
        let scale = if k == 8 { 100_000_000 } else { POW10[k] };
        n = n.checked_mul(scale)?.checked_add(value)?;
        i += k;
        if k < 8 {
            return Some((n, i));
        }
    }
    for &b in &s[i..] {
        if !b.is_ascii_digit() {
            break;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        i += 1;
    }
    Some((n, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Digit at a time, the obvious way.
    fn slow(s: &[u8]) -> Option<(u64, usize)> {
        let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut n: u64 = 0;
        for &b in &s[..digits] {
            n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        Some((n, digits))
    }

    #[test]
    fn agrees_with_digit_at_a_time_on_every_shape() {
        // Bytes around the digits include the neighbours of '0'..='9' and bytes whose +6
        // carries (0xfa..=0xff), in every position of a word.
        let others = [b' ', b'x', b'/', b':', 0x00, 0x2f, 0x3a, 0x3f, 0xfa, 0xff];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let digits = (next() % 24) as usize;
            let mut s: Vec<u8> = (0..digits).map(|_| b'0' + (next() % 10) as u8).collect();
            for _ in 0..(next() % 12) {
                let r = next() as usize;
                s.push(if r % 3 == 0 { b'0' + (r % 10) as u8 } else { others[r % others.len()] });
            }
            assert_eq!(leading(&s), slow(&s), "{:?}", String::from_utf8_lossy(&s));
        }
    }

    #[test]
    fn overflow_and_edges() {
        assert_eq!(leading(b"18446744073709551615 "), Some((u64::MAX, 20)));
        assert_eq!(leading(b"18446744073709551616 "), None);
        assert_eq!(leading(b"99999999999999999999"), None);
        assert_eq!(leading(b""), Some((0, 0)));
        assert_eq!(leading(b"x12345678"), Some((0, 0)));
        assert_eq!(leading(b"12345678"), Some((12_345_678, 8)));
        assert_eq!(leading(b"00000000000000000042x"), Some((42, 20)));
        assert_eq!(leading(b"1234567 9"), Some((1_234_567, 7)));
    }
}
