//! Helpers for the tests that drive real IRC clients (irssi, weechat, ii):
//! finding the client (a missing one fails the test under `CI`, skips it
//! otherwise), private temporary directories, and waiting on what a
//! client writes, bounded by a timeout.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long any one step of a real client may take.
pub const STEP: Duration = Duration::from_secs(10);

/// The path of `bin`, or None (the caller returns) when it is not
/// installed and `CI` is not set. Under `CI` a missing client fails.
pub fn require(bin: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(bin))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "`{bin}` is not installed and CI is set: .ci/packages lists it"
        );
        println!("SKIPPED: `{bin}` is not installed (apt-get install {bin})");
    }
    found
}

/// Waits until `f` holds, checking every 20 ms; panics after `STEP`.
/// Real clients report through files and screens, which give no signal
/// to wait on, so polling them is the only way to watch.
pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + STEP;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the file at `path` contains `needle`; returns its text.
pub fn wait_file(path: &Path, needle: &str) -> String {
    let mut text = String::new();
    wait_for(&format!("{needle:?} in {}", path.display()), || {
        text = std::fs::read_to_string(path).unwrap_or_default();
        text.contains(needle)
    });
    text
}

/// A fresh directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("uringo-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        TempDir(d)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
