//! `promtool check metrics` (Debian `prometheus`) as a test assertion;
//! shared by the metrics unit tests (`#[path]`) and tests/metrics_scrape.rs.

use std::io::Write;
use std::process::{Command, Stdio};

/// Asserts that promtool accepts `text` (syntax and lint). Without promtool
/// the check is skipped with a message, except under CI (`CI` set), where
/// it fails.
pub fn check(text: &str) {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "promtool is missing (apt-get install prometheus; listed in .ci/packages)"
        );
        println!("SKIPPED promtool check: promtool not installed (apt-get install prometheus)");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool rejected the metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
