//! `UnixListener`, `UnixStream` and `UnixDatagram` under every backend and
//! forced fallback (support::builders): round trips with byte
//! verification, the stream API shared with TCP, datagrams between paths
//! and pairs, socket files left in place on drop (as std does), and
//! cancellation (dropped accepts and reads leak no fd). Every test takes
//! `fd_lock`: the fd counts are of the whole process.

mod support;

use std::net::Shutdown;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::{fd_lock, on_each_builder, open_fds, poll_once, tick_until, ArcBuf, Rng};
use uringo::net::{UnixDatagram, UnixListener, UnixStream};

const LIMIT: Duration = Duration::from_secs(60);

/// A fresh directory for socket files, removed (with them) on drop.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("uringo-unix-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// Echoes every chunk back until the peer closes.
async fn echo(conn: Rc<UnixStream>) {
    while let Ok(Some(bytes)) = conn.recv().await {
        if conn.write_all(bytes).await.0.is_err() {
            return;
        }
    }
}

#[test]
fn stream_echo_round_trips_every_byte() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "unix echo", |name| async move {
        let dir = Dir::new();
        let path = dir.path("echo.sock");
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        let server = uringo::spawn(async move {
            let (conn, peer) = listener.accept().await.unwrap();
            assert!(peer.is_unnamed());
            echo(Rc::new(conn)).await;
        });
        let client = UnixStream::connect(&path).await.unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        let sent = random_bytes(1, 300_000);
        let writer = {
            let client = Rc::new(client);
            let reader = client.clone();
            let sent = sent.clone();
            uringo::spawn(async move {
                let (res, _) = client.write_all(sent).await;
                res.unwrap();
                client.shutdown(Shutdown::Write).unwrap();
            });
            reader
        };
        let mut got = Vec::new();
        while let Some(bytes) = writer.recv().await.unwrap() {
            got.extend_from_slice(&bytes);
        }
        assert!(got == sent, "{name}: echoed bytes differ");
        server.await;
    });
}

#[test]
fn stream_read_exact_peek_and_vectored_writes() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "unix stream api", |name| async move {
        let (a, b) = UnixStream::pair().unwrap();
        let parts: Vec<Vec<u8>> = (0..50).map(|i| random_bytes(i, 100 + i as usize)).collect();
        let whole: Vec<u8> = parts.concat();
        let (res, parts) = a.write_all_vectored(parts).await;
        res.unwrap();
        assert_eq!(parts.len(), 50, "{name}: buffers come back");
        let (n, peeked) = b.peek(Vec::with_capacity(10)).await;
        assert_eq!(&peeked[..n.unwrap()], &whole[..10], "{name}");
        let (res, buf) = b.read_exact(Vec::with_capacity(whole.len())).await;
        res.unwrap();
        assert!(buf == whole, "{name}: read_exact got other bytes");
        // read_exact at end of stream: an error, with what came so far.
        let (res, _) = a.write_all(b"short".to_vec()).await;
        res.unwrap();
        drop(a);
        let (res, buf) = b.read_exact(Vec::with_capacity(100)).await;
        let err = res.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{name}");
        assert_eq!(&buf[..], b"short", "{name}");
        assert!(b.recv().await.unwrap().is_none(), "{name}");
    });
}

#[test]
fn split_halves_work_in_two_tasks_and_dropping_the_writer_ends_the_stream() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "unix split", |name| async move {
        let (a, b) = UnixStream::pair().unwrap();
        let (read_half, write_half) = a.into_split();
        let writer = uringo::spawn(async move {
            let (res, _) = write_half
                .write_all_vectored(vec![b"split ".to_vec(), b"halves".to_vec()])
                .await;
            res.unwrap();
        });
        let (res, buf) = b.read_exact(Vec::with_capacity(12)).await;
        res.unwrap();
        assert_eq!(&buf[..], b"split halves", "{name}");
        writer.await;
        assert!(
            b.recv().await.unwrap().is_none(),
            "{name}: writer half dropped"
        );
        let (res, _) = b.write_all(b"back".to_vec()).await;
        res.unwrap();
        let (n, buf) = read_half.read(Vec::with_capacity(8)).await;
        assert_eq!(&buf[..n.unwrap()], b"back", "{name}");
    });
}

#[test]
fn incoming_yields_each_connection() {
    let _fds = fd_lock();
    use std::future::poll_fn;
    use std::pin::Pin;
    on_each_builder(LIMIT, "unix incoming", |name| async move {
        let dir = Dir::new();
        let path = dir.path("incoming.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let clients: Vec<_> = (0..5)
            .map(|_| std::os::unix::net::UnixStream::connect(&path).unwrap())
            .collect();
        let mut incoming = listener.incoming();
        for i in 0..clients.len() {
            let next = poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut incoming), cx));
            let conn = next.await.unwrap().unwrap();
            let (res, _) = conn.write_all(vec![i as u8]).await;
            res.unwrap();
        }
        let mut got: Vec<u8> = clients
            .into_iter()
            .map(|mut c| {
                let mut byte = [0u8];
                std::io::Read::read_exact(&mut c, &mut byte).unwrap();
                byte[0]
            })
            .collect();
        got.sort();
        assert_eq!(got, vec![0, 1, 2, 3, 4], "{name}");
    });
}

#[test]
fn socket_files_stay_after_drop_as_with_std() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "unix socket file", |name| async move {
        let dir = Dir::new();
        let path = dir.path("stays.sock");
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists(), "{name}: the socket file is left in place");
        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{name}");
        std::fs::remove_file(&path).unwrap();
        UnixListener::bind(&path).unwrap();
        // Connecting to nothing is an error, not a hang.
        let err = UnixStream::connect(dir.path("absent.sock"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{name}");
    });
}

#[test]
fn datagrams_between_paths_pairs_and_connected_sockets() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "unix datagrams", |name| async move {
        let dir = Dir::new();
        let (server_path, client_path) = (dir.path("server.sock"), dir.path("client.sock"));
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::bind(&client_path).unwrap();
        for seq in 0..20u64 {
            let sent = random_bytes(seq + 1, 10 + seq as usize * 97);
            let (n, _) = client.send_to(sent.clone(), &server_path).await;
            assert_eq!(n.unwrap(), sent.len(), "{name}");
            let (res, buf) = server.recv_from(Vec::with_capacity(4096)).await;
            let (n, from) = res.unwrap();
            assert_eq!(from.as_pathname(), Some(client_path.as_path()), "{name}");
            assert_eq!(&buf[..n], &sent[..], "{name}");
            // Back through the pool, to the sender's path.
            let (res, _) = server.send_to(buf, from.as_pathname().unwrap()).await;
            res.unwrap();
            let (echoed, from) = client.recv_buf_from().await.unwrap();
            assert_eq!(from.as_pathname(), Some(server_path.as_path()), "{name}");
            assert_eq!(&echoed[..], &sent[..], "{name}");
        }

        // An unbound socket can send; its datagrams come from no name.
        let unbound = UnixDatagram::unbound().unwrap();
        let (res, _) = unbound.send_to(b"anonymous".to_vec(), &server_path).await;
        res.unwrap();
        let (res, buf) = server.recv_from(Vec::with_capacity(64)).await;
        let (n, from) = res.unwrap();
        assert!(from.is_unnamed(), "{name}: {from:?}");
        assert_eq!(&buf[..n], b"anonymous", "{name}");

        // Connected: send/recv without addresses.
        unbound.connect(&server_path).unwrap();
        assert_eq!(
            unbound.peer_addr().unwrap().as_pathname(),
            Some(server_path.as_path())
        );
        let (res, _) = unbound.send(b"connected".to_vec()).await;
        res.unwrap();
        let (n, buf) = server.recv(Vec::with_capacity(64)).await;
        assert_eq!(&buf[..n.unwrap()], b"connected", "{name}");

        // A pair, many datagrams each way, boundaries kept.
        let (a, b) = UnixDatagram::pair().unwrap();
        for i in 0..200u32 {
            let (res, _) = a.send(i.to_be_bytes().to_vec()).await;
            res.unwrap();
            let (buf, _) = b.recv_buf_from().await.unwrap();
            assert_eq!(&buf[..], &i.to_be_bytes(), "{name}");
        }
    });
}

/// Polls `fut` once, goes once through the driver (the op is now in the
/// kernel on io_uring), and drops it.
async fn start_and_drop<F: std::future::Future>(fut: F) {
    let mut fut = Box::pin(fut);
    assert!(poll_once(&mut fut).await.is_pending());
    uringo::op::nop().await.unwrap();
}

#[test]
fn dropped_accepts_and_reads_leak_no_fd() {
    let _fds = fd_lock();
    on_each_builder(LIMIT, "unix cancellation", |name| async move {
        let dir = Dir::new();
        let fds = open_fds();
        for round in 0..5 {
            let path = dir.path(&format!("cancel-{round}.sock"));
            let listener = UnixListener::bind(&path).unwrap();
            start_and_drop(listener.accept()).await;
            // A connection the kernel accepts while nobody asks: the
            // listener's drop must close it.
            let client = UnixStream::connect(&path).await.unwrap();
            uringo::op::nop().await.unwrap();
            drop(listener);
            drop(client);

            let token = Arc::new(());
            let (client, _server) = UnixStream::pair().unwrap();
            start_and_drop(client.read(ArcBuf::new(64, &token))).await;
            start_and_drop(client.recv()).await;
            drop(client);
            let (a, _b) = UnixDatagram::pair().unwrap();
            start_and_drop(a.recv_buf_from()).await;
            start_and_drop(a.recv_from(ArcBuf::new(64, &token))).await;
            drop(a);
            tick_until(100, name, || Arc::strong_count(&token) == 1).await;
        }
        tick_until(100, name, || open_fds() == fds).await;
        assert!(Path::new(&dir.0).exists());
    });
}
