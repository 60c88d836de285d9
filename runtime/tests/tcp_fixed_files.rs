//! Streams' sockets in the ring's fixed-file table (registered descriptors):
//! a full table leaves streams on their fds, closing or dropping a stream
//! frees its slot and really closes its socket (even when dropped under a
//! pending op), a stream used on another runtime's ring goes by its fd,
//! and epoll has no table at all.

mod support;

use std::io::Read;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use support::{fd_lock, poll_once, tick_until, within};
use uringo::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(30);

fn runtime(slots: u32) -> uringo::Runtime {
    uringo::Builder::new()
        .cores(1)
        .pin(false)
        .backend(uringo::Backend::IoUring)
        .fixed_files(slots)
        .build()
        .unwrap()
}

fn in_table() -> u64 {
    uringo::stats().fixed_files
}

/// A connected pair, both ends made on this core (client first).
async fn pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
    let addr = listener.local_addr().unwrap();
    let client = uringo::spawn(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, _) = listener.accept().await.unwrap();
    (client.await, server)
}

/// `from` sends `tag`, `to` must receive exactly it.
async fn carries(from: &TcpStream, to: &TcpStream, tag: &[u8]) {
    let (res, _) = from.write_all(tag.to_vec()).await;
    res.unwrap();
    let (res, got) = to.read_exact(vec![0u8; tag.len()]).await;
    res.unwrap();
    assert_eq!(got, tag, "bytes went to the wrong socket");
}

fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap()
}

/// A blocking client whose reads fail rather than hang.
fn std_client(addr: SocketAddr) -> std::net::TcpStream {
    let client = std::net::TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(LIMIT)).unwrap();
    client
}

/// The peer of a closed socket reads end of stream (not a timeout).
fn reads_eof(client: &mut std::net::TcpStream) {
    let mut buf = [0u8; 1];
    assert_eq!(
        client.read(&mut buf).unwrap(),
        0,
        "the socket was not closed"
    );
}

#[test]
fn a_full_table_leaves_streams_on_their_fds() {
    let _fds = fd_lock();
    within(LIMIT, "full table", || {
        runtime(3).block_on(async {
            assert_eq!(uringo::features().fixed_files, 3);
            let listener = listener();
            let mut pairs = Vec::new();
            for _ in 0..4 {
                pairs.push(pair(&listener).await);
            }
            assert_eq!(in_table(), 3, "8 streams, 3 slots: the rest use their fds");
            for (i, (client, server)) in pairs.iter().enumerate() {
                carries(client, server, format!("to server {i}").as_bytes()).await;
                carries(server, client, format!("to client {i}").as_bytes()).await;
            }
            drop(pairs);
            tick_until(100, "slots freed", || in_table() == 0).await;
            let (client, server) = pair(&listener).await;
            assert_eq!(in_table(), 2, "freed slots are reused");
            carries(&client, &server, b"again").await;
        });
    });
}

#[test]
fn closing_or_dropping_a_registered_stream_closes_its_socket_and_frees_its_slot() {
    let _fds = fd_lock();
    within(LIMIT, "close frees the slot", || {
        runtime(1).block_on(async {
            let listener = listener();
            let addr = listener.local_addr().unwrap();

            let mut client = std_client(addr);
            let (server, _) = listener.accept().await.unwrap();
            assert_eq!(in_table(), 1);
            server.close().await.unwrap();
            assert_eq!(in_table(), 0, "close() returns once the slot is closed");
            reads_eof(&mut client);

            let mut client = std_client(addr);
            let (server, _) = listener.accept().await.unwrap();
            assert_eq!(in_table(), 1, "the slot is reused");
            drop(server);
            tick_until(100, "slot of a dropped stream", || in_table() == 0).await;
            reads_eof(&mut client);

            // Dropped while its multishot recv is in flight: the socket
            // goes once the op's last completion comes (inside the driver).
            let mut client = std_client(addr);
            let (server, _) = listener.accept().await.unwrap();
            let server = Rc::new(server);
            let mut recv = Box::pin(server.recv());
            assert!(poll_once(&mut recv).await.is_pending());
            drop(recv);
            drop(server);
            tick_until(100, "slot of a stream dropped under an op", || {
                in_table() == 0
            })
            .await;
            reads_eof(&mut client);
        });
    });
}

#[test]
fn a_stream_used_on_another_runtimes_ring_goes_by_its_fd() {
    let _fds = fd_lock();
    within(LIMIT, "two rings", || {
        // Both runtimes' core 0 is this thread, so a stream can be used on
        // either ring; its slot index means something only in its own.
        let (a, b) = (runtime(4), runtime(4));
        let listener_a = listener();
        let (a_client, a_server) = a.block_on(pair(&listener_a));
        b.block_on(async {
            // Ring b's slots hold other sockets at other indexes: a lone
            // accepted stream first, then a pair.
            let listener_b = listener();
            let _lone_peer = std_client(listener_b.local_addr().unwrap());
            let (_lone, _) = listener_b.accept().await.unwrap();
            let (b_client, b_server) = pair(&listener_b).await;
            assert_eq!(in_table(), 3, "ring b holds its own streams");
            carries(&a_client, &a_server, b"a to a").await;
            carries(&b_client, &b_server, b"b to b").await;
            carries(&a_server, &a_client, b"back in a").await;
            // Dropped here, their slots in ring a are closed by ring a.
            drop((a_client, a_server));
            assert_eq!(in_table(), 3, "ring b's slots are untouched");
        });
        a.block_on(async {
            assert_eq!(in_table(), 2);
            tick_until(100, "ring a closes its slots", || in_table() == 0).await;
        });
    });
}

#[test]
fn epoll_has_no_table() {
    let _fds = fd_lock();
    within(LIMIT, "epoll", || {
        let rt = uringo::Builder::new()
            .cores(1)
            .pin(false)
            .backend(uringo::Backend::Epoll)
            .build()
            .unwrap();
        rt.block_on(async {
            assert_eq!(uringo::features().fixed_files, 0);
            let listener = listener();
            let (client, server) = pair(&listener).await;
            assert_eq!(in_table(), 0);
            carries(&client, &server, b"plain fds").await;
            server.close().await.unwrap();
            let (res, _) = client.read(vec![0u8; 4]).await;
            assert_eq!(res.unwrap(), 0);
        });
    });
}
