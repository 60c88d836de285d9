//! The load generator killed mid-run (SIGTERM, then SIGKILL): the server notices every
//! connection going, closes them all, and serves the next client as if nothing happened.
//!
//! The load generator runs in a child process: this test binary re-executes itself with only
//! the ignored `loadgen_child` test selected, which drives the server named in the environment.

mod echo_support;

use echo_support::{loadgen_args, Options, Server};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHILD_ADDR: &str = "URINGO_FAULT_LOADGEN_ADDR";

/// Not a test of its own: the load generator process of the tests below.
#[test]
#[ignore = "started by the other tests of this file as their load generator process"]
fn loadgen_child() {
    let Ok(addr) = std::env::var(CHILD_ADDR) else {
        return;
    };
    let mut args = loadgen_args(addr.parse().expect("address"));
    args.conns = 64;
    args.warmup = Duration::ZERO;
    args.duration = Duration::from_secs(60); // killed long before
    println!("loadgen child running");
    let _ = uringo_loadgen::echo::run(&args);
}

fn start_loadgen(server: &Server) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "loadgen_child", "--ignored", "--nocapture"])
        .env(CHILD_ADDR, server.addr.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the loadgen child")
}

/// The server's per-second stats line once no connection is open.
const IDLE: &str = "conns=0";

fn killed_loadgen_leaves_nothing_open(signo: libc::c_int) {
    let server = Server::start_with(Options {
        stats_interval: 1,
        ..Options::default()
    });
    let mut child = start_loadgen(&server);
    server.wait_for_log("conns=64");
    // SAFETY: kill has no memory-safety preconditions; the child is ours and not yet reaped.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signo) }, 0);
    let status = child.wait().unwrap();
    assert!(!status.success(), "loadgen child was not killed: {status}");
    // Every connection is gone from the server's count (the next stats line says 0 open).
    let idle_before = server.log().matches(IDLE).count();
    server.wait_for_log_count(IDLE, idle_before + 1);
    // And a new client is served cleanly.
    let mut args = loadgen_args(server.addr);
    args.duration = Duration::from_millis(800);
    let run = uringo_loadgen::echo::run(&args).expect("loadgen runs");
    assert_eq!(run.summary.error_total, 0, "{}", run.summary.errors);
    assert!(run.summary.messages > 0);
    assert!(
        server.terminate().success(),
        "server did not shut down cleanly"
    );
}

#[test]
fn sigterm_of_the_load_generator_mid_run() {
    killed_loadgen_leaves_nothing_open(libc::SIGTERM);
}

#[test]
fn sigkill_of_the_load_generator_mid_run() {
    killed_loadgen_leaves_nothing_open(libc::SIGKILL);
}
