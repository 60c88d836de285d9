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
    /// Holds back every n-th delivery to a receiver and gives it after that receiver's next
    /// delivery on the channel: that receiver sees another order than the rest.
    HoldBackEvery(u64),
}

type Writer = Arc<Mutex<TcpStream>>;

#[derive(Default)]
struct Irc {
    channels: Mutex<HashMap<String, Vec<(String, Writer)>>>,
    deliveries: Mutex<u64>,
    /// HoldBackEvery: the line held back per (receiver, channel).
    held: Mutex<HashMap<(String, String), String>>,
    /// Connections accepted, per listener.
    accepted: Mutex<Vec<u64>>,
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
                // The channel stays locked during the fan-out, so that every member gets the
                // channel's messages in one order (as a real server's channel owner does).
                let channels = irc.channels.lock().unwrap();
                let members = channels.get(target).cloned().unwrap_or_default();
                let out = format!(":{nick}!u@h PRIVMSG {target} :{text}\r\n");
                for (m, w) in members.iter().filter(|(m, _)| *m != nick) {
                    let n = {
                        let mut d = irc.deliveries.lock().unwrap();
                        *d += 1;
                        *d
                    };
                    let key = (m.clone(), target.to_string());
                    match fault {
                        Fault::DropEvery(k) if n % k == 0 => continue,
                        Fault::DuplicateEvery(k) if n % k == 0 => send(w, &out),
                        Fault::HoldBackEvery(k) if n % k == 0 => {
                            let mut held = irc.held.lock().unwrap();
                            if let std::collections::hash_map::Entry::Vacant(e) =
                                held.entry(key.clone())
                            {
                                e.insert(out.clone());
                                continue;
                            }
                        }
                        _ => {}
                    }
                    send(w, &out);
                    if let Some(late) = irc.held.lock().unwrap().remove(&key) {
                        send(w, &late);
                    }
                }
                drop(channels);
            }
            _ => {}
        }
    }
}

/// A listener of `irc` on an ephemeral port (its index in `accepted` counts its clients).
fn listen(irc: Arc<Irc>, fault: Fault) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let me = {
        let mut accepted = irc.accepted.lock().unwrap();
        accepted.push(0);
        accepted.len() - 1
    };
    thread::spawn(move || {
        for conn in listener.incoming().map_while(Result::ok) {
            irc.accepted.lock().unwrap()[me] += 1;
            let irc = irc.clone();
            thread::spawn(move || client(irc, conn, fault));
        }
    });
    addr
}

fn irc_server(fault: Fault) -> SocketAddr {
    listen(Arc::new(Irc::default()), fault)
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
fn closed_loop_keeps_each_sender_waiting_for_its_deliveries() {
    let addr = irc_server(Fault::None);
    let out = Command::new(env!("CARGO_BIN_EXE_uringo-loadgen"))
        .args(["chat", "--addr", &addr.to_string(), "--clients", "12"])
        .args(["--channels", "3", "--joins", "2", "--in-flight", "2"])
        .args(["--duration", "1s", "--cores", "2", "--json", "-"])
        .args(["--server-pid", &std::process::id().to_string()])
        .output()
        .expect("running uringo-loadgen");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["in_flight"], 2);
    assert!(v["sent"].as_u64().unwrap() > 100, "{v}");
    assert_eq!(v["delivered"], v["expected"], "{v}");
    assert!(
        v["cpu"]["server_us_per_delivery"].as_f64().unwrap() > 0.0,
        "{v}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("closed loop 2 in flight"));
}

#[test]
fn receivers_that_disagree_on_a_channel_order_are_caught() {
    let (code, v, _) = chat_run(Fault::HoldBackEvery(50), "order");
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["order_channels_checked"], 3, "{v}");
    assert!(v["order_conflicts"].as_u64().unwrap() > 0, "{v}");
}

#[test]
fn clients_are_spread_over_several_addresses() {
    // Two listeners of one fake server (as two nodes of a cluster): the run is one network.
    let irc = Arc::new(Irc::default());
    let addrs: Vec<String> = (0..2)
        .map(|_| listen(irc.clone(), Fault::None).to_string())
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_uringo-loadgen"))
        .args(["chat", "--addr", &addrs.join(","), "--clients", "10"])
        .args(["--channels", "2", "--joins", "1", "--rate", "200"])
        .args(["--duration", "1s", "--cores", "1", "--json", "-"])
        .output()
        .expect("running uringo-loadgen");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["addr"], addrs.join(","));
    assert_eq!(v["delivered"], v["expected"]);
    assert_eq!(v["order_conflicts"], 0);
    let per_listener = irc.accepted.lock().unwrap().clone();
    assert_eq!(
        per_listener,
        vec![5, 5],
        "clients alternate between the addresses"
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
