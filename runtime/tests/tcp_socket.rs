//! `TcpSocket` (options, bind before connect, listen), name resolution
//! (`lookup_host`, `TcpStream::connect` by host name, each address tried in
//! turn) and the stream calls `peek`, `read_exact` and
//! `write_all_vectored` (whose iovecs and buffers outlive a dropped
//! future: invariant 1), under every backend and forced fallback.

mod support;

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use support::{
    on_each_builder, on_epoll, ops_in_flight, poll_once, tcp_pair, tick_until, ArcBuf, Rng,
};
use uringo::net::{lookup_host, TcpListener, TcpSocket, TcpStream};

const LIMIT: Duration = Duration::from_secs(60);

/// A loopback port nothing listens on (bound, then closed).
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[test]
fn socket_options_read_back_and_bind_before_connect() {
    on_each_builder(LIMIT, "tcp socket", |name| async move {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        assert!(socket.reuseaddr().unwrap(), "{name}");
        socket.set_reuseport(true).unwrap();
        assert!(socket.reuseport().unwrap(), "{name}");
        socket.set_keepalive(true).unwrap();
        assert!(socket.keepalive().unwrap(), "{name}");
        socket
            .set_keepalive_params(Duration::from_secs(30), Duration::from_secs(5), 3)
            .unwrap();
        socket.set_send_buffer_size(64 * 1024).unwrap();
        assert!(socket.send_buffer_size().unwrap() >= 64 * 1024, "{name}");
        socket.set_recv_buffer_size(64 * 1024).unwrap();
        assert!(socket.recv_buffer_size().unwrap() >= 64 * 1024, "{name}");
        socket.set_ttl(33).unwrap();
        assert_eq!(socket.ttl().unwrap(), 33, "{name}");
        socket.set_nodelay(true).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let local = socket.local_addr().unwrap();
        let stream = socket
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        assert_eq!(
            stream.local_addr().unwrap(),
            local,
            "{name}: bound before connect"
        );
        assert!(stream.nodelay().unwrap(), "{name}");
        assert_eq!(stream.ttl().unwrap(), 33, "{name}");
        let (_, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, local, "{name}");
    });
}

#[test]
fn a_tcp_socket_listens_and_accepts() {
    on_each_builder(LIMIT, "tcp socket listen", |name| async move {
        let socket = TcpSocket::new_v6().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind("[::1]:0".parse().unwrap()).unwrap();
        let listener = socket.listen(16).unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (res, _) = client.write_all(b"v6".to_vec()).await;
        res.unwrap();
        let (res, buf) = server.read_exact(Vec::with_capacity(2)).await;
        res.unwrap();
        assert_eq!(&buf[..], b"v6", "{name}");
    });
}

#[test]
fn lookup_host_and_connect_by_name() {
    on_each_builder(LIMIT, "lookup", |name| async move {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = listener.local_addr().unwrap().port();
        let addrs: Vec<SocketAddr> = lookup_host(format!("localhost:{port}"))
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty(), "{name}");
        assert!(
            addrs
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == port),
            "{name}: {addrs:?}"
        );
        let same: Vec<_> = lookup_host(("localhost", port)).await.unwrap().collect();
        assert_eq!(same, addrs, "{name}");
        // A literal needs no resolver.
        let literal: Vec<_> = lookup_host("127.0.0.1:9").await.unwrap().collect();
        assert_eq!(literal, vec!["127.0.0.1:9".parse().unwrap()], "{name}");

        let client = TcpStream::connect(format!("localhost:{port}"))
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        assert_eq!(
            server.peer_addr().unwrap(),
            client.local_addr().unwrap(),
            "{name}"
        );
    });
}

#[test]
fn connect_tries_each_address_in_turn() {
    on_each_builder(LIMIT, "connect each", |name| async move {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let good = listener.local_addr().unwrap();
        let dead = closed_port();
        let client = TcpStream::connect(&[dead, good][..]).await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), good, "{name}");
        // All refused: the last error is returned.
        let err = TcpStream::connect(&[closed_port(), dead][..])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{name}");
        let err = TcpStream::connect(&[][..]).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{name}");
    });
}

#[test]
fn peek_read_exact_and_vectored_writes_past_iov_max() {
    on_each_builder(LIMIT, "tcp vectored", |name| async move {
        let (client, server) = tcp_pair();
        let mut rng = Rng::new(3);
        // More buffers than one sendmsg takes (UIO_MAXIOV = 1024), and more
        // bytes than the socket buffers hold: short writes resume in place.
        let parts: Vec<Vec<u8>> = (0..2500)
            .map(|_| (0..rng.below(1500) + 1).map(|_| rng.next() as u8).collect())
            .collect();
        let whole = Rc::new(parts.concat());
        let reader = {
            let whole = whole.clone();
            uringo::spawn(async move {
                let (n, peeked) = server.peek(Vec::with_capacity(100)).await;
                let n = n.unwrap();
                assert_eq!(&peeked[..], &whole[..n]);
                let (res, got) = server.read_exact(Vec::with_capacity(whole.len())).await;
                res.unwrap();
                got == *whole
            })
        };
        let (res, parts) = client.write_all_vectored(parts).await;
        res.unwrap();
        assert_eq!(parts.len(), 2500, "{name}: the buffers come back");
        assert!(reader.await, "{name}: bytes differ");
    });
}

#[test]
fn dropped_vectored_write_keeps_its_buffers_until_the_kernel_lets_go() {
    on_each_builder(LIMIT, "dropped vectored write", |name| async move {
        // A small send buffer, and a peer that does not read: the write
        // stalls after a few hundred KiB.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let std_client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        socket2::SockRef::from(&std_client)
            .set_send_buffer_size(64 * 1024)
            .unwrap();
        let (server, _) = listener.accept().unwrap();
        let client = TcpStream::from_std(std_client);
        let base = ops_in_flight();
        let token = Arc::new(());
        let bufs: Vec<ArcBuf> = (0..4)
            .map(|_| {
                let mut buf = ArcBuf::new(1 << 20, &token);
                buf.bytes.resize(1 << 20, 7);
                buf
            })
            .collect();
        let mut write = Box::pin(client.write_all_vectored(bufs));
        for _ in 0..20 {
            assert!(
                poll_once(&mut write).await.is_pending(),
                "{name}: 4 MiB cannot fit"
            );
            uringo::op::nop().await.unwrap();
        }
        drop(write);
        if !on_epoll() {
            assert_eq!(
                Arc::strong_count(&token),
                5,
                "{name}: buffers freed under the kernel"
            );
        }
        tick_until(100, name, || Arc::strong_count(&token) == 1).await;
        assert_eq!(ops_in_flight(), base, "{name}: slot not freed");
        drop(server);
    });
}
