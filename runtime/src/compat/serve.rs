//! `serve`: an axum `Router` on every core of the runtime, one
//! SO_REUSEPORT listener per core (the kernel spreads connections among
//! them), HTTP/1.1 and HTTP/2 (h2c by prior knowledge) on each connection,
//! and graceful shutdown.

use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use axum::Router;
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use socket2::{Domain, Socket, Type};

use super::drain::{ConnGuard, Drain};
use super::{LocalExecutor, TcpStream, Timer};
use crate::chan::{chan, Receiver, Sender};
use crate::net::TcpListener;

/// How long the accept loop pauses after an accept error (EMFILE, say), so
/// it neither spins nor gives up while connections finish and free fds.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Serves `router` on `addr` on every core of the current runtime until
/// Ctrl-C or SIGTERM, then shuts down gracefully: listeners close (new
/// connections are refused), requests in flight finish, idle keep-alive
/// connections close, and this returns once every connection is gone.
///
/// The uringo counterpart of `axum::serve(listener, router)`. See
/// [`Server`] to pick the port from the bound address or another shutdown
/// signal.
///
/// # Errors
/// If `addr` cannot be bound (address in use, say).
///
/// # Panics
/// Outside a runtime thread.
pub async fn serve(addr: SocketAddr, router: Router) -> io::Result<()> {
    Server::bind(addr)?.serve(router).await;
    Ok(())
}

/// A bound HTTP server, before it serves: [`serve`] with its parts exposed.
#[must_use = "a server does nothing until `serve` is awaited"]
pub struct Server {
    /// The listener of the core that bound, which serves on it.
    local: TcpListener,
    /// One more SO_REUSEPORT listener for each other core, by core id.
    others: Vec<(usize, std::net::TcpListener)>,
    addr: SocketAddr,
    signal: Pin<Box<dyn Future<Output = ()>>>,
}

impl Server {
    /// Binds `addr` once per core of the current runtime (SO_REUSEPORT);
    /// with port 0, every core gets the port the kernel chose for the
    /// first. All binding happens here, so an address in use (by another
    /// process, even one with SO_REUSEPORT) fails here.
    ///
    /// # Panics
    /// Outside a runtime thread.
    pub fn bind(addr: SocketAddr) -> io::Result<Server> {
        // The native bind refuses another process's listener on the address.
        let local = TcpListener::bind_reuseport(addr)?;
        let addr = local.local_addr()?;
        let here = crate::core_id();
        let mut others = Vec::new();
        for core in (0..crate::cores()).filter(|&core| core != here) {
            others.push((core, reuseport_listener(addr)?));
        }
        Ok(Server {
            local,
            others,
            addr,
            signal: Box::pin(shutdown_signal()),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Shuts down gracefully when `signal` completes instead of at Ctrl-C
    /// or SIGTERM.
    pub fn with_graceful_shutdown(mut self, signal: impl Future<Output = ()> + 'static) -> Server {
        self.signal = Box::pin(signal);
        self
    }

    /// Serves `router` on every core until the shutdown signal, then
    /// drains (see [`serve`]). Dropping this future starts the same
    /// shutdown, and the connections drain in the background.
    pub async fn serve(self, router: Router) {
        let (stop_tx, stop_rx) = chan::<()>(0);
        let _stop_on_drop = StopOnDrop(stop_tx.clone());
        let mut others = Vec::new();
        for (core, listener) in self.others {
            let (router, stop_rx) = (router.clone(), stop_rx.clone());
            others.push(crate::spawn_on(core, move || {
                serve_core(TcpListener::from_std(listener), router, stop_rx)
            }));
        }
        let local = crate::spawn(serve_core(self.local, router, stop_rx));
        let signal = self.signal;
        let watcher = crate::spawn(async move {
            signal.await;
            stop_tx.close();
        });
        local.await;
        for core in others {
            core.await;
        }
        watcher.abort();
    }
}

/// Closes the stop channel when dropped, so a dropped `serve` stops too.
struct StopOnDrop(Sender<()>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// A listening socket with SO_REUSEADDR and SO_REUSEPORT, as
/// [`TcpListener::bind_reuseport`] makes, but `Send`, for another core.
fn reuseport_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM.cloexec(), None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}

/// Ctrl-C or SIGTERM; never, if the handlers cannot be installed (said in
/// the log).
async fn shutdown_signal() {
    if let Err(e) = crate::signal::shutdown().await {
        tracing::error!("compat::serve: no graceful shutdown on signals: {e}");
        std::future::pending::<()>().await;
    }
}

/// One core's part: accept until `stop` closes, then drain.
async fn serve_core(listener: TcpListener, router: Router, stop: Receiver<()>) {
    let drain = Rc::new(Drain::default());
    let http = Rc::new(http_builder());
    loop {
        let accepted = match first_of(stop.recv(), listener.accept()).await {
            Either::Stop => break,
            Either::Other(accepted) => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let conn = serve_conn(stream, router.clone(), http.clone(), drain.enter());
                drop(crate::spawn(conn));
            }
            Err(e) => {
                tracing::warn!("compat::serve: accept failed: {e}");
                let pause = crate::time::sleep(ACCEPT_BACKOFF);
                if let Either::Stop = first_of(stop.recv(), pause).await {
                    break;
                }
            }
        }
    }
    drop(listener); // refuse new connections while the open ones finish
    drain.trigger();
    drain.idle().await;
}

/// HTTP/1.1 and HTTP/2 (told apart by the HTTP/2 preface), timers on the
/// core's wheel, background tasks on the core.
fn http_builder() -> auto::Builder<LocalExecutor> {
    let mut builder = auto::Builder::new(LocalExecutor);
    builder.http1().timer(Timer);
    builder.http2().timer(Timer);
    builder
}

async fn serve_conn(
    stream: crate::net::TcpStream,
    router: Router,
    http: Rc<auto::Builder<LocalExecutor>>,
    guard: ConnGuard,
) {
    // Responses are written whole; Nagle would only delay their last segment.
    let _ = stream.set_nodelay(true);
    let conn = http.serve_connection(TcpStream::new(stream), TowerToHyperService::new(router));
    let mut conn = pin!(conn);
    let mut asked_to_finish = false;
    let served = poll_fn(|cx| {
        if !asked_to_finish && guard.draining(cx.waker()) {
            asked_to_finish = true;
            conn.as_mut().graceful_shutdown();
        }
        conn.as_mut().poll(cx)
    })
    .await;
    if let Err(e) = served {
        tracing::debug!("compat::serve: connection ended: {e}");
    }
}

enum Either<T> {
    Stop,
    Other(T),
}

/// Waits for `stop` or `other`, whichever is first (`stop` if both are).
async fn first_of<S: Future, O: Future>(stop: S, other: O) -> Either<O::Output> {
    let (mut stop, mut other) = (pin!(stop), pin!(other));
    poll_fn(|cx| {
        if stop.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Either::Stop);
        }
        other.as_mut().poll(cx).map(Either::Other)
    })
    .await
}
