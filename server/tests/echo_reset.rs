//! A connection that resets (SO_LINGER 0) or half-closes mid-message ends alone: loadgen on
//! other connections sees no error, and the server keeps accepting.

mod echo_support;

use echo_support::{loadgen_args, Options, Server, PATIENCE};
use socket2::SockRef;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// Sends part of a large message and resets the connection while the server is echoing it.
fn reset_mid_message(addr: std::net::SocketAddr) {
    let mut c = TcpStream::connect(addr).expect("connect");
    let chunk = vec![0x5a; 64 * 1024];
    for _ in 0..4 {
        c.write_all(&chunk).expect("write");
    }
    SockRef::from(&c).set_linger(Some(Duration::ZERO)).unwrap();
    drop(c); // RST, with echoes in flight and unread
}

/// Sends a message, half-closes, and expects exactly that message back, then EOF.
fn half_close_gets_full_echo(addr: std::net::SocketAddr, len: usize) {
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    let msg: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    c.write_all(&msg).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back).expect("echo then EOF");
    assert!(
        back == msg,
        "echoed {} of {len} bytes, or different bytes",
        back.len()
    );
}

#[test]
fn resets_and_half_closes_end_only_their_connection() {
    let server = Server::start_with(Options {
        cores: 2,
        ..Options::default()
    });
    let addr = server.addr;
    let load = std::thread::spawn(move || {
        let mut args = loadgen_args(addr);
        args.duration = Duration::from_millis(1500);
        args.warmup = Duration::ZERO;
        uringo_loadgen::echo::run(&args).expect("loadgen runs")
    });
    let mut rounds = 0;
    while !load.is_finished() {
        reset_mid_message(addr);
        half_close_gets_full_echo(addr, 1 + rounds * 997 % 100_000);
        rounds += 1;
    }
    let run = load.join().unwrap();
    assert!(rounds > 0);
    assert_eq!(
        run.summary.error_total, 0,
        "loadgen saw: {}",
        run.summary.errors
    );
    assert!(run.summary.messages > 0, "{}", run.summary);
    // Still accepting and echoing after all that.
    half_close_gets_full_echo(addr, 10);
    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
    assert_eq!(server.terminate().code(), Some(0));
}
