//! Shared by the compat_* tests: the axum app they serve, a server on a
//! runtime, hyper clients, bodies with known bytes, and curl.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{Command, Output};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Frame;
use uringo::chan::{chan, Receiver, Sender};
use uringo::compat::{LocalExecutor, TcpStream};

/// FNV-1a over a byte stream, so the server can prove it saw every byte.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Digest {
    pub len: u64,
    pub hash: u64,
}

impl Digest {
    pub fn new() -> Digest {
        Digest {
            len: 0,
            hash: 0xcbf2_9ce4_8422_2325,
        }
    }
    pub fn update(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        for &b in bytes {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    pub fn line(&self) -> String {
        format!("{} {:016x}", self.len, self.hash)
    }
}

/// The handles of the /hold route: `started` yields once per request that
/// reached the handler; each value sent on `release` lets one finish.
#[derive(Clone)]
pub struct Hold {
    started: Sender<()>,
    release: Receiver<()>,
}

pub struct HoldControl {
    pub started: Receiver<()>,
    pub release: Sender<()>,
}

/// The app under test: `/hello`, `/sum` (digest of the request body, read
/// as a stream) and `/hold` (waits to be released).
pub fn app() -> (Router, HoldControl) {
    let (started_tx, started_rx) = chan(64);
    let (release_tx, release_rx) = chan(64);
    let hold = Hold {
        started: started_tx,
        release: release_rx,
    };
    let router = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route("/sum", post(sum))
        .route("/hold", get(held))
        .with_state(hold);
    let control = HoldControl {
        started: started_rx,
        release: release_tx,
    };
    (router, control)
}

async fn sum(body: Body) -> Result<String, String> {
    let mut body = body;
    let mut digest = Digest::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Some(data) = frame.data_ref() {
            digest.update(data);
        }
    }
    Ok(digest.line())
}

async fn held(State(hold): State<Hold>) -> &'static str {
    hold.started.send(()).await.unwrap();
    hold.release.recv().await.unwrap();
    "released"
}

/// A request body of `len` seeded pseudo-random bytes in chunks of up to
/// `chunk` bytes, streamed (chunked encoding), and the digest it must have.
pub struct RandomBody {
    state: u64,
    left: usize,
    chunk: usize,
}

impl RandomBody {
    pub fn new(seed: u64, len: usize, chunk: usize) -> (RandomBody, Digest) {
        let mut body = RandomBody {
            state: seed.max(1),
            left: len,
            chunk,
        };
        let mut digest = Digest::new();
        let mut copy = RandomBody { ..body };
        while let Some(bytes) = copy.next_chunk() {
            digest.update(&bytes);
        }
        body.left = len;
        (body, digest)
    }

    fn next_chunk(&mut self) -> Option<Bytes> {
        if self.left == 0 {
            return None;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let n = (self.state as usize % self.chunk + 1).min(self.left);
        self.left -= n;
        let fill = self.state.to_le_bytes();
        Some(Bytes::from_iter((0..n).map(|i| fill[i % 8] ^ (i as u8))))
    }
}

impl hyper::body::Body for RandomBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.next_chunk().map(|b| Ok(Frame::data(b))))
    }
}

/// An HTTP/1.1 client connection on uringo; its driver runs as a task.
pub async fn http1_client<B>(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<B>
where
    B: hyper::body::Body + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
    drop(uringo::spawn(conn));
    sender
}

/// An HTTP/2 client connection (prior knowledge, no TLS) on uringo.
pub async fn http2_client(
    addr: SocketAddr,
) -> hyper::client::conn::http2::SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http2::handshake(LocalExecutor, stream)
        .await
        .unwrap();
    drop(uringo::spawn(conn));
    sender
}

/// GET `path`; the status and the whole body.
pub async fn get_with<B: Default + hyper::body::Body + 'static>(
    sender: &mut hyper::client::conn::http1::SendRequest<B>,
    addr: SocketAddr,
    path: &str,
) -> (u16, String) {
    poll_fn(|cx| sender.poll_ready(cx)).await.unwrap();
    let req = hyper::Request::get(format!("http://{addr}{path}"))
        .header("host", addr.to_string())
        .body(B::default())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// Runs curl with `args` off the cores (curl blocks). Under CI a missing
/// curl fails the test; elsewhere it returns None and the caller skips.
pub async fn curl(args: Vec<String>) -> Option<Output> {
    let out = uringo::spawn_blocking(move || Command::new("curl").args(&args).output()).await;
    match out {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && std::env::var_os("CI").is_none() => {
            eprintln!("curl not installed: skipping the curl checks (CI would fail here)");
            None
        }
        Err(e) => panic!("cannot run curl (listed in .ci/packages): {e}"),
    }
}

/// A runtime of `cores` unpinned cores.
pub fn runtime(cores: usize) -> uringo::Runtime {
    uringo::Builder::new()
        .cores(cores)
        .pin(false)
        .build()
        .unwrap()
}

/// Number of open fds of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}
