//! The `uringo-loadgen echo` binary against small in-test echo servers: an honest one (exit 0,
//! JSON/hgrm/SVG written) and faulty ones whose faults must be counted, never passed over.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::thread;

/// What the in-test server does to the echo.
#[derive(Clone, Copy)]
enum Fault {
    None,
    /// Flips a bit of the byte at this stream offset.
    Corrupt(usize),
    /// Closes the connection after echoing this many bytes.
    CloseAfter(usize),
}

fn serve(mut conn: TcpStream, fault: Fault) {
    let mut buf = [0u8; 4096];
    let mut pos = 0usize;
    loop {
        let n = match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let chunk = &mut buf[..n];
        match fault {
            Fault::Corrupt(at) if (pos..pos + n).contains(&at) => chunk[at - pos] ^= 1,
            Fault::CloseAfter(limit) if pos + n > limit => {
                let _ = conn.write_all(&chunk[..limit.saturating_sub(pos)]);
                return;
            }
            _ => {}
        }
        if conn.write_all(chunk).is_err() {
            return;
        }
        pos += n;
    }
}

/// A thread-per-connection echo server on an ephemeral port.
fn echo_server(fault: Fault) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for conn in listener.incoming().map_while(Result::ok) {
            thread::spawn(move || serve(conn, fault));
        }
    });
    addr
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("loadgen-cli-{}-{name}", std::process::id()))
}

/// Runs a short loadgen and returns (exit code, parsed --json).
fn loadgen(addr: SocketAddr, extra: &[&str], tag: &str) -> (i32, serde_json::Value) {
    let json = temp(&format!("{tag}.json"));
    let out = Command::new(env!("CARGO_BIN_EXE_uringo-loadgen"))
        .args([
            "echo",
            "--addr",
            &addr.to_string(),
            "--conns",
            "4",
            "--duration",
            "600ms",
        ])
        .args([
            "--warmup",
            "100ms",
            "--cores",
            "1",
            "--json",
            json.to_str().unwrap(),
        ])
        .args(extra)
        .output()
        .expect("running uringo-loadgen");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    std::fs::remove_file(&json).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("msg/s"),
        "no per-second or summary lines:\n{stdout}"
    );
    (
        out.status.code().unwrap(),
        serde_json::from_str(&text).unwrap(),
    )
}

#[test]
fn honest_server_passes_and_reports_are_written() {
    let addr = echo_server(Fault::None);
    let (hgrm, svg) = (temp("run.hgrm"), temp("run.svg"));
    let (code, v) = loadgen(
        addr,
        &[
            "--pipeline",
            "3",
            "--hgrm",
            hgrm.to_str().unwrap(),
            "--plot",
            svg.to_str().unwrap(),
        ],
        "honest",
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["error_total"], 0);
    assert!(v["messages"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["pipeline"], 3);
    let hgrm_text = std::fs::read_to_string(&hgrm).unwrap();
    assert!(
        hgrm_text.contains("Value     Percentile TotalCount"),
        "{hgrm_text}"
    );
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.starts_with("<svg") && svg_text.contains("Latency (ms)"));
    std::fs::remove_file(hgrm).unwrap();
    std::fs::remove_file(svg).unwrap();
}

#[test]
fn open_loop_reports_both_latencies() {
    let addr = echo_server(Fault::None);
    let (code, v) = loadgen(addr, &["--rate", "1000"], "open");
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["mode"], "open");
    assert!(v["service_latency"]["count"].as_u64().unwrap() > 0, "{v}");
}

#[test]
fn corrupted_byte_is_a_mismatch() {
    let addr = echo_server(Fault::Corrupt(1000));
    let (code, v) = loadgen(addr, &[], "corrupt");
    assert_eq!(code, 1);
    // Every connection's byte 1000 is corrupted once.
    assert_eq!(v["errors"]["mismatches"], 4, "{v}");
}

#[test]
fn early_close_is_a_short_read() {
    let addr = echo_server(Fault::CloseAfter(6400));
    let (code, v) = loadgen(addr, &[], "short");
    assert_eq!(code, 1);
    assert_eq!(v["errors"]["short_reads"], 4, "{v}");
}

#[test]
fn refused_connections_are_connect_errors() {
    // Bind then drop: nothing listens on this port any more.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (code, v) = loadgen(addr, &[], "refused");
    assert_eq!(code, 1);
    assert_eq!(v["errors"]["connect_errors"], 4, "{v}");
    assert_eq!(v["messages"], 0);
}

#[test]
fn json_to_stdout_keeps_stdout_machine_readable() {
    let addr = echo_server(Fault::None);
    let out = Command::new(env!("CARGO_BIN_EXE_uringo-loadgen"))
        .args(["echo", "--addr", &addr.to_string(), "--conns", "2"])
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
        .expect("running uringo-loadgen");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is only JSON");
    assert!(v["messages"].as_u64().unwrap() > 0);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("msg/s"),
        "people still get the table"
    );
}

#[test]
fn server_gone_ends_the_run_early_with_errors_counted() {
    // Every connection is closed after 100 messages: with nothing left to drive, loadgen stops
    // instead of reporting 0 msg/s for the remaining minute.
    let addr = echo_server(Fault::CloseAfter(6400));
    let started = std::time::Instant::now();
    let (code, v) = loadgen(addr, &["--duration", "60s"], "gone");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "ran {:?}",
        started.elapsed()
    );
    assert_eq!(code, 1);
    assert_eq!(v["ended_early"], true, "{v}");
    assert_eq!(v["errors"]["short_reads"], 4, "{v}");
}

/// To a loopback server, connections come from distinct addresses of 127.0.0.0/8, not all
/// from 127.0.0.1 and its ephemeral ports; the summary also says how the run used its ring.
#[test]
fn loopback_connections_come_from_distinct_loopback_addresses() {
    use std::collections::BTreeSet;
    use std::net::{IpAddr, Ipv4Addr};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (peers, seen) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for conn in listener.incoming().map_while(Result::ok) {
            let _ = peers.send(conn.peer_addr().unwrap().ip());
            thread::spawn(move || serve(conn, Fault::None));
        }
    });
    let (code, v) = loadgen(addr, &["--conns", "8"], "sources");
    assert_eq!(code, 0);
    let enters = v["cpu"]["loadgen_enters_per_msg"].as_f64().unwrap();
    assert!(enters > 0.0 && enters < 10.0, "{enters} enters per message");
    let ips: BTreeSet<IpAddr> = seen.try_iter().collect();
    let want: BTreeSet<IpAddr> = (0..8)
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 1, 0, i)))
        .collect();
    assert_eq!(ips, want);
}
