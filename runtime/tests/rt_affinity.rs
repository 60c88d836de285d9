//! The runtime's helper threads run on the process's CPUs: a blocking-pool
//! thread or the stall watchdog spawned while core 0 is pinned must not be
//! confined to core 0's one CPU (where it would compete with that core).
//!
//! One test in this binary: it tells the watchdog by the threads a build
//! starts, so nothing else may be starting threads meanwhile.

use std::time::Duration;

/// The CPUs the calling thread may run on.
fn my_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity writes the set we pass.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        assert_eq!(
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
            0
        );
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

fn thread_ids() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .map(|t| t.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// `Cpus_allowed_list` of thread `tid` of this process.
fn cpus_of_thread(tid: &str) -> Vec<usize> {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap();
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .expect("Cpus_allowed_list");
    parse_list(list.trim())
}

/// A CPU list as the kernel prints it ("0-1", "0,2-3").
fn parse_list(list: &str) -> Vec<usize> {
    list.split(',')
        .flat_map(|part| match part.split_once('-') {
            Some((a, b)) => (a.parse().unwrap()..=b.parse().unwrap()).collect::<Vec<usize>>(),
            None => vec![part.parse().unwrap()],
        })
        .collect()
}

#[test]
fn blocking_and_watchdog_threads_run_on_the_process_cpus_not_a_pinned_core() {
    let process = my_cpus();
    let before = thread_ids();
    let rt = uringo::Builder::new()
        .cores(1)
        .pin(true)
        .stall_threshold(Some(Duration::from_secs(10)))
        .build()
        .unwrap();
    // With one core (this thread) the only thread the build started is the
    // watchdog; its CPU set was fixed when it was created.
    let started: Vec<String> = thread_ids()
        .into_iter()
        .filter(|t| !before.contains(t))
        .collect();
    assert_eq!(started.len(), 1, "the watchdog thread: {started:?}");
    assert_eq!(
        cpus_of_thread(&started[0]),
        process,
        "the watchdog thread's CPUs"
    );
    let (core0, blocking) =
        rt.block_on(async { (my_cpus(), uringo::spawn_blocking(my_cpus).await) });
    assert_eq!(core0.len(), 1, "core 0 is pinned to one CPU");
    assert_eq!(
        blocking, process,
        "a blocking thread spawned by pinned core 0 (on {core0:?})"
    );
    drop(rt);
    assert_eq!(
        my_cpus(),
        process,
        "dropping the runtime unpins core 0's thread"
    );
}
