//! Accept-loop pacing when the process runs out of file descriptors (EMFILE/ENFILE): the
//! pending connections stay in the kernel's backlog, so the loop waits with a growing pause
//! and retries, and says so in the log at most once per second instead of once per attempt.
//! `AcceptPacer` is the whole policy, sans I/O: the server's accept loop hands it each
//! result and does what it says.

use std::io;
use std::time::{Duration, Instant};

/// What to do with one accept result.
#[derive(Debug)]
pub enum Accepted<T> {
    /// A connection: serve it.
    Conn(T),
    /// Out of descriptors: wait this long before accepting again.
    Pause(Duration),
    /// An error about one connection (ECONNABORTED and the like): go on.
    Skip,
}

/// The accept policy of one listener: back off (5 ms doubling to 500 ms) while descriptors
/// run out, log that at most once a second, and log when accepting works again.
#[derive(Debug)]
pub struct AcceptPacer {
    backoff: Backoff,
    log: LogLimiter,
    exhausted_since: Option<Instant>,
}

impl Default for AcceptPacer {
    fn default() -> Self {
        AcceptPacer {
            backoff: Backoff::new(Duration::from_millis(5), Duration::from_millis(500)),
            log: LogLimiter::new(Duration::from_secs(1)),
            exhausted_since: None,
        }
    }
}

impl AcceptPacer {
    pub fn on_result<T>(&mut self, r: io::Result<T>, now: Instant) -> Accepted<T> {
        match r {
            Ok(conn) => {
                if let Some(since) = self.exhausted_since.take() {
                    tracing::info!(
                        "accepting again after {:.1?} without file descriptors",
                        now.saturating_duration_since(since)
                    );
                }
                self.backoff.reset();
                Accepted::Conn(conn)
            }
            Err(e) if is_resource_exhaustion(&e) => {
                self.exhausted_since.get_or_insert(now);
                if let Some(suppressed) = self.log.allow(now) {
                    tracing::warn!(
                        "accept: {e}; backing off (same error {suppressed} more times in the last second)"
                    );
                }
                Accepted::Pause(self.backoff.next_pause())
            }
            Err(e) => {
                tracing::debug!("accept: {e}");
                Accepted::Skip
            }
        }
    }
}

/// Allows an event through at most once per `period`, counting what it held back.
#[derive(Debug)]
pub struct LogLimiter {
    period: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl LogLimiter {
    pub fn new(period: Duration) -> Self {
        LogLimiter {
            period,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(n)` if this occurrence should be logged (`n` were suppressed since the last one).
    pub fn allow(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(t) if now.duration_since(t) < self.period => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

/// Exponential pause between retries, reset by a success.
#[derive(Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max,
            next: min,
        }
    }

    /// The pause before the next retry.
    pub fn next_pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(self.max);
        pause
    }

    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

/// Whether an accept error means "out of descriptors or kernel memory": wait, don't give up.
pub fn is_resource_exhaustion(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_pauses_longer_while_exhausted_and_resets_on_success() {
        let mut p = AcceptPacer::default();
        let t = Instant::now();
        let emfile = || Err::<(), _>(io::Error::from_raw_os_error(libc::EMFILE));
        let pauses: Vec<Duration> = (0..3)
            .filter_map(|_| match p.on_result(emfile(), t) {
                Accepted::Pause(d) => Some(d),
                _ => None,
            })
            .collect();
        let ms = |n| Duration::from_millis(n);
        assert_eq!(pauses, [ms(5), ms(10), ms(20)]);
        assert!(matches!(p.on_result(Ok(7), t), Accepted::Conn(7)));
        assert!(matches!(p.on_result(emfile(), t), Accepted::Pause(d) if d == ms(5)));
        let aborted = Err::<(), _>(io::Error::from_raw_os_error(libc::ECONNABORTED));
        assert!(matches!(p.on_result(aborted, t), Accepted::Skip));
    }

    #[test]
    fn limiter_allows_once_per_period_and_counts_the_rest() {
        let t0 = Instant::now();
        let mut l = LogLimiter::new(Duration::from_secs(1));
        assert_eq!(l.allow(t0), Some(0));
        assert_eq!(l.allow(t0 + Duration::from_millis(10)), None);
        assert_eq!(l.allow(t0 + Duration::from_millis(999)), None);
        assert_eq!(l.allow(t0 + Duration::from_millis(1000)), Some(2));
        assert_eq!(l.allow(t0 + Duration::from_millis(1500)), None);
        assert_eq!(l.allow(t0 + Duration::from_millis(2100)), Some(1));
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(5), Duration::from_millis(30));
        let pauses: Vec<u64> = (0..5).map(|_| b.next_pause().as_millis() as u64).collect();
        assert_eq!(pauses, vec![5, 10, 20, 30, 30]);
        b.reset();
        assert_eq!(b.next_pause(), Duration::from_millis(5));
    }

    #[test]
    fn fd_exhaustion_is_recognised() {
        use std::io::Error;
        assert!(is_resource_exhaustion(&Error::from_raw_os_error(
            libc::EMFILE
        )));
        assert!(is_resource_exhaustion(&Error::from_raw_os_error(
            libc::ENFILE
        )));
        assert!(!is_resource_exhaustion(&Error::from_raw_os_error(
            libc::ECONNABORTED
        )));
    }
}
