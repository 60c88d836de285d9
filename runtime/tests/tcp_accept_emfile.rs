//! A listener survives running out of fds: `accept` returns EMFILE as an
//! error (a server must not panic or spin on it) and works again once an
//! fd is free, under every forced fallback.
//!
//! Lowering RLIMIT_NOFILE affects the whole process, so the test re-runs
//! its own binary as a child per builder (selected by an env var).

mod support;

use std::process::Command;

const CHILD_ENV: &str = "URINGO_TEST_EMFILE_BUILDER";
const TEST_NAME: &str = "accept_reports_emfile_and_recovers_when_an_fd_is_free";
const DONE: &str = "emfile-test-done";

fn set_fd_limit(limit: u64) {
    let rl = libc::rlimit {
        rlim_cur: limit,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit reads the struct we pass.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) };
    if rc != 0 {
        // The hard limit may be finite: keep it.
        let mut cur = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes the struct we pass.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut cur) }, 0);
        let rl = libc::rlimit {
            rlim_cur: limit,
            rlim_max: cur.rlim_max,
        };
        // SAFETY: as above.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) }, 0);
    }
}

/// Accepts once an fd is free again. With multishot accept, an EMFILE the
/// kernel queued before the fd was freed may still come out first.
async fn accept_soon(listener: &uringo::net::TcpListener, name: &str) -> uringo::net::TcpStream {
    for _ in 0..3 {
        match listener.accept().await {
            Ok((stream, _)) => return stream,
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{name}: {e}"),
        }
    }
    panic!("{name}: accept still fails with an fd free");
}

fn child(name: &str) {
    let builder = support::builders()
        .into_iter()
        .find(|(n, _)| *n == name)
        .expect("known builder")
        .1;
    let rt = builder.cores(1).build().unwrap();
    rt.block_on(async {
        let listener = uringo::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..3)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        // The lowest free fd becomes the limit: no fd can be created until
        // this one is closed.
        let spare = std::fs::File::open("/dev/null").unwrap();
        set_fd_limit(std::os::fd::AsRawFd::as_raw_fd(&spare) as u64 + 1);
        let blocker = std::fs::File::open("/dev/null");
        assert!(blocker.is_err(), "the fd limit is in force");

        let err = listener
            .accept()
            .await
            .expect_err("no fd left: accept must fail");
        assert_eq!(err.raw_os_error(), Some(libc::EMFILE), "{name}: {err}");
        // The runtime does not retry on its own (each accept call is one
        // attempt): a server must back off on EMFILE, as Go's net/http does.
        let sqes = uringo::stats().sqes;
        uringo::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(
            uringo::stats().sqes,
            sqes,
            "{name}: the runtime spins on a failing accept"
        );

        drop(spare);
        let first = accept_soon(&listener, name).await;
        // Out of fds again while holding the first connection.
        let err = listener.accept().await.expect_err("no fd left again");
        assert_eq!(err.raw_os_error(), Some(libc::EMFILE), "{name}: {err}");
        drop(first);
        let second = accept_soon(&listener, name).await;
        drop(second);
        let third = accept_soon(&listener, name).await;
        drop((third, clients));
    });
    println!("{DONE}");
}

#[test]
fn accept_reports_emfile_and_recovers_when_an_fd_is_free() {
    if let Ok(name) = std::env::var(CHILD_ENV) {
        child(&name);
        return;
    }
    for (name, _) in support::builders() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, name)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains(DONE),
            "{name}: child failed:\n{stdout}\n{stderr}"
        );
    }
}
