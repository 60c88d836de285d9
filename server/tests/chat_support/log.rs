//! What a server under test logs on stderr, kept so a test can wait for a line that marks a
//! server-side event no client sees (a cluster core subscribed to Redis again), instead of
//! polling with sleeps. Every line is still copied to the test's stderr as it comes.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct ServerLog {
    lines: Mutex<Vec<String>>,
    grew: Condvar,
}

impl ServerLog {
    /// Copies `stderr` to this process's stderr, keeping each line.
    pub fn tee(stderr: impl Read + Send + 'static) -> Arc<ServerLog> {
        let log = Arc::new(ServerLog::default());
        let keep = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
                keep.lines.lock().unwrap().push(line);
                keep.grew.notify_all();
            }
        });
        log
    }

    /// How many lines it has logged so far: a mark to wait from.
    pub fn len(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// Waits until `count` of the lines logged after `mark` contain `needle`; panics after
    /// `limit`.
    pub fn wait_for(&self, mark: usize, needle: &str, count: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut lines = self.lines.lock().unwrap();
        loop {
            let seen = lines
                .iter()
                .skip(mark)
                .filter(|l| l.contains(needle))
                .count();
            if seen >= count {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the server logged {seen} of {count} lines with {needle:?} in {limit:?}"
            );
            lines = self.grew.wait_timeout(lines, left).unwrap().0;
        }
    }
}
