//! 200 connections × random-size messages up to 64 KiB through a uringo
//! echo server, every byte verified, under every forced fallback.

mod support;

use std::rc::Rc;

use support::{builders, spawn_echo, Rng};
use uringo::net::TcpStream;

const CONNS: usize = 200;
const MESSAGES: usize = 5;

async fn client(addr: std::net::SocketAddr, seed: u64) -> usize {
    let mut rng = Rng::new(seed);
    let stream = Rc::new(TcpStream::connect(addr).await.unwrap());
    let mut total = 0;
    for _ in 0..MESSAGES {
        let len = 1 + rng.below(64 * 1024) as usize;
        let msg: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let writer = stream.clone();
        let expected = msg.clone();
        let send = uringo::spawn(async move {
            let (res, _) = writer.write_all(msg).await;
            res.unwrap();
        });
        let mut got = Vec::with_capacity(len);
        while got.len() < len {
            let (n, buf) = stream.read(vec![0u8; 16 * 1024]).await;
            let n = n.unwrap();
            assert!(n > 0, "server closed early");
            got.extend_from_slice(&buf[..n]);
        }
        send.await;
        assert_eq!(got, expected, "echoed bytes differ (seed {seed})");
        total += len;
    }
    total
}

#[test]
fn two_hundred_connections_random_sizes_every_byte_verified() {
    for (name, builder) in builders() {
        let rt = builder.build().unwrap();
        let total: usize = rt.block_on(async {
            let addr = spawn_echo();
            let clients: Vec<_> = (0..CONNS)
                .map(|i| uringo::spawn(client(addr, i as u64 + 1)))
                .collect();
            let mut total = 0;
            for c in clients {
                total += c.await;
            }
            total
        });
        assert!(total > CONNS * MESSAGES, "{name}: moved only {total} bytes");
    }
}

#[test]
fn echo_server_on_another_core_serves_clients_on_this_one() {
    for (name, builder) in builders() {
        let rt = builder.build().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let _server = rt.spawn_on(1, move || async move {
            tx.send(spawn_echo()).unwrap();
            std::future::pending::<()>().await
        });
        let addr = rx.recv().unwrap();
        let total = rt.block_on(async move {
            let clients: Vec<_> = (0..20)
                .map(|i| uringo::spawn(client(addr, 1000 + i)))
                .collect();
            let mut total = 0;
            for c in clients {
                total += c.await;
            }
            total
        });
        assert!(total > 0, "{name}");
    }
}
