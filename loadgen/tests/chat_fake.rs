//! `uringo-loadgen chat` against a minimal in-test IRC server (registration, JOIN, channel
//! PRIVMSG fan-out): a faithful one must give zero lost/duplicated/reordered, and a lossy or
//! duplicating one must be caught.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;

#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// Skips every n-th delivery.
    DropEvery(u64),
    /// Delivers every n-th message twice.
    DuplicateEvery(u64),
}

type Writer = Arc<Mutex<TcpStream>>;

#[derive(Default)]
struct Irc {
    channels: Mutex<HashMap<String, Vec<(String, Writer)>>>,
    deliveries: Mutex<u64>,
}

fn send(w: &Writer, line: &str) {
    let _ = w.lock().unwrap().write_all(line.as_bytes());
}

fn client(irc: Arc<Irc>, conn: TcpStream, fault: Fault) {
    let me: Writer = Arc::new(Mutex::new(conn.try_clone().unwrap()));
    let mut nick = String::from("*");
    for line in BufReader::new(conn).lines().map_while(Result::ok) {
        let line = line.trim_end();
        let (cmd, rest) = line.split_once(' ').unwrap_or((line, ""));
        match cmd {
            "NICK" => nick = rest.to_string(),
            "USER" => send(&me, &format!(":fake 001 {nick} :Welcome\r\n")),
            "JOIN" => {
                for ch in rest.split(',') {
                    let mut chans = irc.channels.lock().unwrap();
                    let members = chans.entry(ch.to_string()).or_default();
                    members.push((nick.clone(), me.clone()));
                    // Like IRC servers, tell every member (the joiner included).
                    for (_, w) in members.iter() {
                        send(w, &format!(":{nick}!u@h JOIN {ch}\r\n"));
                    }
                }
            }
            "PRIVMSG" => {
                let (target, text) = rest.split_once(" :").unwrap();
                let members = irc
                    .channels
                    .lock()
                    .unwrap()
                    .get(target)
                    .cloned()
                    .unwrap_or_default();
                let out = format!(":{nick}!u@h PRIVMSG {target} :{text}\r\n");
                for (_, w) in members.iter().filter(|(m, _)| *m != nick) {
                    let n = {
                        let mut d = irc.deliveries.lock().unwrap();
                        *d += 1;
                        *d
                    };
                    match fault {
                        Fault::DropEvery(k) if n % k == 0 => continue,
                        Fault::DuplicateEvery(k) if n % k == 0 => send(w, &out),
                        _ => {}
                    }
                    send(w, &out);
                }
            }
            _ => {}
        }
    }
}

fn irc_server(fault: Fault) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let irc = Arc::new(Irc::default());
    thread::spawn(move || {
        for conn in listener.incoming().map_while(Result::ok) {
            let irc = irc.clone();
            thread::spawn(move || client(irc, conn, fault));
        }
    });
    addr
}

/// Runs loadgen chat for 1 s with `[clients, channels, joins, rate, cores]`.
fn chat_run_with(fault: Fault, tag: &str, shape: [&str; 5]) -> (i32, serde_json::Value, String) {
    let addr = irc_server(fault);
    let json = std::env::temp_dir().join(format!("loadgen-chat-{}-{tag}.json", std::process::id()));
    let [clients, channels, joins, rate, cores] = shape;
    let out = Command::new(env!("CARGO_BIN_EXE_uringo-loadgen"))
        .args(["chat", "--addr", &addr.to_string(), "--clients", clients])
        .args(["--channels", channels, "--joins", joins, "--rate", rate])
        .args(["--size", "80", "--duration", "1s", "--cores", cores])
        .args(["--json", json.to_str().unwrap()])
        .output()
        .expect("running uringo-loadgen");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}); stderr {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    std::fs::remove_file(&json).unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_str(&text).unwrap(),
        stdout,
    )
}

fn chat_run(fault: Fault, tag: &str) -> (i32, serde_json::Value, String) {
    chat_run_with(fault, tag, ["12", "3", "2", "400", "2"])
}

#[test]
fn faithful_server_delivers_everything_in_order() {
    let (code, v, stdout) = chat_run(Fault::None, "ok");
    assert_eq!(code, 0, "{v}\n{stdout}");
    let sent = v["sent"].as_u64().unwrap();
    assert!((360..=440).contains(&sent), "400 msg/s for 1 s: {v}");
    // 12 clients x 2 joins over 3 channels: 8 members each, so 7 deliveries per message.
    assert_eq!(v["expected"].as_u64().unwrap(), sent * 7);
    assert_eq!(v["delivered"], v["expected"]);
    assert_eq!(
        (
            v["lost"].as_u64(),
            v["duplicated"].as_u64(),
            v["out_of_order"].as_u64()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert!(v["latency"]["count"].as_u64().unwrap() > 0);
    assert!(stdout.contains("delivered"), "{stdout}");
}

#[test]
fn lost_deliveries_are_counted() {
    let (code, v, _) = chat_run(Fault::DropEvery(10), "lossy");
    assert_eq!(code, 1);
    let expected = v["expected"].as_u64().unwrap();
    let lost = v["lost"].as_u64().unwrap();
    // Every 10th delivery dropped, give or take the rounding of the last one.
    assert!(lost.abs_diff(expected / 10) <= 1, "{v}");
    assert_eq!(v["delivered"].as_u64().unwrap() + lost, expected);
}

#[test]
fn duplicated_deliveries_are_counted_once() {
    let (code, v, _) = chat_run(Fault::DuplicateEvery(10), "dup");
    assert_eq!(code, 1);
    assert_eq!(v["delivered"], v["expected"], "{v}");
    assert_eq!(v["lost"], 0);
    assert!(
        v["duplicated"]
            .as_u64()
            .unwrap()
            .abs_diff(v["expected"].as_u64().unwrap() / 10)
            <= 1,
        "{v}"
    );
}

#[test]
fn clients_keep_reading_while_others_register() {
    // 300 clients in one channel on one core: each join is announced to every member, far more
    // lines than the core has provided buffers. A registered client that stopped reading while
    // waiting for the others would pin those buffers and starve the clients still registering.
    let (code, v, stdout) = chat_run_with(Fault::None, "flood", ["300", "1", "1", "300", "1"]);
    assert_eq!(code, 0, "{v}\n{stdout}");
    assert_eq!(v["errors"]["connect_errors"], 0);
    assert_eq!(v["lost"], 0);
}
