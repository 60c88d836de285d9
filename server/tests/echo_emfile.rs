//! Running out of file descriptors must not kill the accept loop: the server keeps serving the
//! connections it has, logs the condition at most once a second, and accepts the waiting
//! connections as soon as descriptors are freed.

mod echo_support;

use echo_support::{Options, Server, PATIENCE};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

const EMFILE: &str = "Too many open files";

/// Seconds-of-day of each EMFILE warning, from the log's RFC 3339 timestamps.
fn warning_times(log: &str) -> Vec<f64> {
    log.lines()
        .filter(|l| l.contains(EMFILE))
        .map(|l| {
            let time = l
                .split_whitespace()
                .next()
                .unwrap()
                .split('T')
                .nth(1)
                .unwrap();
            let hms: Vec<f64> = time
                .trim_end_matches('Z')
                .split(':')
                .map(|f| f.parse().unwrap())
                .collect();
            hms[0] * 3600.0 + hms[1] * 60.0 + hms[2]
        })
        .collect()
}

fn echo_once(conn: &mut TcpStream, msg: &[u8]) {
    conn.write_all(msg).expect("write");
    let mut back = vec![0; msg.len()];
    conn.read_exact(&mut back).expect("echo arrives");
    assert_eq!(back, msg);
}

#[test]
fn fd_exhaustion_backs_off_and_recovers() {
    // 16 descriptors: stdio, the ring, its eventfd and the listener leave about 10 for
    // connections, so 24 clients are sure to exhaust them.
    let server = Server::start_with(Options {
        max_fds: Some(16),
        ..Options::default()
    });
    let began = Instant::now();
    let mut clients: Vec<TcpStream> = (0..24)
        .map(|_| {
            let c = TcpStream::connect(server.addr).expect("connect (the backlog takes it)");
            c.set_read_timeout(Some(PATIENCE)).unwrap();
            c
        })
        .collect();
    server.wait_for_log(EMFILE);

    // The accept loop is starved, the connections it has are not: the first client was accepted
    // first (the backlog is FIFO) and is served while the others wait.
    echo_once(&mut clients[0], b"still served while out of fds");

    // Still out of fds a while later: the accept loop retried many times, but the limiter lets
    // the warning through only once per second.
    server.wait_for_log_count(EMFILE, 2);
    let stamps = warning_times(&server.log());
    assert!(stamps[1] - stamps[0] >= 1.0, "warnings at {stamps:?}");

    // Free 18 connections; the 6 left fit in the descriptors that frees.
    let waiting = clients.split_off(18);
    drop(clients);
    for (i, mut c) in waiting.into_iter().enumerate() {
        echo_once(
            &mut c,
            format!("client {i} served after recovery").as_bytes(),
        );
    }
    server.wait_for_log("accepting again");

    let log = server.log();
    let warnings = warning_times(&log).len() as u64;
    assert!(
        warnings <= began.elapsed().as_secs() + 1,
        "logged {warnings} times in {:?}:\n{log}",
        began.elapsed()
    );
    assert_eq!(server.terminate().code(), Some(0));
}
