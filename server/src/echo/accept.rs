//! The accept loop of one core: hand each connection to its own task, ride out fd exhaustion.

use super::conn;
use super::shutdown::{Gate, Shutdown};
use super::stats::CoreCounters;
use crate::scaffold::pacer::{AcceptPacer, Accepted};
use std::sync::Arc;
use std::time::Instant;
use uringo::net::TcpListener;

/// Accepts until shutdown. On EMFILE/ENFILE the pending connections wait in the kernel's
/// backlog; the loop pauses (5 ms doubling to 500 ms) and tries again, logging once a second.
pub async fn accept_loop(
    listener: &TcpListener,
    shutdown: &Shutdown,
    gate: &Gate,
    counters: &Arc<CoreCounters>,
) {
    let mut pacer = AcceptPacer::default();
    while let Some(result) = shutdown.unless_triggered(listener.accept()).await {
        match pacer.on_result(result, Instant::now()) {
            Accepted::Conn((stream, peer)) => {
                tracing::debug!(%peer, "accepted");
                uringo::spawn(conn::serve(
                    stream,
                    shutdown.clone().into_watch(),
                    counters.clone(),
                    gate.enter(),
                ));
            }
            Accepted::Pause(pause) => {
                let slept = shutdown.unless_triggered(uringo::time::sleep(pause)).await;
                if slept.is_none() {
                    break;
                }
            }
            Accepted::Skip => {}
        }
    }
}
