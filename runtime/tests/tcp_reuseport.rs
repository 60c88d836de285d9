//! `bind_reuseport` shares an address among this process's listeners (one
//! per core) but refuses one another process listens on, as a plain bind
//! would: a second server started by mistake must not silently take half
//! the clients.
//!
//! The other process is this test binary re-run as a child (selected by an
//! environment variable) that listens with SO_REUSEPORT until its stdin
//! closes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use uringo::net::TcpListener;

const CHILD_ENV: &str = "URINGO_TEST_FOREIGN_LISTENER";
const TEST_NAME: &str = "a_second_process_on_the_address_is_refused_while_own_listeners_share_it";

fn child(addr: SocketAddr) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_reuse_address(true).unwrap();
    socket.set_reuse_port(true).unwrap();
    socket.bind(&addr.into()).unwrap();
    socket.listen(16).unwrap();
    println!("ready");
    std::io::stdout().flush().unwrap();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

#[test]
fn a_second_process_on_the_address_is_refused_while_own_listeners_share_it() {
    if let Ok(addr) = std::env::var(CHILD_ENV) {
        child(addr.parse().unwrap());
        return;
    }
    let first = TcpListener::bind_reuseport("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = first.local_addr().unwrap();
    let second = TcpListener::bind_reuseport(addr).expect("this process's listeners share it");

    let mut other = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, addr.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    let mut out = BufReader::new(other.stdout.take().unwrap());
    while !ready.contains("ready") {
        assert_ne!(
            out.read_line(&mut ready).unwrap(),
            0,
            "child exited: {ready}"
        );
    }
    let err = TcpListener::bind_reuseport(addr).expect_err("another process listens there");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
    assert!(err.to_string().contains("address in use"), "{err}");

    drop(other.stdin.take());
    assert!(other.wait().unwrap().success());
    let third = TcpListener::bind_reuseport(addr).expect("free again once the other exits");
    drop((first, second, third));
}
