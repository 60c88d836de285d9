//! HTTP on uringo through the compat layer: an axum app served by
//! `compat::Server` on two cores answers real curl and hyper's client
//! (HTTP/1.1 keep-alive, pipelining, chunked bodies up to 16 MiB with
//! their bytes verified, 1,000 concurrent connections, clients that vanish
//! mid-request, graceful shutdown) and HTTP/2 by prior knowledge with
//! concurrent streams.

mod compat;
mod support;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use compat::{app, curl, http1_client, http2_client, open_fds, HoldControl};
use http_body_util::{BodyExt, Empty};
use uringo::chan::{chan, Sender};
use uringo::compat::Server;
use uringo::JoinHandle;

const LIMIT: Duration = Duration::from_secs(60);
const MIB: usize = 1024 * 1024;

/// Two cores on io_uring with the kernel features the layer uses
/// (multishot recv into provided buffers), on io_uring without any of
/// them, and on epoll.
///
/// The SQ is made large enough for every op of 1,000 connections: a
/// runtime dropped with more ops in flight than its SQ holds trips a
/// driver bug (cancel_all indexes slots that the reap of a full-SQ flush
/// already freed).
fn runtimes() -> Vec<uringo::Runtime> {
    let base = || {
        uringo::Builder::new()
            .cores(2)
            .pin(false)
            .ring_entries(4096)
            .backend(uringo::Backend::IoUring)
    };
    let fallbacks = base()
        .multishot(false)
        .provided_buffers(false)
        .defer_taskrun(false)
        .msg_ring(false);
    let epoll = base().backend(uringo::Backend::Epoll);
    [base(), fallbacks, epoll]
        .into_iter()
        .map(|builder| builder.build().unwrap())
        .collect()
}

/// Serves the app on each of [`runtimes`], runs `f` against it, then shuts
/// the server down and waits for it to drain.
fn with_server<F, Fut>(what: &'static str, f: F)
where
    F: Fn(SocketAddr, HoldControl) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let _serial = support::fd_lock(); // fd counts and 1,000 sockets: one test at a time
    support::within(LIMIT, what, move || {
        for runtime in runtimes() {
            runtime.block_on(serve_and(&f));
        }
    });
}

async fn serve_and<F, Fut>(f: &F)
where
    F: Fn(SocketAddr, HoldControl) -> Fut,
    Fut: Future<Output = ()>,
{
    let (addr, control, stop, served) = start_server();
    f(addr, control).await;
    stop.close();
    served.await;
}

/// Serves the app on this runtime until `stop` closes.
fn start_server() -> (SocketAddr, HoldControl, Sender<()>, JoinHandle<()>) {
    let (router, control) = app();
    let (stop_tx, stop_rx) = chan::<()>(0);
    let server = Server::bind("127.0.0.1:0".parse().unwrap())
        .unwrap()
        .with_graceful_shutdown(async move {
            let _ = stop_rx.recv().await;
        });
    let addr = server.local_addr();
    (addr, control, stop_tx, uringo::spawn(server.serve(router)))
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

#[test]
fn curl_keep_alive_chunked_upload_and_h2c() {
    with_server("curl", |addr, _| async move {
        let two_gets = vec![
            "-s".into(),
            "-w".into(),
            " %{http_code} %{num_connects}\n".into(),
            url(addr, "/hello"),
            url(addr, "/hello"),
        ];
        let Some(out) = curl(two_gets).await else {
            return;
        };
        assert!(out.status.success(), "curl: {out:?}");
        // The second request reuses the first one's connection.
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello 200 1\nhello 200 0\n"
        );

        let (mut body, digest) = compat::RandomBody::new(7, 16 * MIB, 70_000);
        let path = std::env::temp_dir().join(format!("uringo-compat-{}.bin", std::process::id()));
        let mut bytes = Vec::with_capacity(16 * MIB);
        while let Some(frame) = body.frame().await {
            bytes.extend_from_slice(&frame.unwrap().into_data().unwrap());
        }
        std::fs::write(&path, &bytes).unwrap();
        let upload = vec![
            "-s".into(),
            "-H".into(),
            "Transfer-Encoding: chunked".into(),
            "--data-binary".into(),
            format!("@{}", path.display()),
            url(addr, "/sum"),
        ];
        let out = curl(upload).await.unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), digest.line());

        let h2 = vec![
            "-s".into(),
            "--http2-prior-knowledge".into(),
            "-w".into(),
            " %{http_version}\n".into(),
            url(addr, "/hello"),
        ];
        let out = curl(h2).await.unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello 2\n");
    });
}

#[test]
fn hyper_client_keep_alive_and_streamed_bodies() {
    with_server("hyper client", |addr, _| async move {
        let mut gets = http1_client::<Empty<Bytes>>(addr).await;
        for _ in 0..20 {
            assert_eq!(
                compat::get_with(&mut gets, addr, "/hello").await,
                (200, "hello".into())
            );
        }
        let mut posts = http1_client::<compat::RandomBody>(addr).await;
        for (seed, len) in [(1, 0), (2, 1), (3, 100_000), (4, 16 * MIB)] {
            let (body, digest) = compat::RandomBody::new(seed, len, 64 * 1024);
            std::future::poll_fn(|cx| posts.poll_ready(cx))
                .await
                .unwrap();
            let req = hyper::Request::post(url(addr, "/sum"))
                .header("host", addr.to_string())
                .body(body)
                .unwrap();
            let resp = posts.send_request(req).await.unwrap();
            assert_eq!(resp.status(), 200);
            let got = resp.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(got, digest.line().as_bytes(), "body of {len} bytes");
        }
    });
}

/// Reads from `conn` until `count` responses ending in `hello` arrived.
async fn read_hellos(conn: &uringo::net::TcpStream, count: usize) -> String {
    let mut text = String::new();
    while text.matches("\r\n\r\nhello").count() < count {
        let chunk = conn.recv().await.unwrap().expect("server closed early");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    text
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    with_server("pipelining", |addr, _| async move {
        let conn = uringo::net::TcpStream::connect(addr).await.unwrap();
        let one = format!("GET /hello HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        let (res, _) = conn.write_all(one.repeat(3).into_bytes()).await;
        res.unwrap();
        let text = read_hellos(&conn, 3).await;
        assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");
    });
}

#[test]
fn thousand_concurrent_connections() {
    const CONNS: usize = 1000;
    with_server("1000 connections", |addr, _| async move {
        let (done_tx, done_rx) = chan::<()>(CONNS);
        let (all_tx, all_rx) = chan::<()>(0);
        let mut clients = Vec::new();
        for _ in 0..CONNS {
            let (done_tx, all_rx) = (done_tx.clone(), all_rx.clone());
            clients.push(uringo::spawn(async move {
                let conn = uringo::net::TcpStream::connect(addr).await.unwrap();
                let req = format!("GET /hello HTTP/1.1\r\nHost: {addr}\r\n\r\n");
                let (res, _) = conn.write_all(req.into_bytes()).await;
                res.unwrap();
                read_hellos(&conn, 1).await;
                done_tx.send(()).await.unwrap();
                // Stay connected until every connection has its answer.
                assert!(all_rx.recv().await.is_none());
            }));
        }
        for _ in 0..CONNS {
            done_rx.recv().await.unwrap();
        }
        all_tx.close();
        for client in clients {
            client.await;
        }
    });
}

#[test]
fn clients_vanishing_mid_request_leak_nothing() {
    with_server("disconnects", |addr, _| async move {
        let baseline = open_fds();
        for i in 0..50 {
            let conn = uringo::net::TcpStream::connect(addr).await.unwrap();
            let head =
                format!("POST /sum HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100000\r\n\r\n");
            let (res, _) = conn
                .write_all([head.into_bytes(), vec![b'x'; 1000]].concat())
                .await;
            res.unwrap();
            if i % 2 == 0 {
                conn.set_linger(Some(Duration::ZERO)).unwrap(); // RST instead of FIN
            }
            drop(conn);
        }
        let mut client = http1_client::<Empty<Bytes>>(addr).await;
        assert_eq!(
            compat::get_with(&mut client, addr, "/hello").await,
            (200, "hello".into())
        );
        drop(client);
        support::tick_until(5_000_000, "server-side fds closed", || {
            open_fds() <= baseline
        })
        .await;
    });
}

#[test]
fn graceful_shutdown_finishes_requests_in_flight() {
    let _serial = support::fd_lock();
    support::within(LIMIT, "graceful shutdown", || {
        for runtime in runtimes() {
            runtime.block_on(graceful_shutdown());
        }
    });
}

async fn graceful_shutdown() {
    let (addr, control, stop_tx, served) = start_server();

    let mut idle = http1_client::<Empty<Bytes>>(addr).await;
    assert_eq!(compat::get_with(&mut idle, addr, "/hello").await.0, 200);
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut client = http1_client::<Empty<Bytes>>(addr).await;
        held.push(uringo::spawn(async move {
            compat::get_with(&mut client, addr, "/hold").await
        }));
        control.started.recv().await.unwrap();
    }

    stop_tx.close();
    refused(addr).await;
    assert!(!served.is_finished(), "the server waits for its requests");
    for _ in 0..3 {
        control.release.send(()).await.unwrap();
    }
    for request in held {
        assert_eq!(request.await, (200, "released".into()));
    }
    served.await;
    // The idle keep-alive connection was closed, not left waiting.
    assert!(std::future::poll_fn(|cx| idle.poll_ready(cx))
        .await
        .is_err());
}

/// Connects until the server refuses (its listeners are closed).
async fn refused(addr: SocketAddr) {
    for _ in 0..100_000 {
        match uringo::net::TcpStream::connect(addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return,
            _ => uringo::yield_now().await,
        }
    }
    panic!("the listeners still accept connections");
}

#[test]
fn http2_prior_knowledge_concurrent_streams() {
    with_server("h2c", |addr, control| async move {
        let client = http2_client(addr).await;
        let get = |path: &'static str| {
            let mut client = client.clone();
            uringo::spawn(async move {
                let req = hyper::Request::get(url(addr, path))
                    .body(Empty::new())
                    .unwrap();
                let resp = client.send_request(req).await.unwrap();
                let status = resp.status().as_u16();
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                (status, body)
            })
        };
        // Four handlers held open at once on one connection: concurrent streams.
        let held: Vec<_> = (0..4).map(|_| get("/hold")).collect();
        for _ in 0..4 {
            control.started.recv().await.unwrap();
        }
        let quick: Vec<_> = (0..64).map(|_| get("/hello")).collect();
        for stream in quick {
            assert_eq!(stream.await, (200, Bytes::from_static(b"hello")));
        }
        for _ in 0..4 {
            control.release.send(()).await.unwrap();
        }
        for stream in held {
            assert_eq!(stream.await, (200, Bytes::from_static(b"released")));
        }
    });
}

#[test]
fn binding_an_address_in_use_fails_at_bind() {
    support::within(LIMIT, "address in use", || {
        runtime_for_bind().block_on(async {
            let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let err = Server::bind(taken.local_addr().unwrap())
                .err()
                .expect("bind must fail");
            assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
        })
    });
}

fn runtime_for_bind() -> uringo::Runtime {
    uringo::Builder::new().cores(2).pin(false).build().unwrap()
}

#[test]
fn dropping_serve_stops_accepting() {
    let _serial = support::fd_lock();
    support::within(LIMIT, "dropped serve", || {
        runtime_for_bind().block_on(async {
            let (router, _control) = app();
            let server = Server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = server.local_addr();
            let serving = uringo::spawn(server.serve(router));
            let mut client = http1_client::<Empty<Bytes>>(addr).await;
            assert_eq!(compat::get_with(&mut client, addr, "/hello").await.0, 200);
            serving.abort();
            refused(addr).await;
        })
    });
}
