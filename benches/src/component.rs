//! The project's rule for a test's real component (a Debian package such as `perf` or
//! `inspircd`): when it is missing the test fails under `CI` (`.ci/packages` lists it and
//! `.ci/run` installs it) and skips, saying so, elsewhere.

/// `found` as is; when false, panics under `CI` and prints a SKIPPED line otherwise.
pub fn required(found: bool, program: &str, package: &str) -> bool {
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "`{program}` is not installed and CI is set: .ci/packages lists {package}"
        );
        println!("SKIPPED: `{program}` is not installed (apt-get install {package})");
    }
    found
}
