//! `perf_split::Sampler` on real processes: a shell spinning in user space reads as mostly
//! user, `dd` copying /dev/zero to /dev/null (all of it in the kernel) as mostly kernel.
//! Without `perf` the test fails under `CI` (.ci/packages lists linux-perf) and skips otherwise.

use std::process::{Child, Command};
use std::time::Duration;

use uringo_benches::component;
use uringo_benches::perf_split::{Sampler, Samples};

fn perf_installed() -> bool {
    let found = Command::new("perf").arg("--version").output().is_ok();
    component::required(found, "perf", "linux-perf")
}

/// Samples `child` for a fixed window (the measurement itself, not a wait for an event).
fn sample(mut child: Child, name: &str) -> Samples {
    let data = std::env::temp_dir().join(format!(
        "uringo-perf-split-{name}-{}.data",
        std::process::id()
    ));
    let sampler = Sampler::start(child.id(), &data).expect("perf record");
    std::thread::sleep(Duration::from_millis(500));
    let samples = sampler.finish().expect("perf samples");
    child.kill().expect("kill");
    child.wait().expect("wait");
    let _ = std::fs::remove_file(&data);
    samples
}

#[test]
fn user_spin_and_kernel_copy_split_apart() {
    if !perf_installed() {
        return;
    }
    let spin = Command::new("sh")
        .args(["-c", "while :; do :; done"])
        .spawn()
        .expect("sh");
    let user = sample(spin, "spin");
    assert!(user.user + user.kernel > 100, "too few samples: {user:?}");
    assert!(
        user.user_share().expect("samples") > 0.6,
        "a spinning shell reads as user: {user:?}"
    );

    let copy = Command::new("dd")
        .args(["if=/dev/zero", "of=/dev/null", "bs=1M", "status=none"])
        .spawn()
        .expect("dd");
    let kernel = sample(copy, "dd");
    assert!(
        kernel.user + kernel.kernel > 100,
        "too few samples: {kernel:?}"
    );
    assert!(
        kernel.user_share().expect("samples") < 0.4,
        "dd reads as kernel: {kernel:?}"
    );
}
