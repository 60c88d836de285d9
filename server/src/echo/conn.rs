//! One echo connection: each provided buffer the kernel fills is written back as it is.

use super::shutdown::{Pass, Shutdown};
use super::stats::CoreCounters;
use std::sync::Arc;
use uringo::net::TcpStream;

/// Echoes until the peer closes, resets, or the server shuts down. On shutdown the echo in
/// progress completes, then the connection closes.
pub async fn serve(
    stream: TcpStream,
    shutdown: Shutdown,
    counters: Arc<CoreCounters>,
    _pass: Pass,
) {
    counters.opened();
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!("set_nodelay: {e}");
    }
    let mut watch = shutdown.watch();
    loop {
        let buf = match watch.unless_triggered(stream.recv()).await {
            None => break,
            Some(Ok(Some(buf))) => buf,
            Some(Ok(None)) => break, // peer finished sending (FIN); everything received is echoed
            Some(Err(e)) => {
                tracing::debug!("recv: {e}");
                break;
            }
        };
        let len = buf.len();
        // The buffer goes to the kernel and back to its ring once the write completes.
        let (result, _buf) = stream.write_all(buf).await;
        if let Err(e) = result {
            tracing::debug!("send: {e}");
            break;
        }
        counters.echoed(len);
        if shutdown.is_triggered() {
            break; // that was the echo in flight; a client that never pauses must not stall exit
        }
    }
    drop(watch);
    if let Err(e) = stream.close().await {
        tracing::debug!("close: {e}");
    }
    counters.closed();
}
