//! hyper on uringo without axum or `compat::serve`: its http1 server on a
//! `compat::TcpStream` with uringo's `Timer`, which must enforce hyper's
//! header-read timeout (the slow-client defence) on the core's wheel, and
//! hyper's client and server over a `compat::UnixStream` pair.

mod support;

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::Full;
use hyper::service::service_fn;
use uringo::compat::{TcpStream, Timer, UnixStream};
use uringo::net::TcpListener;

const LIMIT: Duration = Duration::from_secs(30);
const HEADER_TIMEOUT: Duration = Duration::from_millis(200);

#[test]
fn header_read_timeout_runs_on_the_wheel() {
    support::on_each_builder(LIMIT, "hyper timer", |name| async move {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = uringo::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let hello = service_fn(|_req| async {
                Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"hi"))))
            });
            hyper::server::conn::http1::Builder::new()
                .timer(Timer)
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TcpStream::new(stream), hello)
                .await
        });
        let client = uringo::net::TcpStream::connect(addr).await.unwrap();
        // A complete request is answered: the timer does not fire early.
        let (res, _) = client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())
            .await;
        res.unwrap();
        let answer = client.recv().await.unwrap().unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{name}");
        // Half a request head: hyper gives up once the timeout passes.
        let started = Instant::now();
        let (res, _) = client.write_all(b"GET / HTTP/1.1\r\nHo".to_vec()).await;
        res.unwrap();
        while let Ok(Some(bytes)) = client.recv().await {
            assert!(!bytes.starts_with(b"HTTP/1.1 200"), "{name}");
        }
        assert!(
            started.elapsed() >= HEADER_TIMEOUT,
            "{name}: closed before the timeout"
        );
        let served = server.await;
        assert!(served.is_err(), "{name}: hyper reports the timeout");
    });
}

#[test]
fn http1_over_a_unix_socket_pair() {
    support::on_each_builder(LIMIT, "hyper over unix", |name| async move {
        let (client_end, server_end) = UnixStream::pair().unwrap();
        let server = uringo::spawn(async move {
            let echo = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                let body = req.into_body().collect().await?.to_bytes();
                Ok::<_, hyper::Error>(hyper::Response::new(Full::new(body)))
            });
            hyper::server::conn::http1::Builder::new()
                .serve_connection(server_end, echo)
                .await
        });
        let (mut sender, conn) = hyper::client::conn::http1::handshake(client_end)
            .await
            .unwrap();
        let driver = uringo::spawn(conn);
        let payload = Bytes::from(vec![42u8; 200_000]);
        for _ in 0..3 {
            let req = hyper::Request::post("/")
                .header("host", "unix")
                .body(Full::new(payload.clone()))
                .unwrap();
            let resp = sender.send_request(req).await.unwrap();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, payload, "{name}");
        }
        drop(sender);
        driver.await.unwrap();
        server.await.unwrap();
    });
}
