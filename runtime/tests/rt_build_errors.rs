//! Invariant 8: when io_uring cannot be set up, `Builder::build` with
//! `Backend::IoUring` fails with an error that says why and what to do, and
//! `Backend::Auto` runs on epoll.
//!
//! The test re-runs its own binary as a child process (selected by an
//! environment variable) that installs a seccomp filter making
//! io_uring_setup fail, as Docker's default profile does (or only
//! io_uring_enter, as a profile allowing setup alone would), then builds a
//! runtime and prints the error for the parent to check.

use std::process::Command;

const CHILD_ENV: &str = "URINGO_TEST_DENY_IO_URING_ERRNO";
const MARK: &str = "uringo-build-error: ";
const TEST_NAME: &str = "build_explains_why_io_uring_is_unavailable";

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7; // AUDIT_ARCH_AARCH64

/// Installs a seccomp filter on the calling thread (and the threads it
/// starts) that fails syscall `nr` with `errno` and allows the rest.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn deny_syscall(nr: libc::c_long, errno: i32) {
    fn stmt(code: u32, k: u32) -> libc::sock_filter {
        libc::sock_filter {
            code: code as u16,
            jt: 0,
            jf: 0,
            k,
        }
    }
    fn jeq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt,
            jf,
            k,
        }
    }
    // Offsets in struct seccomp_data: nr at 0, arch at 4.
    let program = [
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 4),
        jeq(AUDIT_ARCH, 0, 3), // another ABI: allow
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0),
        jeq(nr as u32, 0, 1),
        stmt(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ERRNO | (errno as u32 & libc::SECCOMP_RET_DATA),
        ),
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
    ];
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    assert_eq!(
        rc,
        0,
        "PR_SET_NO_NEW_PRIVS: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `prog` points at `program`, both alive for the call; the
    // kernel copies the filter.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const libc::sock_fprog,
        )
    };
    assert_eq!(rc, 0, "seccomp: {}", std::io::Error::last_os_error());
}

/// The child's side: deny io_uring, try to build, report the error; then
/// check that Auto falls back to epoll and serves.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn child(nr: libc::c_long, errno: i32) {
    deny_syscall(nr, errno);
    let base = || uringo::Builder::new().cores(1).pin(false);
    let err = base()
        .backend(uringo::Backend::IoUring)
        .build()
        .expect_err("io_uring_setup is denied");
    assert_eq!(err.raw_os_error(), None, "a bare errno says nothing: {err}");
    println!("{MARK}{err}");
    let rt = base()
        .backend(uringo::Backend::Auto)
        .build()
        .expect("Auto falls back to epoll");
    rt.block_on(async {
        assert_eq!(uringo::features().backend, uringo::Backend::Epoll);
        let listener = uringo::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = uringo::spawn(async move {
            let (conn, _) = listener.accept().await.unwrap();
            let bytes = conn.recv().await.unwrap().expect("data");
            conn.write_all(bytes).await.0.unwrap();
        });
        let client = uringo::net::TcpStream::connect(addr).await.unwrap();
        client.write_all(b"through epoll".to_vec()).await.0.unwrap();
        let (n, buf) = client.read(vec![0u8; 64]).await;
        assert_eq!(&buf[..n.unwrap()], b"through epoll");
        server.await;
    });
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn build_explains_why_io_uring_is_unavailable() {
    if let Ok(denial) = std::env::var(CHILD_ENV) {
        let (nr, errno) = denial.split_once(' ').unwrap();
        child(nr.parse().unwrap(), errno.parse().unwrap());
        return;
    }
    let sysctl = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").unwrap_or_default();
    let eperm_cause = match sysctl.trim() {
        "1" | "2" => "io_uring_disabled", // then the sysctl, not seccomp, is the likely cause
        _ => "seccomp",
    };
    let (setup, enter) = (libc::SYS_io_uring_setup, libc::SYS_io_uring_enter);
    for (nr, errno, must_mention) in [
        (
            setup,
            libc::EPERM,
            vec!["EPERM", eperm_cause, "io_uring_setup"],
        ),
        (setup, libc::ENOSYS, vec!["ENOSYS", "CONFIG_IO_URING"]),
        (
            enter,
            libc::EPERM,
            vec!["EPERM", "io_uring_enter", "seccomp"],
        ),
    ] {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, format!("{nr} {errno}"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "child failed (errno {errno}):\n{stdout}\n{stderr}"
        );
        let message = stdout
            .lines()
            .find_map(|line| line.split_once(MARK).map(|(_, m)| m.to_string()))
            .unwrap_or_else(|| {
                panic!("child printed no error (errno {errno}):\n{stdout}\n{stderr}")
            });
        for word in must_mention {
            assert!(
                message.contains(word),
                "errno {errno}: {message:?} does not mention {word:?}"
            );
        }
    }
}
