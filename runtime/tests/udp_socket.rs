//! `UdpSocket` under every backend and forced fallback (support::builders):
//! owned-buffer round trips with byte verification, connected sockets,
//! bursts through the multishot recvmsg, oversized datagrams, options, and
//! cancellation (buffers kept until the kernel lets go, no fd leaked).
//! Every test takes `fd_lock`: the fd counts are of the whole process.

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use support::{
    fd_lock, on_each_builder, on_epoll, open_fds, ops_in_flight, poll_once, tick_until, ArcBuf, Rng,
};
use uringo::net::UdpSocket;

const LIMIT: Duration = Duration::from_secs(60);

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A datagram whose bytes say which one it is: `seq` then a pattern of
/// `len` bytes seeded by it.
fn datagram(seq: u32, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(u64::from(seq) + 1);
    let mut bytes = seq.to_be_bytes().to_vec();
    bytes.extend((0..len).map(|_| rng.next() as u8));
    bytes
}

fn check_datagram(bytes: &[u8]) -> u32 {
    let seq = u32::from_be_bytes(bytes[..4].try_into().unwrap());
    assert_eq!(
        bytes,
        datagram(seq, bytes.len() - 4),
        "datagram {seq} corrupted"
    );
    seq
}

#[test]
fn send_to_and_recv_from_round_trip_every_byte() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "udp round trip", |name| async move {
        let server = UdpSocket::bind(local()).unwrap();
        let client = UdpSocket::bind(local()).unwrap();
        let server_addr = server.local_addr().unwrap();
        for (seq, len) in [(1, 0), (2, 1), (3, 1000), (4, 1400)] {
            let sent = datagram(seq, len);
            let (n, _) = client.send_to(sent.clone(), server_addr).await;
            assert_eq!(n.unwrap(), sent.len(), "{name}");
            let (res, buf) = server.recv_from(Vec::with_capacity(2048)).await;
            let (n, from) = res.unwrap();
            assert_eq!(from, client.local_addr().unwrap(), "{name}");
            assert_eq!(&buf[..n], &sent[..], "{name}: datagram {seq}");
            // And back, to the address it came from.
            let (res, _) = server.send_to(buf, from).await;
            res.unwrap();
            let (res, buf) = client.recv_from(vec![0u8; 2048]).await;
            let (n, from) = res.unwrap();
            assert_eq!((from, &buf[..n]), (server_addr, &sent[..]), "{name}");
        }
    });
}

#[test]
fn connected_sockets_send_recv_and_know_their_peer() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "udp connected", |name| async move {
        let a = UdpSocket::bind(local()).unwrap();
        let b = UdpSocket::bind(local()).unwrap();
        assert!(a.peer_addr().is_err(), "{name}: not connected yet");
        a.connect(b.local_addr().unwrap()).unwrap();
        b.connect(a.local_addr().unwrap()).unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap(), "{name}");
        let (res, _) = a.send(b"over a connected socket".to_vec()).await;
        res.unwrap();
        let (n, buf) = b.recv(Vec::with_capacity(64)).await;
        assert_eq!(&buf[..n.unwrap()], b"over a connected socket", "{name}");
        // peek_from leaves the datagram for the next receive.
        let (res, _) = b.send(b"twice".to_vec()).await;
        res.unwrap();
        let (res, peeked) = a.peek_from(Vec::with_capacity(64)).await;
        let (n, from) = res.unwrap();
        assert_eq!(
            (&peeked[..n], from),
            (&b"twice"[..], b.local_addr().unwrap())
        );
        let (n, buf) = a.recv(Vec::with_capacity(64)).await;
        assert_eq!(&buf[..n.unwrap()], b"twice", "{name}");
    });
}

#[test]
fn many_datagrams_arrive_once_each_through_recv_buf_from() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "udp burst", |name| async move {
        let server = UdpSocket::bind(local()).unwrap();
        let client = UdpSocket::bind(local()).unwrap();
        let to = server.local_addr().unwrap();
        let mut rng = Rng::new(7);
        const ROUNDS: u32 = 40;
        const BURST: u32 = 32;
        for round in 0..ROUNDS {
            // A burst well inside the default receive buffer: loopback
            // drops nothing, so every datagram must arrive exactly once.
            for i in 0..BURST {
                let len = rng.below(1200) as usize;
                let (res, _) = client.send_to(datagram(round * BURST + i, len), to).await;
                res.unwrap();
            }
            let mut seen = BTreeSet::new();
            while seen.len() < BURST as usize {
                let (buf, from) = server.recv_buf_from().await.unwrap();
                assert_eq!(from, client.local_addr().unwrap(), "{name}");
                let pooled = on_epoll() || uringo::features().multishot_recv;
                assert_eq!(buf.is_provided(), pooled, "{name}: in a pool buffer");
                let seq = check_datagram(&buf);
                assert!(seq / BURST == round, "{name}: {seq} from another round");
                assert!(seen.insert(seq), "{name}: datagram {seq} twice");
            }
        }
    });
}

#[test]
fn oversized_datagrams_are_errors_and_empty_ones_arrive() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "udp oversized", |name| async move {
        let server = UdpSocket::bind(local()).unwrap();
        let client = UdpSocket::bind(local()).unwrap();
        let to = server.local_addr().unwrap();
        // Larger than a pool buffer (4 KiB) and than the single-shot
        // fallback's buffer (16 KiB).
        let (res, _) = client.send_to(vec![9u8; 30_000], to).await;
        res.unwrap();
        let (res, _) = client.send_to(b"small".to_vec(), to).await;
        res.unwrap();
        let err = server.recv_buf_from().await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{name}: {err}");
        assert!(err.to_string().contains("30000"), "{name}: {err}");
        let (buf, _) = server.recv_buf_from().await.unwrap();
        assert_eq!(&buf[..], b"small", "{name}");
        // An empty datagram is a datagram, not an end of stream.
        let (res, _) = client.send_to(Vec::new(), to).await;
        res.unwrap();
        let (buf, from) = server.recv_buf_from().await.unwrap();
        assert_eq!(
            (buf.len(), from),
            (0, client.local_addr().unwrap()),
            "{name}"
        );
    });
}

#[test]
fn options_read_back_what_was_set() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "udp options", |name| async move {
        let socket = UdpSocket::bind(local()).unwrap();
        socket.set_broadcast(true).unwrap();
        assert!(socket.broadcast().unwrap(), "{name}");
        socket.set_ttl(17).unwrap();
        assert_eq!(socket.ttl().unwrap(), 17, "{name}");
        assert!(socket.take_error().unwrap().is_none(), "{name}");
        let v6 = UdpSocket::bind("[::1]:0".parse().unwrap()).unwrap();
        assert!(v6.local_addr().unwrap().is_ipv6(), "{name}");
    });
}

#[test]
fn dropped_pending_recv_from_keeps_its_buffer_until_the_kernel_lets_go() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "udp dropped recv_from", |name| async move {
        let fds = open_fds();
        let socket = UdpSocket::bind(local()).unwrap();
        let base = ops_in_flight();
        let token = Arc::new(());
        let mut recv = Box::pin(socket.recv_from(ArcBuf::new(64, &token)));
        assert!(poll_once(&mut recv).await.is_pending(), "{name}");
        uringo::op::nop().await.unwrap();
        drop(recv);
        if !on_epoll() {
            assert_eq!(
                Arc::strong_count(&token),
                2,
                "{name}: freed under the kernel"
            );
        }
        tick_until(100, name, || Arc::strong_count(&token) == 1).await;
        assert_eq!(ops_in_flight(), base, "{name}: slot not freed");
        // The cancelled receive took nothing.
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sender
            .send_to(b"after", socket.local_addr().unwrap())
            .unwrap();
        let (res, buf) = socket.recv_from(Vec::with_capacity(16)).await;
        assert_eq!(&buf[..res.unwrap().0], b"after", "{name}");
        drop((socket, sender));
        tick_until(100, name, || open_fds() == fds).await;
    });
}

#[test]
fn recv_buf_from_is_cancel_safe_and_a_dropped_socket_closes_its_fd() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "udp dropped multishot", |name| async move {
        let fds = open_fds();
        let base = ops_in_flight();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for round in 0..10u8 {
            let socket = UdpSocket::bind(local()).unwrap();
            let mut recv = Box::pin(socket.recv_buf_from());
            assert!(poll_once(&mut recv).await.is_pending(), "{name}");
            uringo::op::nop().await.unwrap();
            drop(recv);
            // Cancel-safe: what arrives after the dropped call goes to the next.
            sender
                .send_to(&[round], socket.local_addr().unwrap())
                .unwrap();
            let (buf, _) = socket.recv_buf_from().await.unwrap();
            assert_eq!(&buf[..], &[round], "{name}");
            // Dropped while armed again, with a datagram the kernel may
            // already have put in a pool buffer.
            let mut recv = Box::pin(socket.recv_buf_from());
            assert!(poll_once(&mut recv).await.is_pending(), "{name}");
            sender
                .send_to(&[round], socket.local_addr().unwrap())
                .unwrap();
            uringo::op::nop().await.unwrap();
            drop(recv);
            drop(socket);
        }
        drop(sender);
        tick_until(100, name, || open_fds() == fds && ops_in_flight() == base).await;
    });
}

#[test]
fn pool_buffers_of_a_dropped_socket_come_back() {
    let _fds = fd_lock();
    support::within(LIMIT, "udp pool buffers", || {
        for (name, builder) in support::builders() {
            // Two pool buffers, both needed at once at the end: one leaked
            // buffer starves the last receive.
            let rt = builder.recv_buffers(2, 2048).build().unwrap();
            rt.block_on(async move {
                let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                for _ in 0..4 {
                    let socket = UdpSocket::bind(local()).unwrap();
                    let to = socket.local_addr().unwrap();
                    sender.send_to(b"one", to).unwrap();
                    let (first, _) = socket.recv_buf_from().await.unwrap();
                    assert_eq!(&first[..], b"one", "{name}");
                    // Received into the other pool buffer while nobody asks.
                    sender.send_to(b"two", to).unwrap();
                    uringo::op::nop().await.unwrap();
                    drop(socket);
                    drop(first);
                }
                let socket = UdpSocket::bind(local()).unwrap();
                let to = socket.local_addr().unwrap();
                let mut held = Vec::new();
                for _ in 0..2 {
                    sender.send_to(b"last", to).unwrap();
                    let received = uringo::time::timeout(LIMIT / 4, socket.recv_buf_from()).await;
                    let (buf, _) = received.expect("a pool buffer leaked").unwrap();
                    assert_eq!(&buf[..], b"last", "{name}");
                    held.push(buf);
                }
            });
        }
    });
}

#[test]
fn an_icmp_error_is_reported_once_and_the_socket_goes_on() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "udp refused", |name| async move {
        let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let dead_addr = dead.local_addr().unwrap();
        drop(dead);
        let socket = UdpSocket::bind(local()).unwrap();
        socket.connect(dead_addr).unwrap();
        let (res, _) = socket.send(b"anyone?".to_vec()).await;
        res.unwrap();
        // The port unreachable comes back as the next receive's error...
        let err = socket.recv_buf_from().await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{name}");
        // ...and the (re-armed) receive then goes on.
        let peer = UdpSocket::bind(local()).unwrap();
        socket.connect(peer.local_addr().unwrap()).unwrap();
        let (res, _) = peer
            .send_to(b"alive".to_vec(), socket.local_addr().unwrap())
            .await;
        res.unwrap();
        let (buf, from) = socket.recv_buf_from().await.unwrap();
        assert_eq!(
            (&buf[..], from),
            (&b"alive"[..], peer.local_addr().unwrap()),
            "{name}"
        );
    });
}
