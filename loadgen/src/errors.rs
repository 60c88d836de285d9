//! Error counters: every failure loadgen sees is counted and shown, never ignored.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;

/// Failures seen by a run, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Errors {
    /// Echoed bytes that differ from what was sent.
    pub mismatches: u64,
    /// Connections the server closed before echoing everything sent on them.
    pub short_reads: u64,
    /// Connections reset (ECONNRESET, EPIPE) by the peer.
    pub resets: u64,
    /// Connections that could not be established (or, for chat, registered).
    pub connect_errors: u64,
    /// Messages still unanswered when the drain period after the run ended.
    pub timeouts: u64,
    /// Any other I/O error.
    pub other: u64,
}

impl Errors {
    pub fn total(&self) -> u64 {
        self.mismatches
            + self.short_reads
            + self.resets
            + self.connect_errors
            + self.timeouts
            + self.other
    }

    pub fn add(&mut self, o: &Errors) {
        self.mismatches += o.mismatches;
        self.short_reads += o.short_reads;
        self.resets += o.resets;
        self.connect_errors += o.connect_errors;
        self.timeouts += o.timeouts;
        self.other += o.other;
    }

    /// Counts an I/O error on an established connection under its kind.
    pub fn count_io(&mut self, e: &io::Error) {
        match e.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => self.resets += 1,
            _ => self.other += 1,
        }
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.total() == 0 {
            return write!(f, "none");
        }
        let kinds = [
            ("mismatches", self.mismatches),
            ("short reads", self.short_reads),
            ("resets", self.resets),
            ("connect errors", self.connect_errors),
            ("timeouts", self.timeouts),
            ("other", self.other),
        ];
        let mut first = true;
        for (name, n) in kinds.into_iter().filter(|(_, n)| *n > 0) {
            if !first {
                write!(f, ", ")?;
            }
            write!(f, "{n} {name}")?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_classified() {
        let mut e = Errors::default();
        e.count_io(&io::Error::from(io::ErrorKind::ConnectionReset));
        e.count_io(&io::Error::from(io::ErrorKind::BrokenPipe));
        e.count_io(&io::Error::from(io::ErrorKind::InvalidInput));
        assert_eq!((e.resets, e.other, e.total()), (2, 1, 3));
    }

    #[test]
    fn display_lists_only_nonzero_kinds() {
        assert_eq!(Errors::default().to_string(), "none");
        let e = Errors {
            mismatches: 2,
            timeouts: 1,
            ..Errors::default()
        };
        assert_eq!(e.to_string(), "2 mismatches, 1 timeouts");
    }

    #[test]
    fn add_sums_every_kind() {
        let one = Errors {
            mismatches: 1,
            short_reads: 1,
            resets: 1,
            connect_errors: 1,
            timeouts: 1,
            other: 1,
        };
        let mut sum = one;
        sum.add(&one);
        assert_eq!(sum.total(), 12);
    }
}
