//! `timeout` racing I/O completions.
//!
//! What is guaranteed, and asserted here:
//! - `timeout(d, stream.recv())` loses nothing: the multishot (or
//!   single-shot) recv belongs to the stream, not to the dropped future, so
//!   bytes that arrive as the deadline passes come out of the next `recv`.
//! - `timeout(d, stream.read(buf))`: when the timeout wins, the read is
//!   cancelled. Either the kernel cancelled it before it took any bytes
//!   (they come out of a later read), or it completed first and the bytes
//!   are in the buffer the runtime kept alive until that CQE and then
//!   dropped (invariant 1). Nothing else happens: no byte is duplicated,
//!   reordered or lost in any other way, which this test proves by
//!   inspecting every abandoned buffer when the runtime drops it.
//! - When the read completed before the timeout future is polled, its
//!   output wins over the expired deadline.

mod support;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use support::{builders, ops_in_flight, tick_until, within, Rng};
use uringo::net::TcpStream;
use uringo::time::{timeout, Elapsed};

const LIMIT: Duration = Duration::from_secs(60);
const CHUNKS: usize = 300;
/// Never in the data: marks bytes the kernel did not write.
const UNWRITTEN: u8 = 0xFF;
const CAP: usize = 256;

fn chunks(seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    (0..CHUNKS)
        .map(|_| {
            (0..1 + rng.below(200))
                .map(|_| rng.below(255) as u8)
                .collect()
        })
        .collect()
}

/// Sends `chunks` over `stream`, one per millisecond tick, from core 1,
/// then closes it.
fn spawn_paced_sender(stream: std::net::TcpStream, chunks: Vec<Vec<u8>>) -> uringo::JoinHandle<()> {
    uringo::spawn_on(1, move || async move {
        let stream = TcpStream::from_std(stream);
        let mut ticks = uringo::time::interval(Duration::from_millis(1));
        for chunk in chunks {
            ticks.tick().await;
            let (res, _) = stream.write_all(chunk).await;
            res.unwrap();
        }
    })
}

/// (read number, bytes, taken by a read whose timeout won)
type Log = Rc<RefCell<Vec<(usize, Vec<u8>, bool)>>>;

/// A read buffer that, if the runtime drops it without handing it back,
/// logs what the kernel wrote into it (the prefix before UNWRITTEN).
struct TrackedBuf {
    mem: Vec<u8>,
    filled: usize,
    seq: usize,
    log: Log,
    returned: bool,
}

impl TrackedBuf {
    fn new(seq: usize, log: &Log) -> TrackedBuf {
        TrackedBuf {
            mem: vec![UNWRITTEN; CAP],
            filled: 0,
            seq,
            log: log.clone(),
            returned: false,
        }
    }
}

impl Drop for TrackedBuf {
    fn drop(&mut self) {
        if !self.returned {
            let written = self.mem.iter().position(|&b| b == UNWRITTEN).unwrap_or(CAP);
            self.log
                .borrow_mut()
                .push((self.seq, self.mem[..written].to_vec(), true));
        }
    }
}

// SAFETY: the bytes live in the Vec's heap allocation, never reallocated.
unsafe impl uringo::buf::IoBuf for TrackedBuf {
    fn stable_ptr(&self) -> *const u8 {
        self.mem.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.filled
    }
}

// SAFETY: as above; all CAP bytes are allocated and initialised.
unsafe impl uringo::buf::IoBufMut for TrackedBuf {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.mem.as_mut_ptr()
    }
    fn bytes_total(&mut self) -> usize {
        CAP
    }
    /// # Safety
    /// The trait's contract: the first `n` bytes were written.
    unsafe fn set_init(&mut self, n: usize) {
        self.filled = self.filled.max(n);
    }
}

fn connected() -> (std::net::TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    (client, listener.accept().unwrap().0)
}

#[test]
fn read_under_racing_timeouts_loses_only_what_a_cancelled_read_took() {
    within(LIMIT, "read vs timeout", || {
        for (name, builder) in builders()
            .into_iter()
            .filter(|(n, _)| ["default", "no-defer-taskrun"].contains(n))
        {
            let rt = builder.build().unwrap();
            let sent = chunks(11);
            let (client, server) = connected();
            let (delivered, abandoned, timeouts) = rt.block_on(async {
                let base = ops_in_flight();
                let sender = spawn_paced_sender(client, sent.clone());
                let stream = TcpStream::from_std(server);
                let log: Log = Rc::default();
                let mut rng = Rng::new(5);
                let mut timeouts = 0;
                for seq in 0.. {
                    let deadline = Duration::from_micros(rng.below(2000));
                    match timeout(deadline, stream.read(TrackedBuf::new(seq, &log))).await {
                        Ok((n, mut buf)) => {
                            let n = n.unwrap();
                            buf.returned = true;
                            if n == 0 {
                                break;
                            }
                            log.borrow_mut().push((seq, buf.mem[..n].to_vec(), false));
                        }
                        Err(Elapsed { .. }) => timeouts += 1,
                    }
                }
                sender.await;
                tick_until(1000, name, || ops_in_flight() == base).await;
                let mut log = std::mem::take(&mut *log.borrow_mut());
                log.sort_by_key(|(seq, _, _)| *seq);
                let abandoned = log
                    .iter()
                    .filter(|(_, b, abandoned)| *abandoned && !b.is_empty())
                    .count();
                (
                    log.into_iter().flat_map(|(_, b, _)| b).collect::<Vec<u8>>(),
                    abandoned,
                    timeouts,
                )
            });
            assert!(timeouts > 0, "{name}: no timeout ever won, nothing raced");
            let sent: Vec<u8> = sent.concat();
            assert_eq!(
                delivered.len(),
                sent.len(),
                "{name}: bytes lost or duplicated"
            );
            assert!(delivered == sent, "{name}: bytes reordered");
            eprintln!("{name}: {timeouts} timeouts; {abandoned} chunks read into buffers of cancelled reads");
        }
    });
}

fn total(chunks: &[Vec<u8>]) -> usize {
    chunks.iter().map(Vec::len).sum()
}

#[test]
fn recv_under_racing_timeouts_loses_nothing() {
    within(LIMIT, "recv vs timeout", || {
        for (name, builder) in builders() {
            let rt = builder.build().unwrap();
            let sent = chunks(23);
            let (client, server) = connected();
            let (got, timeouts) = rt.block_on(async {
                let sender = spawn_paced_sender(client, sent.clone());
                let stream = TcpStream::from_std(server);
                let mut rng = Rng::new(9);
                let mut got = Vec::new();
                let mut timeouts = 0;
                while got.len() < total(&sent) {
                    match timeout(Duration::from_micros(rng.below(2000)), stream.recv()).await {
                        Ok(buf) => {
                            got.extend_from_slice(&buf.unwrap().expect("sender closed early"))
                        }
                        Err(Elapsed { .. }) => timeouts += 1,
                    }
                }
                sender.await;
                (got, timeouts)
            });
            assert!(timeouts > 0, "{name}: no timeout ever won, nothing raced");
            assert!(
                got == sent.concat(),
                "{name}: bytes lost, duplicated or reordered"
            );
        }
    });
}

#[test]
fn a_completion_already_reaped_wins_over_an_expired_deadline() {
    within(LIMIT, "ready wins", || {
        let rt = uringo::Builder::new().cores(1).pin(false).build().unwrap();
        rt.block_on(async {
            let (client, server) = connected();
            let server_fd = std::os::fd::AsRawFd::as_raw_fd(&server);
            let client = Rc::new(RefCell::new(client));
            let stream = Rc::new(TcpStream::from_std(server));
            for round in 0..20u8 {
                // Runs first in each tick (spawned first). Once the racer's
                // read is in the kernel, it sends the byte and then blocks the
                // core past the deadline: in the same tick the timer fires and
                // the read's completion is reaped, before the racer runs again.
                let c = client.clone();
                let blocker = uringo::spawn(async move {
                    uringo::op::nop().await.unwrap();
                    c.borrow_mut().write_all(&[round]).unwrap();
                    // Loopback delivery may be deferred on a loaded machine:
                    // wait until the byte is in the socket (so the kernel has
                    // queued the read's completion work) before stalling.
                    let mut pfd = libc::pollfd {
                        fd: server_fd,
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd for the duration of the call.
                    let ready = unsafe { libc::poll(&mut pfd, 1, 10_000) };
                    assert_eq!(ready, 1, "the byte never arrived");
                    std::thread::sleep(Duration::from_millis(3));
                });
                let s = stream.clone();
                let racer = uringo::spawn(async move {
                    timeout(Duration::from_millis(1), s.read(vec![0u8; 4])).await
                });
                blocker.await;
                let (n, buf) = racer
                    .await
                    .expect("the completed read must win over the expired deadline");
                assert_eq!(&buf[..n.unwrap()], &[round]);
            }
        });
    });
}

#[test]
fn timeout_expires_no_earlier_than_its_deadline_and_drops_the_future() {
    within(LIMIT, "timeout basics", || {
        let rt = uringo::Builder::new().cores(1).pin(false).build().unwrap();
        rt.block_on(async {
            struct Dropped(Rc<RefCell<bool>>);
            impl Drop for Dropped {
                fn drop(&mut self) {
                    *self.0.borrow_mut() = true;
                }
            }
            let flag = Rc::new(RefCell::new(false));
            let guard = Dropped(flag.clone());
            let start = std::time::Instant::now();
            let res = timeout(Duration::from_millis(20), async move {
                let _guard = guard;
                std::future::pending::<()>().await
            })
            .await;
            assert!(res.is_err());
            assert!(
                start.elapsed() >= Duration::from_millis(20),
                "fired early: {:?}",
                start.elapsed()
            );
            assert!(*flag.borrow(), "the timed-out future must be dropped");
            assert_eq!(timeout(Duration::from_secs(5), async { 3 }).await, Ok(3));
            assert_eq!(
                timeout(Duration::ZERO, async { 4 }).await,
                Ok(4),
                "ready beats a zero deadline"
            );
        });
    });
}

#[test]
fn a_read_whose_deadline_already_passed_may_take_bytes_into_its_abandoned_buffer() {
    within(LIMIT, "zero deadline", || {
        let rt = uringo::Builder::new().cores(1).pin(false).build().unwrap();
        rt.block_on(async {
            let base = ops_in_flight();
            let (mut client, server) = connected();
            let stream = TcpStream::from_std(server);
            let log: Log = Rc::default();
            let mut sent = Vec::new();
            for round in 0..20u8 {
                let bytes = [round; 3];
                client.write_all(&bytes).unwrap();
                sent.extend_from_slice(&bytes);
                // The read is submitted and cancelled in the same ring entry;
                // with the bytes already there the kernel may complete it first.
                let res = timeout(
                    Duration::ZERO,
                    stream.read(TrackedBuf::new(usize::from(round) * 2, &log)),
                )
                .await;
                // On epoll the read runs at its first poll and, with the
                // bytes there, is ready: a ready output beats the deadline
                // (the bytes are logged when its buffer drops).
                assert!(
                    res.is_err() || support::on_epoll(),
                    "a zero deadline wins over a read not yet submitted"
                );
                drop(res);
                tick_until(100, "abandoned read", || ops_in_flight() == base).await;
                // Read what the cancelled read did not take; the next round
                // starts from an empty socket.
                while log.borrow().iter().map(|(_, b, _)| b.len()).sum::<usize>() < sent.len() {
                    let (n, buf) = stream.read(vec![0u8; CAP]).await;
                    log.borrow_mut().push((
                        usize::from(round) * 2 + 1,
                        buf[..n.unwrap()].to_vec(),
                        false,
                    ));
                }
            }
            let mut log = std::mem::take(&mut *log.borrow_mut());
            log.sort_by_key(|(seq, _, _)| *seq);
            let taken = log
                .iter()
                .filter(|(_, b, abandoned)| *abandoned && !b.is_empty())
                .count();
            let delivered: Vec<u8> = log.into_iter().flat_map(|(_, b, _)| b).collect();
            assert!(
                delivered == sent,
                "bytes lost beyond the abandoned buffers, or reordered"
            );
            eprintln!("{taken} of 20 cancelled reads had taken their bytes");
        });
    });
}
