//! RFC 1459 case mapping: nicks and channel names compare case-insensitively,
//! with `[]\~` the upper-case forms of `{}|^` (Scandinavian heritage of IRC).
//! Every map key for a nick or a channel is the folded form.

use std::borrow::Cow;

/// Lower-cases one byte under rfc1459.
pub fn fold_byte(b: u8) -> u8 {
    match b {
        b'A'..=b'Z' => b + 32,
        b'[' => b'{',
        b']' => b'}',
        b'\\' => b'|',
        b'~' => b'^',
        _ => b,
    }
}

/// The folded (map key) form of a nick or channel name.
pub fn fold(s: &str) -> String {
    // Folding only maps ASCII to ASCII, so UTF-8 stays valid.
    s.chars()
        .map(|c| {
            if c.is_ascii() {
                fold_byte(c as u8) as char
            } else {
                c
            }
        })
        .collect()
}

/// `fold(s)`, borrowed when `s` is already folded (the usual spelling),
/// so a lookup on the message path allocates nothing.
pub fn folded(s: &str) -> Cow<'_, str> {
    match s.bytes().all(|b| fold_byte(b) == b) {
        true => Cow::Borrowed(s),
        false => Cow::Owned(fold(s)),
    }
}

/// True when `a` and `b` name the same nick or channel.
pub fn eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| fold_byte(x) == fold_byte(y))
}

/// Which core owns a name: FNV-1a of the folded bytes, so every core
/// computes the same owner without talking to the others.
pub fn owner(name: &str, cores: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(fold_byte(b));
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % cores.max(1) as u64) as usize
}

/// Glob match (`*` any run, `?` one byte) under the case mapping, as WHO
/// masks use. Iterative with one backtrack point: linear in practice.
pub fn glob(mask: &str, s: &str) -> bool {
    let (m, s) = (mask.as_bytes(), s.as_bytes());
    let (mut mi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if mi < m.len() && (m[mi] == b'?' || fold_byte(m[mi]) == fold_byte(s[si])) {
            mi += 1;
            si += 1;
        } else if mi < m.len() && m[mi] == b'*' {
            star = Some((mi, si));
            mi += 1;
        } else if let Some((sm, ss)) = star {
            mi = sm + 1;
            si = ss + 1;
            star = Some((sm, ss + 1));
        } else {
            return false;
        }
    }
    m[mi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1459_specials_fold() {
        assert_eq!(fold("Nick[A]\\~"), "nick{a}|^");
        assert!(eq("FOO[]", "foo{}"));
        assert!(!eq("foo", "fo0"));
        assert!(!eq("foo", "fooo"));
    }

    #[test]
    fn folded_borrows_only_a_folded_name() {
        assert!(matches!(folded("#lg4{x}"), Cow::Borrowed("#lg4{x}")));
        assert!(matches!(folded("#Lg[4]"), Cow::Owned(ref s) if s == "#lg{4}"));
    }

    #[test]
    fn owner_ignores_case_and_spreads() {
        assert_eq!(owner("#Chan[x]", 4), owner("#chan{X}", 4));
        let on_one = (0..64).filter(|i| owner(&format!("#c{i}"), 2) == 1).count();
        assert!(on_one > 16 && on_one < 48, "{on_one}");
    }

    #[test]
    fn glob_matches() {
        assert!(glob("*", "anything"));
        assert!(glob("a*c", "abbbc"));
        assert!(glob("A?C", "abc"));
        assert!(glob("*b*", "abc"));
        assert!(!glob("a*d", "abc"));
        assert!(!glob("?", ""));
        assert!(glob("nick[1]", "NICK{1}"));
    }
}
