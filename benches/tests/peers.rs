//! The peer echo servers, started the way the harnesses start them: each echoes
//! every byte on several connections and exits 0 on SIGTERM.
#![cfg(feature = "peers")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use uringo_benches::server::{ServerKind, ServerProcess};

fn check_peer(kind: ServerKind, exe: &str) {
    let bin_dir = Path::new(exe).parent().unwrap();
    let log = std::env::temp_dir().join(format!("uringo-benches-test-{}.log", kind.name()));
    let server = ServerProcess::start(kind, bin_dir, 0, &log).unwrap();
    assert!(
        server.unpinned_threads(0).unwrap().is_empty(),
        "{} left CPU 0",
        kind.name()
    );
    let mut conns: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(server.addr()).unwrap())
        .collect();
    for (i, c) in conns.iter_mut().enumerate() {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Sizes below, at and well above the servers' 4 KiB read buffer.
        for size in [1usize, 64, 1024, 4096, 70_000] {
            let sent: Vec<u8> = (0..size).map(|j| (i * 7 + j * 13) as u8).collect();
            c.write_all(&sent).unwrap();
            let mut got = vec![0u8; size];
            c.read_exact(&mut got).unwrap();
            assert!(
                got == sent,
                "{} garbled {size} bytes on connection {i}",
                kind.name()
            );
        }
    }
    drop(conns);
    let status = server.stop(Duration::from_secs(5)).unwrap();
    assert!(
        status.success(),
        "{} exited with {status} on SIGTERM",
        kind.name()
    );
}

#[test]
fn tokio_echoes_and_exits_cleanly() {
    check_peer(ServerKind::Tokio, env!("CARGO_BIN_EXE_echo-tokio"));
}

#[test]
fn monoio_echoes_and_exits_cleanly() {
    check_peer(ServerKind::Monoio, env!("CARGO_BIN_EXE_echo-monoio"));
}

#[test]
fn glommio_echoes_and_exits_cleanly() {
    check_peer(ServerKind::Glommio, env!("CARGO_BIN_EXE_echo-glommio"));
}

#[test]
fn compio_echoes_and_exits_cleanly() {
    check_peer(ServerKind::Compio, env!("CARGO_BIN_EXE_echo-compio"));
}
