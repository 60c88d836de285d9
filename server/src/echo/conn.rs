//! One echo connection: each provided buffer the kernel fills is written back as it is.

use super::shutdown::{Pass, Watch};
use super::stats::CoreCounters;
use std::future::{poll_fn, Future};
use std::sync::Arc;
use uringo::net::TcpStream;

/// Echoes until the peer closes, resets, or the server shuts down. On shutdown the echo in
/// progress completes (`close` waits for its send), then the connection closes.
///
/// An idle connection is this future (in its task) and little else, so it is written to stay
/// small: an `async` block over the arguments (an `async fn` would keep them twice), the
/// shutdown watch passed in (made here, it would sit beside its latch), a receive polled in
/// place, and the runtime's flat `WriteBehind`.
/// `serve_future_stays_small` holds it there.
#[allow(clippy::manual_async_fn)]
pub fn serve(
    stream: TcpStream,
    mut watch: Watch,
    counters: Arc<CoreCounters>,
    pass: Pass,
) -> impl Future<Output = ()> {
    async move {
        counters.opened();
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("set_nodelay: {e}");
        }
        loop {
            let recv = poll_fn(|cx| stream.poll_recv(cx));
            let len;
            // The buffer goes to the kernel and back to its ring once the send completes, which
            // the driver sees to: this task is not woken for it (`write_behind`). It is bound
            // inside the block only, so the future keeps no second place for it.
            let sent = {
                let buf = match watch.unless_triggered(recv).await {
                    None => break,
                    Some(Ok(Some(buf))) => buf,
                    Some(Ok(None)) => break, // peer finished sending (FIN); all is echoed
                    Some(Err(e)) => {
                        tracing::debug!("recv: {e}");
                        break;
                    }
                };
                len = buf.len();
                stream.write_behind(buf)
            }
            .await;
            if let Err(e) = sent {
                tracing::debug!("send: {e}"); // this echo's, or the previous one's
                break;
            }
            counters.echoed(len);
            if watch.is_triggered() {
                break; // that was the echo in flight; a client that never pauses must not stall exit
            }
        }
        drop(watch);
        if let Err(e) = stream.close().await {
            tracing::debug!("close: {e}");
        }
        counters.closed();
        drop(pass); // the gate counts this connection until here
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::echo::shutdown::{Gate, Shutdown};
    use uringo::net::TcpListener;

    /// An idle echo connection is this future in one task, and every byte of it is paid per
    /// connection (idle-mem, README "Memory"): it grew back to 544 bytes once through nested
    /// write futures and arguments kept twice.
    #[test]
    fn serve_future_stays_small() {
        let rt = uringo::Builder::new().cores(1).build().expect("runtime");
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
            let addr = listener.local_addr().expect("addr");
            let _client = TcpStream::connect(addr).await.expect("connect");
            let (stream, _) = listener.accept().await.expect("accept");
            let gate = Gate::default();
            let watch = Shutdown::default().into_watch();
            let fut = serve(stream, watch, Arc::default(), gate.enter());
            let size = std::mem::size_of_val(&fut);
            assert!(size <= 200, "the echo connection future is {size} bytes");
        });
    }
}
