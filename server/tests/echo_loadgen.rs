//! The real server binary driven by loadgen: every byte verified, zero errors, clean exit.

mod echo_support;

use echo_support::{loadgen_args, temp_path, Options, Server};
use std::time::Duration;

#[test]
fn closed_loop_is_verified_and_sigterm_exits_zero() {
    let server = Server::start_with(Options {
        cores: 2,
        ..Options::default()
    });
    let json = temp_path("closed.json");
    let mut args = loadgen_args(server.addr);
    args.json = Some(json.clone());
    args.server_pid = Some(server.pid);
    let run = uringo_loadgen::echo::run(&args).expect("loadgen runs");
    let s = &run.summary;
    assert_eq!(s.error_total, 0, "errors: {}\n{}", s.errors, server.log());
    assert!(s.messages > 100, "{s}");
    assert!(s.latency.count > 0 && s.latency.p99_us > 0.0, "{s}");
    assert!(
        s.cpu.server_us_per_msg.is_some(),
        "server CPU per message: {s}"
    );

    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    std::fs::remove_file(&json).unwrap();
    assert_eq!(v["messages"], s.messages);
    assert_eq!(v["error_total"], 0);

    let log = server.log();
    assert!(
        log.contains("cores=2") && log.contains("features="),
        "startup line:\n{log}"
    );
    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
}

#[test]
fn open_loop_sends_at_the_requested_rate() {
    let server = Server::start();
    let mut args = loadgen_args(server.addr);
    args.rate = Some(2000);
    args.pipeline = 1;
    args.duration = Duration::from_secs(1);
    let run = uringo_loadgen::echo::run(&args).expect("loadgen runs");
    let s = &run.summary;
    assert_eq!(s.error_total, 0, "errors: {}", s.errors);
    // Judged against the schedule and the loadgen's own lateness, not by messages counted in
    // the window: on a loaded machine the sender falls behind, and says by how much.
    let sched = s.schedule.expect("open loop reports its schedule");
    assert!(
        (1999..=2001).contains(&sched.due),
        "2000 msg/s for 1 s: {s}"
    );
    // Every message due in the window was sent, and echoed.
    assert_eq!(sched.lateness.count, sched.due, "{s}");
    assert_eq!(s.latency.count, sched.due, "{s}");
    // A limiter that lets messages out early fails here...
    assert_eq!(sched.early, 0, "sends before their due time: {s}");
    // ...and one that sleeps past the due times (runs slow) here: a working one is late only
    // by as much as its own wake-ups were (a late timer or CPU on a busy machine).
    assert_eq!(sched.late_beyond_wakeup, 0, "{s}");
    let service = s
        .service_latency
        .expect("open loop reports service latency too");
    assert!(
        s.latency.p50_us >= service.p50_us * 0.99,
        "corrected latency is never smaller: {s}"
    );
    // Ctrl-C stops the server as cleanly as SIGTERM.
    assert_eq!(server.stop_with(libc::SIGINT).code(), Some(0));
}

#[test]
fn large_messages_survive_partial_reads_and_writes() {
    let server = Server::start_with(Options {
        cores: 2,
        ..Options::default()
    });
    let mut args = loadgen_args(server.addr);
    args.size = 256 * 1024;
    args.conns = 4;
    args.pipeline = 2;
    let run = uringo_loadgen::echo::run(&args).expect("loadgen runs");
    assert_eq!(run.summary.error_total, 0, "errors: {}", run.summary.errors);
    assert!(run.summary.messages > 10, "{}", run.summary);
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn sigterm_during_load_still_exits_zero() {
    let server = Server::start_with(Options {
        cores: 2,
        log: "debug",
        stats_interval: 1,
        ..Options::default()
    });
    let addr = server.addr;
    let load = std::thread::spawn(move || {
        let mut args = loadgen_args(addr);
        args.duration = Duration::from_secs(3);
        args.warmup = Duration::ZERO;
        uringo_loadgen::echo::run(&args).expect("loadgen runs")
    });
    // Load is flowing once the server has accepted every loadgen connection.
    server.wait_for_log_count("accepted", 8);
    // --stats-interval 1 reports each core's traffic while the load runs.
    server.wait_for_log("recvs_per_s=");
    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    let run = load.join().unwrap();
    // The server went away mid-run: loadgen must notice, not hang or report success.
    assert!(run.summary.error_total > 0, "{}", run.summary);
}
