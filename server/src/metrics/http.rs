//! `GET /metrics` over HTTP: axum on hyper on uringo (`uringo::compat`).
//! Only this file knows HTTP; the rest of `metrics` only renders text.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;

use super::Metrics;

/// Binds `addr` on every core (so a bad or busy address fails here, at
/// start) and serves `/metrics` until `stop` completes. Returns the bound
/// address.
///
/// # Panics
/// Outside a runtime thread.
pub fn spawn(
    addr: SocketAddr,
    metrics: Metrics,
    stop: impl Future<Output = ()> + 'static,
) -> io::Result<SocketAddr> {
    let server = uringo::compat::Server::bind(addr)
        .map_err(|e| io::Error::new(e.kind(), format!("--metrics {addr}: {e}")))?;
    let bound = server.local_addr();
    let router = Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(CONTENT_TYPE, super::CONTENT_TYPE)],
                    metrics.scrape().await,
                )
            }
        }),
    );
    drop(uringo::spawn(
        server.with_graceful_shutdown(stop).serve(router),
    ));
    tracing::info!("metrics on http://{bound}/metrics");
    Ok(bound)
}
