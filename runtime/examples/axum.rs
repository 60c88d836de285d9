//! A small JSON API in axum, served by uringo on every core.
//!
//! ```text
//! cargo run --release -p uringo --example axum --features tokio-io -- 127.0.0.1:3000
//! curl -s -XPOST localhost:3000/users -H 'content-type: application/json' -d '{"name":"ada"}'
//! curl -s localhost:3000/users/1
//! curl -s localhost:3000/users
//! curl -s localhost:3000/stats
//! ```
//! Ctrl-C stops it gracefully (requests in flight finish).
//!
//! The users live in one store shared by every core, behind a
//! `uringo::sync::RwLock`: an async, FIFO-fair lock usable from any core
//! (axum state must be `Send + Sync`, which it is), so a handler waiting for
//! the lock parks instead of blocking its core. The request counter is per core, in a
//! thread-local `RefCell`: a core is a thread and tasks never migrate, so
//! per-core state needs no lock at all.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uringo::sync::RwLock;

#[derive(Clone, Serialize)]
struct User {
    id: u64,
    name: String,
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
}

#[derive(Default)]
struct Store {
    next_id: u64,
    users: BTreeMap<u64, User>,
}

type Shared = Arc<RwLock<Store>>;

/// The largest accepted name, so a client cannot grow the store without bound by one request.
const MAX_NAME: usize = 100;
/// The most users the store keeps.
const MAX_USERS: usize = 100_000;

thread_local! {
    /// Requests this core has answered.
    static SERVED: RefCell<u64> = const { RefCell::new(0) };
}

fn count() {
    SERVED.with(|served| *served.borrow_mut() += 1);
}

async fn list(State(store): State<Shared>) -> Json<Vec<User>> {
    count();
    let store = store.read().await;
    Json(store.users.values().cloned().collect())
}

async fn get_user(
    State(store): State<Shared>,
    Path(id): Path<u64>,
) -> Result<Json<User>, StatusCode> {
    count();
    let store = store.read().await;
    store
        .users
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}

async fn create(
    State(store): State<Shared>,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), (StatusCode, &'static str)> {
    count();
    if new.name.is_empty() || new.name.len() > MAX_NAME {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "name must be 1 to 100 bytes",
        ));
    }
    let mut store = store.write().await;
    if store.users.len() >= MAX_USERS {
        return Err((StatusCode::INSUFFICIENT_STORAGE, "the store is full"));
    }
    store.next_id += 1;
    let user = User {
        id: store.next_id,
        name: new.name,
    };
    store.users.insert(user.id, user.clone());
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Serialize)]
struct Stats {
    core: usize,
    cores: usize,
    served_by_this_core: u64,
}

async fn stats() -> Json<Stats> {
    count();
    Json(Stats {
        core: uringo::core_id(),
        cores: uringo::cores(),
        served_by_this_core: SERVED.with(|served| *served.borrow()),
    })
}

fn app() -> Router {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{id}", get(get_user))
        .route("/stats", get(stats))
        .with_state(Arc::new(RwLock::new(Store::default())))
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1);
    let addr: SocketAddr = addr
        .as_deref()
        .unwrap_or("127.0.0.1:3000")
        .parse()
        .map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad address: {e}"),
            )
        })?;
    uringo::start(async move {
        println!(
            "axum on uringo: http://{addr} on {} cores; Ctrl-C stops it",
            uringo::cores()
        );
        uringo::compat::serve(addr, app()).await
    })
}
