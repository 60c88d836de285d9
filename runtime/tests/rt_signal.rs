//! `signal::ctrl_c()` and `signal::shutdown()`: completed by a signal sent
//! to the process after they were created, and cheap to keep around (a
//! future polled many times, or dropped, holds no pile of wakers).
//!
//! One test function: the signals are process-wide.

mod support;

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use support::within;
use uringo::time::timeout;

struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

fn raise(signo: libc::c_int) {
    // SAFETY: sends a signal to this process; the runtime's handler is installed.
    assert_eq!(unsafe { libc::kill(libc::getpid(), signo) }, 0);
}

#[test]
fn signals_complete_their_futures_and_waiting_costs_one_waker() {
    within(Duration::from_secs(30), "signals", || {
        let rt = uringo::Builder::new().cores(2).pin(false).build().unwrap();
        rt.block_on(async {
            // Polled many times (as in a select! loop): one waker kept, not one per poll.
            let counted = Arc::new(Noop);
            let waker = Waker::from(counted.clone());
            let mut cx = Context::from_waker(&waker);
            let mut idle = Box::pin(uringo::signal::ctrl_c());
            for _ in 0..1000 {
                assert!(idle.as_mut().poll(&mut cx).is_pending());
            }
            // Ours: `counted` and `waker`; the future's: its entry in the
            // core's list and the copy it keeps to find that entry again.
            assert!(
                Arc::strong_count(&counted) <= 4,
                "{} wakers kept",
                Arc::strong_count(&counted) - 2
            );
            // Dropped without a signal: its waker goes with it.
            drop(idle);
            assert_eq!(
                Arc::strong_count(&counted),
                2,
                "a dropped signal future left its waker behind"
            );

            // SIGINT completes ctrl_c() and shutdown(), on this core and another.
            let waiting = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = waiting.clone();
            let on_core_1 = uringo::spawn_on(1, move || async move {
                let mut sig = Box::pin(uringo::signal::ctrl_c());
                assert!(
                    support::poll_once(&mut sig).await.is_pending(),
                    "no signal yet"
                );
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                sig.await.map(|()| uringo::core_id())
            });
            let ctrl_c = uringo::signal::ctrl_c();
            let shutdown = uringo::signal::shutdown();
            support::tick_until(100_000, "core 1 waiting", || {
                waiting.load(std::sync::atomic::Ordering::SeqCst)
            })
            .await;
            raise(libc::SIGINT);
            timeout(Duration::from_secs(5), ctrl_c)
                .await
                .expect("ctrl_c missed SIGINT")
                .unwrap();
            timeout(Duration::from_secs(5), shutdown)
                .await
                .expect("shutdown missed SIGINT")
                .unwrap();
            let core = timeout(Duration::from_secs(5), on_core_1)
                .await
                .expect("core 1 missed SIGINT");
            assert_eq!(core.unwrap(), 1);

            // SIGTERM completes shutdown() but not ctrl_c().
            let mut ctrl_c = Box::pin(uringo::signal::ctrl_c());
            let shutdown = uringo::signal::shutdown();
            raise(libc::SIGTERM);
            timeout(Duration::from_secs(5), shutdown)
                .await
                .expect("shutdown missed SIGTERM")
                .unwrap();
            assert!(
                support::poll_once(&mut ctrl_c).await.is_pending(),
                "ctrl_c completed on SIGTERM"
            );

            // A signal sent before the future was created does not complete it.
            let mut late = Box::pin(uringo::signal::ctrl_c());
            assert!(support::poll_once(&mut late).await.is_pending());
        });
    });
}
