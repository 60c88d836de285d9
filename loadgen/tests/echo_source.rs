//! `uringo-loadgen echo` against a loopback server spreads its connections over source
//! addresses of 127.0.0.0/8, so that its ephemeral ports are not the ones everything else on
//! 127.0.0.1 uses; and reports how its cores used their rings.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::mpsc;
use std::thread;

fn echo(mut conn: TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = conn.read(&mut buf) {
        if conn.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

#[test]
fn loopback_connections_come_from_distinct_loopback_addresses() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (peers, seen) = mpsc::channel();
    thread::spawn(move || {
        for conn in listener.incoming().map_while(Result::ok) {
            let _ = peers.send(conn.peer_addr().unwrap());
            thread::spawn(move || echo(conn));
        }
    });
    let out = Command::new(env!("CARGO_BIN_EXE_uringo-loadgen"))
        .args(["echo", "--addr", &addr.to_string(), "--conns", "8"])
        .args([
            "--duration",
            "300ms",
            "--warmup",
            "0s",
            "--cores",
            "1",
            "--json",
            "-",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "loadgen failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // The summary also says how the run used its ring.
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let enters = summary["cpu"]["loadgen_enters_per_msg"].as_f64().unwrap();
    assert!(enters > 0.0 && enters < 10.0, "{enters} enters per message");
    let ips: BTreeSet<IpAddr> = seen.try_iter().map(|a| a.ip()).collect();
    let want: BTreeSet<IpAddr> = (0..8)
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 1, 0, i)))
        .collect();
    assert_eq!(ips, want);
}
