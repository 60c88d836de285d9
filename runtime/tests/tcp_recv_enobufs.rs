//! Invariant 2: a multishot recv whose buffer ring runs dry (ENOBUFS) waits,
//! without spinning, until a buffer comes back, then re-arms: every byte
//! arrives, in order. On epoll, a recv finding the core's pool dry does the
//! same.

mod support;

use std::collections::VecDeque;
use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use support::{builders, within, Rng};
use uringo::buf::RecvBuf;
use uringo::net::TcpStream;

const BUFFERS: u16 = 2;
const BUF_SIZE: u32 = 64;
const TOTAL: usize = 256 * 1024;

struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// With every ring buffer held by the caller and more data waiting in the
/// socket, `recv` must stay pending and quiet (no wake storm) while the
/// ring turns, and deliver again once one buffer is dropped.
async fn dry_ring_waits_without_spinning(
    stream: &TcpStream,
    held: &mut VecDeque<RecvBuf>,
    got: &mut Vec<u8>,
) {
    let counter = Arc::new(CountWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut recv = Box::pin(stream.recv());
    let mut polls = 0;
    let mut seen = 0;
    for _ in 0..50 {
        let wakes = counter.0.load(Ordering::SeqCst);
        if polls == 0 || wakes != seen {
            seen = wakes;
            polls += 1;
            assert!(
                recv.as_mut().poll(&mut cx).is_pending(),
                "recv returned data with every buffer held"
            );
        }
        uringo::op::nop().await.unwrap();
    }
    // One poll to arm, at most one wake for the ENOBUFS completion itself.
    assert!(
        polls <= 3,
        "recv was woken {polls} times while the ring was dry: busy loop"
    );
    let before = counter.0.load(Ordering::SeqCst);
    held.pop_front();
    assert!(
        counter.0.load(Ordering::SeqCst) > before,
        "a returned buffer must wake the recv waiting for one"
    );
    loop {
        if let Poll::Ready(next) = recv.as_mut().poll(&mut cx) {
            let buf = next.unwrap().expect("data is still waiting");
            got.extend_from_slice(&buf);
            held.push_back(buf);
            return;
        }
        let before = counter.0.load(Ordering::SeqCst);
        support::tick_until(100, "re-armed recv", || {
            counter.0.load(Ordering::SeqCst) != before
        })
        .await;
    }
}

#[test]
fn multishot_recv_through_a_dry_buffer_ring_delivers_every_byte_in_order() {
    within(Duration::from_secs(60), "ENOBUFS", || {
        for (name, builder) in builders() {
            let rt = builder.recv_buffers(BUFFERS, BUF_SIZE).build().unwrap();
            let mut rng = Rng::new(7);
            let data: Vec<u8> = (0..TOTAL).map(|_| rng.next() as u8).collect();
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let server = listener.accept().unwrap().0;
            let sent = data.clone();
            let sender = std::thread::spawn(move || client.write_all(&sent));
            let got = rt.block_on(async {
                let stream = TcpStream::from_std(server);
                // Lends pool buffers: multishot recv, or any recv on epoll.
                let multishot = uringo::features().multishot_recv || support::on_epoll();
                let mut held: VecDeque<RecvBuf> = VecDeque::new();
                let mut got = Vec::with_capacity(TOTAL);
                let mut dry_checks = 0;
                loop {
                    if held.len() == usize::from(BUFFERS) {
                        if multishot && dry_checks < 5 && got.len() + 4 * BUF_SIZE as usize <= TOTAL
                        {
                            dry_checks += 1;
                            dry_ring_waits_without_spinning(&stream, &mut held, &mut got).await;
                            continue;
                        }
                        held.remove(rng.below(held.len() as u64) as usize);
                    }
                    let next = uringo::time::timeout(Duration::from_secs(10), stream.recv()).await;
                    let Some(buf) = next.expect("recv stalled").unwrap() else {
                        break;
                    };
                    if multishot {
                        assert!(
                            buf.is_provided() && buf.len() <= BUF_SIZE as usize,
                            "{name}: {buf:?}"
                        );
                    }
                    got.extend_from_slice(&buf);
                    // Hold 0, 1 or 2 buffers, released in random order.
                    held.push_back(buf);
                    while !held.is_empty() && rng.below(3) == 0 {
                        held.remove(rng.below(held.len() as u64) as usize);
                    }
                }
                assert!(
                    !multishot || dry_checks == 5,
                    "{name}: the ring never ran dry"
                );
                got
            });
            sender.join().unwrap().unwrap();
            assert_eq!(got.len(), TOTAL, "{name}: bytes lost");
            assert!(got == data, "{name}: bytes reordered or corrupted");
        }
    });
}
