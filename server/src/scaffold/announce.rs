//! The start-up announcement: once every core has bound its listener, the last one to do so
//! releases the port reservation, logs the start-up line and prints `listening on ADDR` on
//! stdout (the resolved address, for `--listen ...:0`; tests and scripts read it).

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::bind::Reservation;

/// Start-up bookkeeping shared by the cores of one server.
pub struct Startup {
    server: &'static str,
    cores: usize,
    addr: SocketAddr,
    bound: AtomicUsize,
    reservation: Mutex<Option<Reservation>>,
}

impl Startup {
    /// `server` names the server in the log line ("echo", "chat").
    pub fn new(server: &'static str, cores: usize, reservation: Reservation) -> Startup {
        Startup {
            server,
            cores,
            addr: reservation.addr(),
            bound: AtomicUsize::new(0),
            reservation: Mutex::new(Some(reservation)),
        }
    }

    /// The address every core binds.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Called by each core once it listens; the last call announces the server.
    pub fn core_bound(&self) {
        if self.bound.fetch_add(1, Ordering::AcqRel) + 1 != self.cores {
            return;
        }
        // Every listener is up: the port no longer needs holding.
        drop(
            self.reservation
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
        let (addr, cores, server) = (self.addr, self.cores, self.server);
        let features = uringo::features();
        tracing::info!(%addr, cores, backend = %features.backend, %features, "uringo-server {server} listening");
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "listening on {addr}");
        let _ = out.flush();
    }
}
