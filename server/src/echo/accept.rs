//! The accept loop of one core: hand each connection to its own task, ride out fd exhaustion.

use super::conn;
use super::ratelimit::{is_resource_exhaustion, Backoff, LogLimiter};
use super::shutdown::{Gate, Shutdown};
use super::stats::CoreCounters;
use std::rc::Rc;
use std::time::{Duration, Instant};
use uringo::net::TcpListener;

/// Accepts until shutdown. On EMFILE/ENFILE the pending connections wait in the kernel's
/// backlog; the loop pauses (5 ms doubling to 500 ms) and tries again, logging once a second.
pub async fn accept_loop(
    listener: &TcpListener,
    shutdown: &Shutdown,
    gate: &Gate,
    counters: &Rc<CoreCounters>,
) {
    let mut backoff = Backoff::new(Duration::from_millis(5), Duration::from_millis(500));
    let mut exhausted_log = LogLimiter::new(Duration::from_secs(1));
    let mut exhausted_since: Option<Instant> = None;
    while let Some(result) = shutdown.unless_triggered(listener.accept()).await {
        match result {
            Ok((stream, peer)) => {
                tracing::debug!(%peer, "accepted");
                if let Some(since) = exhausted_since.take() {
                    tracing::info!(
                        "accepting again after {:.1?} without file descriptors",
                        since.elapsed()
                    );
                }
                backoff.reset();
                uringo::spawn(conn::serve(
                    stream,
                    shutdown.clone(),
                    counters.clone(),
                    gate.enter(),
                ));
            }
            Err(e) if is_resource_exhaustion(&e) => {
                let now = Instant::now();
                exhausted_since.get_or_insert(now);
                if let Some(suppressed) = exhausted_log.allow(now) {
                    tracing::warn!(
                        "accept: {e}; backing off (same error {suppressed} more times in the last second)"
                    );
                }
                let pause = backoff.next_pause();
                if shutdown
                    .unless_triggered(uringo::time::sleep(pause))
                    .await
                    .is_none()
                {
                    break;
                }
            }
            // ECONNABORTED and the like concern one connection, not the listener.
            Err(e) => tracing::debug!("accept: {e}"),
        }
    }
}
