//! `--metrics`: `/metrics` scraped from the real servers while they carry
//! load, validated by Prometheus's `promtool check metrics`, counters moving.

mod chat_support;
mod promtool_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use chat_support::Server;
use promtool_support::check as promtool;
use uringo_loadgen::cli::ChatArgs;

/// A port free right now on loopback.
fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// `GET /metrics`: the body, after checking status and content type.
fn scrape(addr: SocketAddr) -> String {
    let mut conn = TcpStream::connect(addr).expect("metrics endpoint accepts");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        conn,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    body.to_string()
}

/// The sum over every sample of `name` (any labels).
fn total(text: &str, name: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[test]
fn chat_metrics_move_with_the_load_and_pass_promtool() {
    let metrics = free_addr();
    let server = Server::start(&["--flood-rate", "0", "--metrics", &metrics.to_string()]);
    let before = scrape(metrics);
    promtool(&before);
    let args = ChatArgs {
        clients: 200,
        channels: 10,
        rate: 2000,
        ..ChatArgs::short(vec![server.addr])
    };
    let load =
        std::thread::spawn(move || uringo_loadgen::chat::run(&args).expect("loadgen chat runs"));
    let mut during = Vec::new();
    while !load.is_finished() {
        during.push(scrape(metrics));
        std::thread::sleep(Duration::from_millis(300));
    }
    let s = load.join().unwrap();
    let after = scrape(metrics);
    for text in during.iter().chain([&after]) {
        promtool(text);
    }
    assert_eq!((s.lost, s.duplicated, s.out_of_order), (0, 0, 0));
    let lines = |t: &str| total(t, "uringo_chat_lines_in_total");
    assert!(
        lines(&after) >= s.sent,
        "every PRIVMSG was a line in: {} < {}",
        lines(&after),
        s.sent
    );
    assert!(
        during.windows(2).any(|w| lines(&w[1]) > lines(&w[0])),
        "lines_in moved during the load"
    );
    let delivered = |t: &str| total(t, "uringo_chat_deliveries_total");
    assert!(
        delivered(&after) - delivered(&before) >= s.delivered,
        "every delivery counted"
    );
    assert!(total(&after, "uringo_chat_fanout_seconds_count") > 0);
    assert!(total(&after, "uringo_ring_enters_total") > total(&before, "uringo_ring_enters_total"));
    for counter in ["uringo_parks_total", "uringo_remote_wakes_total"] {
        assert!(
            total(&after, counter) > total(&before, counter),
            "{counter} moved under load"
        );
    }
    for core in 0..2 {
        let gauge = format!("uringo_run_queue{{core=\"{core}\"}} ");
        assert!(
            after.lines().any(|l| l.starts_with(&gauge)),
            "{gauge}is exported"
        );
    }
    assert!(
        during.iter().any(|t| total(t, "uringo_run_queue") > 0),
        "a fan-out queued tasks while some scrape looked"
    );
    assert!(
        during.iter().any(|t| total(t, "uringo_chat_clients") > 0),
        "clients were counted while connected"
    );
    println!(
        "scraped {} times during load; run queue {:?}; lines in {} -> {}",
        during.len(),
        during
            .iter()
            .map(|t| total(t, "uringo_run_queue"))
            .collect::<Vec<_>>(),
        lines(&before),
        lines(&after)
    );
}

#[test]
fn echo_metrics_count_connections_and_bytes() {
    let metrics = free_addr();
    let mut child = Command::new(env!("CARGO_BIN_EXE_uringo-server"))
        .args([
            "echo",
            "--listen",
            "127.0.0.1:0",
            "--cores",
            "2",
            "--metrics",
            &metrics.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("address line")
        .parse()
        .unwrap();
    let mut conns: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    for c in &mut conns {
        c.write_all(&[7u8; 1000]).unwrap();
        let mut back = [0u8; 1000];
        c.read_exact(&mut back).unwrap();
    }
    let text = scrape(metrics);
    promtool(&text);
    assert_eq!(total(&text, "uringo_echo_connections_total"), 3);
    assert_eq!(total(&text, "uringo_echo_connections_open"), 3);
    assert_eq!(total(&text, "uringo_echo_bytes_total"), 3000);
    drop(conns);
    // SAFETY: sending SIGTERM to the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(
        child.wait().unwrap().success(),
        "clean shutdown with the metrics server up"
    );
}
