//! Invariant 8 end to end: `uringo-server echo` where io_uring is denied, as in a container
//! under Docker's default seccomp profile (io_uring_setup fails with EPERM) or on a kernel
//! without io_uring (ENOSYS). By default it serves on epoll and says why; with
//! `--backend io-uring` it exits non-zero with the explanation.

mod echo_support;

use echo_support::{loadgen_args, Options, Server};

const DENIALS: [(i32, &str); 2] = [(libc::EPERM, "EPERM"), (libc::ENOSYS, "ENOSYS")];

#[test]
fn denied_io_uring_falls_back_to_epoll_and_serves_verified_echo() {
    for (errno, name) in DENIALS {
        let server = Server::start_with(Options {
            cores: 2,
            // Auto even when the suite runs with URINGO_BACKEND=epoll.
            backend: Some("auto"),
            deny_io_uring: Some(errno),
            ..Options::default()
        });
        server.wait_for_log("backend=epoll"); // the start-up line, after the warning
        let log = server.log();
        assert!(
            log.contains(name),
            "{name}: the warning names the cause:\n{log}"
        );
        assert_eq!(
            log.matches("running on epoll instead").count(),
            1,
            "{name}: one warning, not one per core:\n{log}"
        );
        let run = uringo_loadgen::echo::run(&loadgen_args(server.addr)).expect("loadgen runs");
        let s = &run.summary;
        assert_eq!(
            s.error_total,
            0,
            "{name}: errors {}\n{}",
            s.errors,
            server.log()
        );
        assert!(s.messages > 100, "{name}: {s}");
        let status = server.terminate();
        assert_eq!(status.code(), Some(0), "{name}: exit status {status:?}");
    }
}

#[test]
fn denied_io_uring_with_backend_io_uring_forced_exits_with_the_reason() {
    for (errno, name) in DENIALS {
        let opts = Options {
            backend: Some("io-uring"),
            deny_io_uring: Some(errno),
            ..Options::default()
        };
        let out = Server::command(&opts)
            .output()
            .expect("running uringo-server");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{name}: started without io_uring:\n{stderr}"
        );
        assert!(
            stderr.contains(name),
            "{name}: the error names the cause:\n{stderr}"
        );
        assert!(
            stderr.contains("io_uring"),
            "{name}: the error says what failed:\n{stderr}"
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("listening on"),
            "{name}: it must not have listened"
        );
    }
}
