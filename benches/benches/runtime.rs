//! Micro benchmarks of the runtime core against tokio's current_thread runtime,
//! in the same process and the same run: spawn+join, wake from the same core,
//! wake from another thread, yield, an I/O round trip through the driver, sleep(0).
//!
//! Plain timing loops, interleaved rounds (each row runs on uringo, then on tokio,
//! then the next row, and the whole sweep repeats), medians of ns per operation
//! and the uringo/tokio ratio. Both runtimes run one thread, unpinned, with I/O
//! and timers enabled; both drive their tasks through plain `spawn` and the same
//! `Send` wake primitive (`uringo_benches::micro::Signal`).
//!
//! `cargo bench -p uringo-benches --bench runtime -- [--rounds N] [--quick] [FILTER]`

use std::time::Duration;

use uringo_benches::micro::{interleaved_medians, Row};
use uringo_benches::stats::{fixed, ratio, Table};

struct Options {
    rounds: usize,
    scale: u64,
    filter: Option<String>,
}

fn options() -> Options {
    let mut o = Options {
        rounds: 7,
        scale: 1,
        filter: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            // cargo bench passes --bench to harness = false targets.
            "--bench" => {}
            "--quick" => o.scale = 10,
            "--rounds" => {
                o.rounds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .expect("--rounds takes a positive number")
            }
            _ if a.starts_with("--") => panic!("unknown option {a}"),
            _ => o.filter = Some(a),
        }
    }
    o
}

fn main() {
    let o = options();
    type Run = fn(u64) -> Duration;
    let table: [(&str, u64, Run, Run); 6] = [
        (
            "spawn + join empty task",
            100_000,
            on_uringo::spawn_join,
            on_tokio::spawn_join,
        ),
        (
            "wake, same core (ping-pong round trip)",
            100_000,
            on_uringo::wake_local,
            on_tokio::wake_local,
        ),
        (
            "wake from another thread (round trip)",
            20_000,
            on_uringo::wake_remote,
            on_tokio::wake_remote,
        ),
        (
            "yield_now",
            200_000,
            on_uringo::yield_now,
            on_tokio::yield_now,
        ),
        (
            "I/O op round trip through the driver *",
            100_000,
            on_uringo::io_round_trip,
            on_tokio::io_round_trip,
        ),
        (
            "sleep(0)",
            1_000,
            on_uringo::sleep_zero,
            on_tokio::sleep_zero,
        ),
    ];
    let selected: Vec<_> = table
        .iter()
        .filter(|(name, ..)| o.filter.as_ref().is_none_or(|f| name.contains(f.as_str())))
        .collect();
    let rows: Vec<Row<'_>> = selected
        .iter()
        .map(|(name, ops, u, t)| Row {
            name,
            ops: (ops / o.scale).max(1),
            runs: vec![u as &dyn Fn(u64) -> Duration, t as &dyn Fn(u64) -> Duration],
        })
        .collect();
    eprintln!(
        "{} rounds, interleaved; medians of ns per operation",
        o.rounds
    );
    let medians = interleaved_medians(&rows, o.rounds);

    let mut t = Table::new([
        "operation",
        "ops/run",
        "uringo ns",
        "tokio ns",
        "uringo/tokio",
    ]);
    for (row, m) in rows.iter().zip(&medians) {
        t.row([
            row.name.to_string(),
            row.ops.to_string(),
            fixed(Some(m[0]), 1),
            fixed(Some(m[1]), 1),
            ratio(Some(m[0]), Some(m[1])),
        ]);
    }
    println!("{}", t.render());
    println!(
        "* uringo: an IORING_OP_NOP submitted and completed; tokio, which has no ring: an eventfd"
    );
    println!("  write, then awaiting its readiness from the reactor (epoll) and reading it.");
}

/// The uringo side: a one-core runtime, unpinned like tokio's.
mod on_uringo {
    use std::future::Future;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use uringo_benches::micro::Signal;

    fn in_task<F: Future<Output = Duration> + 'static>(f: F) -> Duration {
        let rt = uringo::Builder::new()
            .cores(1)
            .pin(false)
            .build()
            .expect("uringo runtime (is io_uring available?)");
        rt.block_on(async move { uringo::spawn(f).await })
    }

    pub fn spawn_join(n: u64) -> Duration {
        in_task(async move {
            let t = Instant::now();
            for _ in 0..n {
                uringo::spawn(async {}).await;
            }
            t.elapsed()
        })
    }

    pub fn wake_local(n: u64) -> Duration {
        in_task(async move {
            let (ping, pong) = (Signal::new(), Signal::new());
            let (ping2, pong2) = (ping.clone(), pong.clone());
            let partner = uringo::spawn(async move {
                for _ in 0..n {
                    ping2.wait().await;
                    pong2.notify();
                }
            });
            let t = Instant::now();
            for _ in 0..n {
                ping.notify();
                pong.wait().await;
            }
            let elapsed = t.elapsed();
            partner.await;
            elapsed
        })
    }

    pub fn wake_remote(n: u64) -> Duration {
        let ping = Arc::new(AtomicU64::new(0));
        let pong = Signal::new();
        let helper = super::spin_responder(n, ping.clone(), pong.clone());
        let elapsed = in_task(async move {
            let t = Instant::now();
            for i in 1..=n {
                ping.store(i, Ordering::Release);
                pong.wait().await;
            }
            t.elapsed()
        });
        helper.join().expect("responder thread");
        elapsed
    }

    pub fn yield_now(n: u64) -> Duration {
        in_task(async move {
            let t = Instant::now();
            for _ in 0..n {
                uringo::yield_now().await;
            }
            t.elapsed()
        })
    }

    pub fn io_round_trip(n: u64) -> Duration {
        in_task(async move {
            let t = Instant::now();
            for _ in 0..n {
                uringo::op::nop().await.expect("nop");
            }
            t.elapsed()
        })
    }

    pub fn sleep_zero(n: u64) -> Duration {
        in_task(async move {
            let t = Instant::now();
            for _ in 0..n {
                uringo::time::sleep(Duration::ZERO).await;
            }
            t.elapsed()
        })
    }
}

/// The tokio side: current_thread runtime with I/O and timers, plain `tokio::spawn`.
mod on_tokio {
    use std::future::Future;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;
    use uringo_benches::micro::Signal;

    fn in_task<F: Future<Output = Duration> + Send + 'static>(f: F) -> Duration {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async move { tokio::spawn(f).await.expect("benchmark task") })
    }

    pub fn spawn_join(n: u64) -> Duration {
        in_task(async move {
            let t = Instant::now();
            for _ in 0..n {
                tokio::spawn(async {}).await.expect("empty task");
            }
            t.elapsed()
        })
    }

    pub fn wake_local(n: u64) -> Duration {
        in_task(async move {
            let (ping, pong) = (Signal::new(), Signal::new());
            let (ping2, pong2) = (ping.clone(), pong.clone());
            let partner = tokio::spawn(async move {
                for _ in 0..n {
                    ping2.wait().await;
                    pong2.notify();
                }
            });
            let t = Instant::now();
            for _ in 0..n {
                ping.notify();
                pong.wait().await;
            }
            let elapsed = t.elapsed();
            partner.await.expect("partner task");
            elapsed
        })
    }

    pub fn wake_remote(n: u64) -> Duration {
        let ping = Arc::new(AtomicU64::new(0));
        let pong = Signal::new();
        let helper = super::spin_responder(n, ping.clone(), pong.clone());
        let elapsed = in_task(async move {
            let t = Instant::now();
            for i in 1..=n {
                ping.store(i, Ordering::Release);
                pong.wait().await;
            }
            t.elapsed()
        });
        helper.join().expect("responder thread");
        elapsed
    }

    pub fn yield_now(n: u64) -> Duration {
        in_task(async move {
            let t = Instant::now();
            for _ in 0..n {
                tokio::task::yield_now().await;
            }
            t.elapsed()
        })
    }

    pub fn io_round_trip(n: u64) -> Duration {
        in_task(async move {
            // SAFETY: eventfd has no memory preconditions; the result is checked below.
            let raw = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
            assert!(raw >= 0, "eventfd: {}", std::io::Error::last_os_error());
            // SAFETY: `raw` is a fresh descriptor that nothing else owns.
            let owned = unsafe { OwnedFd::from_raw_fd(raw) };
            // SAFETY: an OwnedFd keeps its descriptor open, and always the same one, until dropped.
            let fd = unsafe { AsyncFd::register_with_interest(owned, Interest::READABLE) }
                .expect("register eventfd");
            let one = 1u64.to_ne_bytes();
            let mut buf = [0u8; 8];
            let t = Instant::now();
            for _ in 0..n {
                // SAFETY: `one` is 8 readable bytes, the size an eventfd write takes.
                let w = unsafe { libc::write(fd.as_raw_fd(), one.as_ptr().cast(), 8) };
                assert_eq!(w, 8, "eventfd write");
                let mut ready = fd.readable().await.expect("eventfd readiness");
                // SAFETY: `buf` is 8 writable bytes, the size an eventfd read fills.
                let r = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
                assert_eq!(r, 8, "eventfd read");
                ready.clear_ready();
            }
            t.elapsed()
        })
    }

    pub fn sleep_zero(n: u64) -> Duration {
        in_task(async move {
            let t = Instant::now();
            for _ in 0..n {
                tokio::time::sleep(Duration::ZERO).await;
            }
            t.elapsed()
        })
    }
}

/// A thread that answers each `ping` value 1..=n by notifying `pong`. It spins rather than
/// blocks so that the figure is the runtime's cross-thread wake, not the thread's own wakeup.
fn spin_responder(
    n: u64,
    ping: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pong: uringo_benches::micro::Signal,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for i in 1..=n {
            while ping.load(std::sync::atomic::Ordering::Acquire) != i {
                std::hint::spin_loop();
            }
            pong.notify();
        }
    })
}
