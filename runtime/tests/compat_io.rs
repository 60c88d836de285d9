//! The poll-based I/O contract of `compat::TcpStream`: seeded random
//! sequences of write / vectored write / flush / read / shutdown on both
//! ends of a connection, through the tokio and the futures-io traits in
//! turn, checked against an in-memory model of each direction (what was
//! accepted must arrive, in order, once; end of stream only after it all).
//! Runs under every forced fallback (support::builders).

mod support;

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use support::{on_each_builder, tcp_pair, Rng};
use uringo::compat::TcpStream;

const LIMIT: Duration = Duration::from_secs(60);
const SEEDS: u64 = 12;
const STEPS: usize = 150;
/// Unread bytes allowed per direction, well under loopback's socket
/// buffers, so an unread peer never blocks a write forever.
const MAX_UNREAD: usize = 48 * 1024;

/// One direction of the connection as the model sees it.
#[derive(Default)]
struct Direction {
    unread: VecDeque<u8>,
    shut_down: bool,
    eof_seen: bool,
}

async fn write(s: &mut TcpStream, data: &[u8], rng: &mut Rng) -> std::io::Result<usize> {
    match rng.below(3) {
        0 => poll_fn(|cx| tokio::io::AsyncWrite::poll_write(Pin::new(&mut *s), cx, data)).await,
        1 => poll_fn(|cx| futures_io::AsyncWrite::poll_write(Pin::new(&mut *s), cx, data)).await,
        _ => {
            let mid = rng.below(data.len() as u64 + 1) as usize;
            let bufs = [IoSlice::new(&data[..mid]), IoSlice::new(&data[mid..])];
            poll_fn(|cx| tokio::io::AsyncWrite::poll_write_vectored(Pin::new(&mut *s), cx, &bufs))
                .await
        }
    }
}

async fn flush(s: &mut TcpStream) -> std::io::Result<()> {
    poll_fn(|cx| tokio::io::AsyncWrite::poll_flush(Pin::new(&mut *s), cx)).await
}

async fn shutdown(s: &mut TcpStream, rng: &mut Rng) -> std::io::Result<()> {
    if rng.below(2) == 0 {
        poll_fn(|cx| tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut *s), cx)).await
    } else {
        poll_fn(|cx| futures_io::AsyncWrite::poll_close(Pin::new(&mut *s), cx)).await
    }
}

/// Reads up to `room` bytes from `reader` while driving `writer`'s flush,
/// so a write still in flight on the other end makes progress.
async fn read(reader: &mut TcpStream, writer: &mut TcpStream, room: usize, tokio: bool) -> Vec<u8> {
    let mut buf = vec![0u8; room];
    let mut flushed = false;
    let n = poll_fn(|cx| {
        if !flushed {
            if let Poll::Ready(res) = tokio::io::AsyncWrite::poll_flush(Pin::new(&mut *writer), cx)
            {
                res.unwrap();
                flushed = true;
            }
        }
        if tokio {
            let mut rb = tokio::io::ReadBuf::new(&mut buf);
            tokio::io::AsyncRead::poll_read(Pin::new(&mut *reader), cx, &mut rb)
                .map_ok(|()| rb.filled().len())
        } else {
            futures_io::AsyncRead::poll_read(Pin::new(&mut *reader), cx, &mut buf)
        }
    })
    .await
    .unwrap();
    buf.truncate(n);
    buf
}

/// One random step on end `from` (writing towards the other end) or a
/// read on end `from` of what the other end sent.
async fn step(ends: &mut [TcpStream; 2], model: &mut [Direction; 2], from: usize, rng: &mut Rng) {
    let to = 1 - from;
    let [a, b] = ends;
    let (me, peer) = if from == 0 { (a, b) } else { (b, a) };
    match rng.below(10) {
        0..=3 if !model[from].shut_down => {
            let len = 1 + rng.below(8192) as usize;
            if model[from].unread.len() + len > MAX_UNREAD {
                return;
            }
            let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let n = write(me, &data, rng).await.unwrap();
            assert!(n > 0 && n <= len, "accepted {n} of {len}");
            model[from].unread.extend(&data[..n]);
        }
        4 => flush(me).await.unwrap(),
        5 if !model[from].shut_down && rng.below(8) == 0 => {
            shutdown(me, rng).await.unwrap();
            model[from].shut_down = true;
        }
        5 if model[from].shut_down => {
            let err = write(me, b"x", rng).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
        }
        _ => {
            // Read what `to` sent us, if there is anything or its end.
            let dir = &mut model[to];
            if dir.unread.is_empty() && (!dir.shut_down || dir.eof_seen) {
                return;
            }
            let room = 1 + rng.below(5000) as usize;
            let got = read(me, peer, room, rng.below(2) == 0).await;
            if got.is_empty() {
                assert!(
                    dir.unread.is_empty() && dir.shut_down,
                    "early end of stream"
                );
                dir.eof_seen = true;
            }
            assert!(got.len() <= room);
            let expected: Vec<u8> = dir.unread.drain(..got.len()).collect();
            assert_eq!(got, expected, "bytes differ from the model");
        }
    }
}

/// Drains both directions to their end and checks nothing is missing.
async fn finish(ends: &mut [TcpStream; 2], model: &mut [Direction; 2], rng: &mut Rng) {
    for (end, dir) in ends.iter_mut().zip(model.iter_mut()) {
        if !dir.shut_down {
            shutdown(end, rng).await.unwrap();
            dir.shut_down = true;
        }
    }
    for (from, dir) in model.iter_mut().enumerate() {
        while !dir.eof_seen {
            let [a, b] = &mut *ends;
            let (writer, reader) = if from == 0 { (a, b) } else { (b, a) };
            let got = read(reader, writer, 4096, true).await;
            if got.is_empty() {
                dir.eof_seen = true;
            }
            let expected: Vec<u8> = dir.unread.drain(..got.len()).collect();
            assert_eq!(got, expected, "bytes differ from the model");
        }
        assert!(dir.unread.is_empty(), "bytes lost from end {from}");
    }
}

#[test]
fn random_sequences_match_the_reference_model() {
    let _fds = support::fd_lock();
    on_each_builder(LIMIT, "compat io model", |name| async move {
        for seed in 1..=SEEDS {
            let mut rng = Rng::new(seed * 7919);
            let (a, b) = tcp_pair();
            let mut ends = [TcpStream::new(a), TcpStream::new(b)];
            let mut model = [Direction::default(), Direction::default()];
            for _ in 0..STEPS {
                let from = rng.below(2) as usize;
                step(&mut ends, &mut model, from, &mut rng).await;
            }
            finish(&mut ends, &mut model, &mut rng).await;
            eprintln!("{name}: seed {seed} ok");
        }
    });
}

/// Dropping a compat stream with a read pending and a write in flight (its
/// peer not reading, so the kernel holds part of it) cancels both like the
/// native API: nothing leaks, the socket closes, the peer sees the end.
#[test]
fn dropped_mid_read_and_mid_write_leaks_nothing() {
    let _fds = support::fd_lock();
    on_each_builder(LIMIT, "compat drop", |name| async move {
        let baseline = support::open_fds();
        let (a, b) = tcp_pair();
        let mut a = TcpStream::new(a);
        let mut buf = [0u8; 16];
        let mut read_buf = tokio::io::ReadBuf::new(&mut buf);
        let read = poll_fn(|cx| {
            let polled = tokio::io::AsyncRead::poll_read(Pin::new(&mut a), cx, &mut read_buf);
            Poll::Ready(polled.is_pending())
        });
        assert!(read.await, "{name}: nothing was sent, so the read waits");
        let big = vec![7u8; 4 * 1024 * 1024];
        let mut accepted = 0;
        while accepted < big.len() {
            let n = write(&mut a, &big[accepted..], &mut Rng::new(3))
                .await
                .unwrap();
            accepted += n;
            let flushed = poll_fn(|cx| {
                let flushed = tokio::io::AsyncWrite::poll_flush(Pin::new(&mut a), cx);
                Poll::Ready(flushed.is_ready())
            });
            if !flushed.await {
                break; // the kernel's buffers are full: a write is in flight
            }
        }
        assert!(
            accepted < big.len(),
            "{name}: the peer never read, so a write must be stuck"
        );
        drop(a);
        let mut received = 0;
        while let Ok(Some(chunk)) = b.recv().await {
            received += chunk.len();
        }
        assert!(
            received <= accepted,
            "{name}: more arrived than was accepted"
        );
        drop(b);
        support::tick_until(100_000, "sockets closed", || {
            support::open_fds() <= baseline
        })
        .await;
    });
}

/// The split halves in two tasks of one core: the write half sends back
/// what the read half read, through a channel, until the peer's end.
#[test]
fn split_halves_in_two_tasks() {
    let _fds = support::fd_lock();
    on_each_builder(LIMIT, "compat split", |name| async move {
        let (a, b) = tcp_pair();
        let (mut read, mut write) = TcpStream::new(a).into_split();
        let (chunks_tx, chunks_rx) = uringo::chan::<Vec<u8>>(4);
        let reader = uringo::spawn(async move {
            loop {
                let mut buf = [0u8; 1000];
                let n = poll_fn(|cx| {
                    futures_io::AsyncRead::poll_read(Pin::new(&mut read), cx, &mut buf)
                })
                .await
                .unwrap();
                if n == 0 {
                    return;
                }
                chunks_tx.send(buf[..n].to_vec()).await.unwrap();
            }
        });
        let writer = uringo::spawn(async move {
            while let Some(chunk) = chunks_rx.recv().await {
                let mut sent = 0;
                while sent < chunk.len() {
                    sent += poll_fn(|cx| {
                        tokio::io::AsyncWrite::poll_write(Pin::new(&mut write), cx, &chunk[sent..])
                    })
                    .await
                    .unwrap();
                }
            }
            poll_fn(|cx| tokio::io::AsyncWrite::poll_flush(Pin::new(&mut write), cx))
                .await
                .unwrap();
        });
        let message: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let (res, _) = b.write_all(message.clone()).await;
        res.unwrap();
        b.shutdown(std::net::Shutdown::Write).unwrap();
        let mut echoed = Vec::new();
        while let Some(chunk) = b.recv().await.unwrap() {
            echoed.extend_from_slice(&chunk);
        }
        assert_eq!(echoed, message, "{name}");
        reader.await;
        writer.await;
    });
}
