//! `TcpStream::write_behind`: background writes of received buffers, under
//! every forced fallback (support::builders). Bytes go out whole and in
//! order, short sends finish while the task waits in `recv`, errors reach
//! the next call, `close` flushes, and a send that goes through in full
//! does not wake its task (one poll per echo, not two).

mod support;

use std::cell::Cell;
use std::future::Future;
use std::io::{Read, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use support::{fd_lock, on_each_builder, tcp_pair};
use uringo::net::TcpStream;

const LIMIT: Duration = Duration::from_secs(60);

/// Echoes with `write_behind` until end of stream, then closes.
async fn echo_behind(stream: TcpStream) {
    while let Some(buf) = stream.recv().await.unwrap() {
        stream.write_behind(buf).await.unwrap();
    }
    stream.close().await.unwrap();
}

/// Counts the polls of the future it wraps.
struct CountPolls<F> {
    fut: Pin<Box<F>>,
    polls: Rc<Cell<u32>>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.fut.as_mut().poll(cx)
    }
}

#[test]
fn echoes_every_byte_in_order_through_short_sends() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "write_behind order", |name| async move {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // A small send buffer on the server side makes its sends short.
        let client = std::thread::spawn(move || {
            let mut conn = std::net::TcpStream::connect(addr).unwrap();
            let data: Vec<u8> = (0..400_000u32).map(|i| (i % 251) as u8).collect();
            let mut reader = conn.try_clone().unwrap();
            let expect = data.clone();
            let read = std::thread::spawn(move || {
                let mut got = Vec::new();
                reader.read_to_end(&mut got).unwrap();
                got
            });
            conn.write_all(&data).unwrap();
            conn.shutdown(std::net::Shutdown::Write).unwrap();
            let got = read.join().unwrap();
            assert_eq!(got.len(), expect.len());
            assert!(got == expect, "echo out of order or corrupted");
        });
        let (server, _) = listener.accept().unwrap();
        socket2::SockRef::from(&server)
            .set_send_buffer_size(4096)
            .unwrap();
        echo_behind(TcpStream::from_std(server)).await;
        // Joined off the runtime's thread's hot path: the client is done
        // once the server has closed.
        client.join().expect(name);
    });
}

#[test]
fn a_send_that_goes_through_in_full_wakes_nobody() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "write_behind polls", |name| async move {
        const MESSAGES: u32 = 50;
        let (client, server) = tcp_pair();
        let polls = Rc::new(Cell::new(0));
        let task = uringo::spawn(CountPolls {
            fut: Box::pin(echo_behind(server)),
            polls: polls.clone(),
        });
        for i in 0..MESSAGES {
            let (res, _) = client.write_all(vec![i as u8; 64]).await;
            res.unwrap();
            let (res, buf) = client.read_exact(vec![0u8; 64]).await;
            res.unwrap();
            assert!(buf.iter().all(|&b| b == i as u8), "{name}");
        }
        let before_close = polls.get();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        task.await;
        // One poll per message (its arrival) and the first one; a send
        // that woke the task would double it.
        assert!(
            before_close <= MESSAGES + 4,
            "{name}: {before_close} polls for {MESSAGES} echoes"
        );
    });
}

#[test]
fn an_error_of_a_background_send_reaches_flush_behind() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "write_behind error", |name| async move {
        let (client, server) = tcp_pair();
        let (res, _) = client.write_all(b"x".to_vec()).await;
        res.unwrap();
        let buf = server.recv().await.unwrap().expect("one byte");
        client.set_linger(Some(Duration::ZERO)).unwrap();
        drop(client); // RST
                      // The reset shows up at the server's next receive.
        while let Ok(Some(_)) = server.recv().await {}
        let flushed = match server.write_behind(buf).await {
            Err(e) => Err(e),
            Ok(()) => server.flush_behind().await,
        };
        let err = flushed.expect_err("a send to a reset peer fails");
        assert!(
            matches!(
                err.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ),
            "{name}: {err}"
        );
        // Reported once; the stream still closes.
        server.flush_behind().await.unwrap();
        server.close().await.unwrap();
    });
}

#[test]
fn close_sends_what_is_still_in_flight() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "write_behind close", |name| async move {
        let (mut client, server) = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (server, _) = listener.accept().unwrap();
            (client, TcpStream::from_std(server))
        };
        client.write_all(&[7u8; 1000]).unwrap();
        let mut echoed = 0;
        while echoed < 1000 {
            let buf = server.recv().await.unwrap().expect("data");
            echoed += buf.len();
            server.write_behind(buf).await.unwrap();
        }
        server.close().await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).unwrap();
        assert_eq!(got, vec![7u8; 1000], "{name}");
    });
}
