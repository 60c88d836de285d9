//! Start-up through the shared server scaffolding: a second server on a
//! port the first one serves is refused with a clear error instead of
//! sharing the port through SO_REUSEPORT.

mod chat_support;

use std::process::Command;

use chat_support::{Client, Server};

#[test]
fn an_address_in_use_is_refused() {
    let srv = Server::start(&[]);
    let out = Command::new(env!("CARGO_BIN_EXE_uringo-server"))
        .args(["chat", "--cores", "1", "--listen", &srv.addr.to_string()])
        .output()
        .expect("run a second server");
    assert!(!out.status.success(), "the second server must not start");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in use"), "{err}");
    // The first one is unaffected.
    let mut c = Client::register(srv.addr, "still");
    c.sync();
}
