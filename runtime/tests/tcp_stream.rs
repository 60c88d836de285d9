//! `TcpStream` and `TcpListener` behaviour, under every forced fallback
//! (support::builders): reads, writes, EOF, shutdown, split halves,
//! addresses and errors, accept bursts, and invariant 7's second half:
//! an fd number is never reused under a pending op.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::Duration;

use support::{fd_lock, on_each_builder, ops_in_flight, poll_once, tcp_pair, tick_until, ArcBuf};
use uringo::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn reads_writes_and_end_of_stream() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "read/write/eof", |name| async move {
        let (client, server) = tcp_pair();
        let (n, _) = client.write(b"hello".to_vec()).await;
        assert_eq!(n.unwrap(), 5, "{name}");
        let (res, _) = client.write_all(vec![b'!'; 100_000]).await;
        res.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        loop {
            let (n, buf) = server.read(Vec::with_capacity(4096)).await;
            let n = n.unwrap();
            if n == 0 {
                break;
            }
            assert_eq!(buf.len(), n, "{name}: read sets the buffer's length");
            got.extend_from_slice(&buf);
        }
        assert_eq!(&got[..5], b"hello", "{name}");
        assert_eq!(got.len(), 100_005, "{name}");
        assert!(got[5..].iter().all(|&b| b == b'!'), "{name}");
        // The other direction still works after a half close.
        let (res, _) = server.write_all(b"bye".to_vec()).await;
        res.unwrap();
        let (n, buf) = client.read(vec![0u8; 8]).await;
        assert_eq!(&buf[..n.unwrap()], b"bye", "{name}");

        // recv: chunks, then None at end of stream, and None again.
        let (client, server) = tcp_pair();
        let (res, _) = client.write_all(vec![3u8; 50_000]).await;
        res.unwrap();
        drop(client);
        let mut total = 0;
        while let Some(buf) = server.recv().await.unwrap() {
            assert!(buf.iter().all(|&b| b == 3), "{name}");
            total += buf.len();
        }
        assert_eq!(total, 50_000, "{name}");
        assert!(
            server.recv().await.unwrap().is_none(),
            "{name}: EOF is sticky"
        );
    });
}

#[test]
fn addresses_options_and_errors() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "addresses", |name| async move {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let client = uringo::spawn(async move { TcpStream::connect(addr).await.unwrap() });
        let (server, peer) = listener.accept().await.unwrap();
        let client = client.await;
        assert_eq!(client.peer_addr().unwrap(), addr, "{name}");
        assert_eq!(
            client.local_addr().unwrap(),
            peer,
            "{name}: accept reports the peer"
        );
        assert_eq!(server.peer_addr().unwrap(), peer, "{name}");
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap(), "{name}");
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap(), "{name}");

        // A bound port refuses a second plain bind, and a closed port refuses connects.
        assert!(TcpListener::bind(addr).is_err(), "{name}: double bind");
        let closed: SocketAddr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let err = TcpStream::connect(closed).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{name}");

        // SO_REUSEPORT listeners share a port.
        let a = TcpListener::bind_reuseport("127.0.0.1:0".parse().unwrap()).unwrap();
        let b = TcpListener::bind_reuseport(a.local_addr().unwrap()).unwrap();
        assert_eq!(a.local_addr().unwrap(), b.local_addr().unwrap(), "{name}");

        // A write to a peer that is gone is an error, not SIGPIPE.
        let (client, server) = tcp_pair();
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        let mut failed = false;
        for _ in 0..100 {
            let (res, _) = client.write(vec![0u8; 1024]).await;
            if res.is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "{name}: writes to a reset connection must fail");
    });
}

#[test]
fn a_burst_of_connections_is_accepted_in_full() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "accept burst", |name| async move {
        const CONNS: usize = 100;
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut clients: Vec<_> = (0..CONNS)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        let mut expected: Vec<SocketAddr> =
            clients.iter().map(|c| c.local_addr().unwrap()).collect();
        let mut peers = Vec::new();
        for i in 0..CONNS {
            let (stream, peer) = listener.accept().await.unwrap();
            let (res, _) = stream.write_all(vec![i as u8]).await;
            res.unwrap();
            peers.push(peer);
        }
        peers.sort();
        expected.sort();
        assert_eq!(peers, expected, "{name}");
        for c in &mut clients {
            let mut byte = [0u8; 1];
            c.read_exact(&mut byte).unwrap();
        }
    });
}

#[test]
fn split_halves_work_from_two_tasks_and_the_write_half_closes_on_drop() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "split", |name| async move {
        let (client, server) = tcp_pair();
        let (read_half, write_half) = server.into_split();
        let echo = uringo::spawn(async move {
            let mut total = 0;
            while let Some(buf) = read_half.recv().await.unwrap() {
                total += buf.len();
                let (res, _) = write_half.write_all(buf).await;
                res.unwrap();
            }
            total
            // write_half dropped here: the client sees EOF.
        });
        let client = Rc::new(client);
        let writer = client.clone();
        let send = uringo::spawn(async move {
            for i in 0..50u8 {
                let (res, _) = writer.write_all(vec![i; 1000]).await;
                res.unwrap();
            }
            writer.shutdown(Shutdown::Write).unwrap();
        });
        let mut got = Vec::new();
        loop {
            let (n, buf) = client.read(vec![0u8; 8192]).await;
            let n = n.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        send.await;
        assert_eq!(echo.await, 50_000, "{name}");
        let expected: Vec<u8> = (0..50u8).flat_map(|i| vec![i; 1000]).collect();
        assert!(got == expected, "{name}: echo through split halves differs");
    });
}

#[test]
fn a_dropped_streams_fd_is_not_reused_while_an_op_on_it_is_pending() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "fd reuse", |name| async move {
        let base = ops_in_flight();
        for round in 0..20 {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let _client_a = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let server_a = listener.accept().unwrap().0;
            let fd_a = server_a.as_raw_fd();
            let server_a = TcpStream::from_std(server_a);
            // The read's SQE is queued but not yet submitted; its future and
            // the stream are dropped before the ring is entered.
            let token = std::sync::Arc::new(());
            let mut read = Box::pin(server_a.read(ArcBuf::new(64, &token)));
            assert!(poll_once(&mut read).await.is_pending());
            drop(read);
            drop(server_a);
            // New sockets: none may take fd_a while the op naming it is queued.
            let mut client_b =
                std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let server_b = listener.accept().unwrap().0;
            // (On epoll nothing is pending: the fd may be reused at once.)
            if !support::on_epoll() {
                assert_ne!(
                    server_b.as_raw_fd(),
                    fd_a,
                    "{name} round {round}: fd reused under a pending op"
                );
                assert_ne!(
                    client_b.as_raw_fd(),
                    fd_a,
                    "{name} round {round}: fd reused under a pending op"
                );
            }
            client_b.write_all(b"for b").unwrap();
            tick_until(100, name, || ops_in_flight() == base).await;
            let server_b = TcpStream::from_std(server_b);
            let (n, buf) = server_b.read(vec![0u8; 16]).await;
            assert_eq!(
                &buf[..n.unwrap()],
                b"for b",
                "{name}: another socket's op took the bytes"
            );
        }
    });
}

#[test]
fn close_waits_for_the_ops_still_using_the_socket() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "close", |name| async move {
        let base = ops_in_flight();
        let (client, server) = tcp_pair();
        // Leave a recv armed on the stream (it belongs to the stream, not
        // to the dropped future), then close: the recv is cancelled and
        // close completes only after it let go of the socket.
        let mut recv = Box::pin(server.recv());
        assert!(poll_once(&mut recv).await.is_pending());
        drop(recv);
        uringo::op::nop().await.unwrap();
        server.close().await.unwrap();
        assert_eq!(
            ops_in_flight(),
            base,
            "{name}: close returned with an op on the socket"
        );
        let (n, _) = client.read(vec![0u8; 4]).await;
        assert_eq!(n.unwrap(), 0, "{name}: the peer sees the close");
    });
}

#[test]
fn incoming_yields_each_connection_once_in_order() {
    use futures_core::Stream;
    use std::io::{Read, Write};

    support::runtime(1).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut incoming = std::pin::pin!(listener.incoming());
        let clients = std::thread::spawn(move || {
            (0u8..3)
                .map(|i| {
                    let mut c = std::net::TcpStream::connect(addr).unwrap();
                    c.write_all(&[i]).unwrap();
                    let mut echoed = [0u8; 1];
                    c.read_exact(&mut echoed).unwrap();
                    echoed[0]
                })
                .collect::<Vec<u8>>()
        });
        for expected in 0u8..3 {
            let stream = std::future::poll_fn(|cx| incoming.as_mut().poll_next(cx))
                .await
                .expect("incoming never ends")
                .expect("accepted");
            let (n, buf) = stream.read(Vec::with_capacity(8)).await;
            assert_eq!(n.unwrap(), 1);
            assert_eq!(buf, [expected]);
            let (res, _) = stream.write_all(buf).await;
            res.unwrap();
        }
        assert_eq!(clients.join().unwrap(), vec![0, 1, 2]);
    });
}
