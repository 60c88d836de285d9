//! A second `uringo-server echo` on an address the first one serves exits with "address in
//! use" instead of starting silently and splitting the clients with it (SO_REUSEPORT would let
//! it bind).

mod echo_support;

use echo_support::{Server, PATIENCE};
use std::process::{Command, Stdio};
use std::sync::mpsc;

#[test]
fn a_second_server_on_the_same_address_fails_with_address_in_use() {
    let first = Server::start();
    let second = Command::new(env!("CARGO_BIN_EXE_uringo-server"))
        .args(["echo", "--listen", &first.addr.to_string(), "--cores", "2"])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the second server");
    let pid = second.id() as libc::pid_t;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(second.wait_with_output());
    });
    let out = match rx.recv_timeout(PATIENCE) {
        Ok(out) => out.expect("waiting for the second server"),
        Err(_) => {
            // SAFETY: kill has no memory-safety preconditions; the child is not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the second server started on an address in use");
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "second server exited 0:\n{stderr}");
    assert!(
        stderr.contains("already in use") || stderr.contains("address in use"),
        "the error says why:\n{stderr}"
    );
    let status = first.terminate();
    assert_eq!(
        status.code(),
        Some(0),
        "the first server is unharmed: {status:?}"
    );
}
